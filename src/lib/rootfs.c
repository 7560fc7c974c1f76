#define _GNU_SOURCE
#include "rootfs.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "syscalls.h"

#define SYMLINK_BUDGET 40

const char *fd_path(int fd, char buf[FD_PATH_MAX])
{
        snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
        return buf;
}

static bool same_inode(int a, int b)
{
        struct stat sa, sb;
        return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The fallback when openat2 is missing: one component at a time with
 * O_NOFOLLOW, symlinks re-rooted at `rootfd`, ".." never above it. */
static int walk_open(int rootfd, const char *path, int flags)
{
        _cleanup_close_ int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        _cleanup_free_ char *rest = xstrdup(path);
        int links = 0;
        char *p = rest;
        while (cur >= 0 && *p) {
                size_t n = strcspn(p, "/");
                char *next = p + n + (p[n] == '/');
                p[n] = '\0';
                if (n == 0 || strcmp(p, ".") == 0) {
                        p = next;
                        continue;
                }
                if (strcmp(p, "..") == 0 && same_inode(cur, rootfd)) {
                        p = next;
                        continue;
                }
                int fd = openat(cur, p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0) {
                        if (fd >= 0)
                                close(fd);
                        return -1;
                }
                if (!S_ISLNK(st.st_mode)) {
                        close(cur);
                        cur = fd;
                        p = next;
                        continue;
                }
                char target[PATH_MAX];
                ssize_t len = readlinkat(fd, "", target, sizeof target - 1);
                close(fd);
                if (len < 0 || ++links > SYMLINK_BUDGET) {
                        errno = len < 0 ? errno : ELOOP;
                        return -1;
                }
                target[len] = '\0';
                if (target[0] == '/') {
                        close(cur);
                        cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
                }
                char *joined = xasprintf("%s/%s", target, next);
                free(rest);
                rest = p = joined;
        }
        if (cur < 0)
                return -1;
        if (flags & O_DIRECTORY) {
                struct stat st;
                if (fstat(cur, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        errno = ENOTDIR;
                        return -1;
                }
        }
        return steal_fd(&cur);
}

int rootfs_open(int rootfd, const char *path, int flags)
{
        static bool no_openat2;
        if (!no_openat2) {
                struct berth_open_how how = {
                        .flags = (uint64_t)(O_PATH | O_CLOEXEC | flags),
                        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
                };
                int fd = sys_openat2(rootfd, path, &how);
                if (fd >= 0 || errno != ENOSYS)
                        return fd;
                no_openat2 = true;
        }
        return walk_open(rootfd, path, flags);
}

int rootfs_mkpath(int rootfd, const char *path, bool file, berth_error **err)
{
        int fd = rootfs_open(rootfd, path, 0);
        if (fd >= 0 || errno != ENOENT) {
                if (fd < 0)
                        return error_set(err, errno, "open `%s` in the rootfs", path);
                return fd;
        }
        _cleanup_free_ char *parent = xstrdup(path);
        char *slash = strrchr(parent, '/');
        const char *base = path + (slash - parent) + 1;
        if (!slash || !*base)
                return error_set(err, ENOENT, "open `%s` in the rootfs", path);
        *slash = '\0';
        _cleanup_close_ int pfd = rootfs_mkpath(rootfd, *parent ? parent : "/", false, err);
        if (pfd < 0)
                return -1;
        if (file) {
                int f = openat(pfd, base, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (f < 0 && errno != EEXIST)
                        return error_set(err, errno, "create file `%s` in the rootfs", path);
                if (f >= 0)
                        close(f);
        } else if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST) {
                return error_set(err, errno, "create directory `%s` in the rootfs", path);
        }
        fd = rootfs_open(rootfd, path, 0);
        if (fd < 0)
                return error_set(err, errno, "open `%s` in the rootfs", path);
        return fd;
}

/* Flags a remount must keep: in a user namespace the kernel refuses to drop locked ones. */
static unsigned long mount_flags_of(const char *target)
{
        static const struct {
                unsigned long st, ms;
        } map[] = {{ST_RDONLY, MS_RDONLY},     {ST_NOSUID, MS_NOSUID},
                   {ST_NODEV, MS_NODEV},       {ST_NOEXEC, MS_NOEXEC},
                   {ST_NOATIME, MS_NOATIME},   {ST_NODIRATIME, MS_NODIRATIME},
                   {ST_RELATIME, MS_RELATIME}, {ST_SYNCHRONOUS, MS_SYNCHRONOUS}};
        struct statvfs sv;
        unsigned long flags = 0;
        if (statvfs(target, &sv) == 0)
                for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                        if (sv.f_flag & map[i].st)
                                flags |= map[i].ms;
        return flags;
}

static int remount_ro(const char *target, unsigned long extra, bool rec)
{
        unsigned long flags = mount_flags_of(target) | MS_BIND | MS_REMOUNT | MS_RDONLY | extra;
        return mount(NULL, target, NULL, flags | (rec ? MS_REC : 0), NULL);
}

static const unsigned long PROPAGATION = MS_PRIVATE | MS_SHARED | MS_SLAVE | MS_UNBINDABLE;

/* Settle flags and propagation on the mount now at `dest` (re-resolved: the
 * fd used to mount still names the directory beneath the new mount). */
static int mount_finish(int rootfd, const struct spec_mount *m, unsigned long flags, berth_error **err)
{
        bool bind = flags & MS_BIND;
        unsigned long settable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                                 MS_RELATIME | MS_STRICTATIME | MS_SYNCHRONOUS;
        if (!(bind && (flags & settable)) && !m->propagation)
                return 0;
        _cleanup_close_ int fd = rootfs_open(rootfd, m->destination, 0);
        char buf[FD_PATH_MAX];
        if (fd < 0)
                return error_set(err, errno, "open mount `%s`", m->destination);
        if (bind && (flags & settable)) {
                unsigned long keep = mount_flags_of(fd_path(fd, buf)) & ~m->clear_flags;
                unsigned long f = keep | (flags & settable) | MS_BIND | MS_REMOUNT;
                if (mount(NULL, fd_path(fd, buf), NULL, f, NULL) < 0)
                        return error_set(err, errno, "remount `%s`", m->destination);
        }
        if (m->propagation && mount(NULL, fd_path(fd, buf), NULL, m->propagation, NULL) < 0)
                return error_set(err, errno, "set propagation of `%s`", m->destination);
        return 0;
}

static bool is_bind(const struct spec_mount *m)
{
        return (m->flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0);
}

static int mount_cgroup_v1(int rootfd, const struct spec_mount *m, const struct cgroup *cg, int dest,
                           berth_error **err);

static int mount_one(int rootfd, const struct spec_mount *m, const struct cgroup *cg, const char *bundle,
                     berth_error **err)
{
        bool bind = is_bind(m);
        _cleanup_free_ char *src = NULL;
        bool file = false;
        if (bind) {
                if (!m->source)
                        return error_set(err, EINVAL, "mount `%s`: bind mount without a source",
                                         m->destination);
                src = m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", bundle, m->source);
                struct stat st;
                if (stat(src, &st) < 0)
                        return error_set(err, errno, "mount `%s` on `%s`", src, m->destination);
                file = !S_ISDIR(st.st_mode);
        }
        _cleanup_close_ int dest = rootfs_mkpath(rootfd, m->destination, file, err);
        if (dest < 0)
                return -1;
        char buf[FD_PATH_MAX];
        const char *type = m->type && strcmp(m->type, "bind") ? m->type : NULL;
        if (!bind && type && strcmp(type, "cgroup") == 0)
                return mount_cgroup_v1(rootfd, m, cg, dest, err);
        unsigned long flags = m->flags & ~PROPAGATION & ~MS_REC;
        if (bind)
                flags = MS_BIND | (m->flags & MS_REC);
        if (mount(bind ? src : m->source, fd_path(dest, buf), type, flags, bind ? NULL : m->data) < 0)
                return error_set(err, errno, "mount `%s` on `%s`", type ? type : src, m->destination);
        return mount_finish(rootfd, m, m->flags | (bind ? MS_BIND : 0), err);
}

static const char *base_name(const char *path)
{
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* The `cgroup` mount type: cgroup2 on a unified host; on v1 and hybrid hosts
 * a tmpfs holding a bind of the container's own directory in each hierarchy,
 * named as on the host (cpu,cpuacct with cpu and cpuacct symlinks). */
static int mount_cgroup_v1(int rootfd, const struct spec_mount *m, const struct cgroup *cg, int dest,
                           berth_error **err)
{
        char buf[FD_PATH_MAX];
        unsigned long flags = m->flags & ~PROPAGATION & ~MS_REC;
        bool unified = cg->n == 1 && cg->dirs[0].v2 && strcmp(cg->dirs[0].mount, "/sys/fs/cgroup") == 0;
        if (unified) {
                if (mount("cgroup2", fd_path(dest, buf), "cgroup2", flags, NULL) < 0)
                        return error_set(err, errno, "mount `cgroup2` on `%s`", m->destination);
                return 0;
        }
        if (mount("tmpfs", fd_path(dest, buf), "tmpfs", flags & ~MS_RDONLY, "mode=755") < 0)
                return error_set(err, errno, "mount `tmpfs` on `%s`", m->destination);
        _cleanup_close_ int top = rootfs_open(rootfd, m->destination, O_DIRECTORY);
        if (top < 0)
                return error_set(err, errno, "open `%s`", m->destination);
        for (size_t i = 0; i < cg->n; i++) {
                const struct cgroup_dir *d = &cg->dirs[i];
                const char *name = base_name(d->mount);
                _cleanup_free_ char *host = xasprintf("%s%s", d->mount, d->path);
                if (mkdirat(top, name, 0755) < 0 && errno != EEXIST)
                        return error_set(err, errno, "create `%s/%s`", m->destination, name);
                _cleanup_close_ int sub = openat(top, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0 || mount(host, fd_path(sub, buf), NULL, MS_BIND | MS_REC, NULL) < 0)
                        return error_set(err, errno, "bind cgroup `%s` on `%s/%s`", host, m->destination,
                                         name);
                _cleanup_close_ int mnt = openat(top, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                unsigned long f =
                        (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) | MS_BIND | MS_REMOUNT;
                if (mnt < 0 ||
                    mount(NULL, fd_path(mnt, buf), NULL, f | mount_flags_of(fd_path(mnt, buf)), NULL) < 0)
                        return error_set(err, errno, "remount cgroup `%s/%s`", m->destination, name);
                if (strchr(name, ',')) {
                        _cleanup_free_ char *names = xstrdup(name);
                        for (char *save, *c = strtok_r(names, ",", &save); c; c = strtok_r(NULL, ",", &save))
                                if (symlinkat(name, top, c) < 0 && errno != EEXIST)
                                        return error_set(err, errno, "symlink `%s/%s`", m->destination, c);
                }
        }
        if ((flags & MS_RDONLY) && remount_ro(fd_path(dest, buf), 0, false) < 0) {
                _cleanup_close_ int again = rootfs_open(rootfd, m->destination, 0);
                if (again < 0 || remount_ro(fd_path(again, buf), 0, false) < 0)
                        return error_set(err, errno, "remount `%s` read-only", m->destination);
        }
        return 0;
}

static int pivot(const char *rootfs, bool no_pivot, berth_error **err)
{
        if (chdir(rootfs) < 0)
                return error_set(err, errno, "chdir to rootfs `%s`", rootfs);
        if (no_pivot) {
                if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0)
                        return error_set(err, errno, "move rootfs `%s` to /", rootfs);
        } else {
                /* pivot_root(".", "."): the old root ends up stacked on the new
                 * one and is detached at once, with no directory to clean up. */
                if (sys_pivot_root(".", ".") < 0)
                        return error_set(err, errno, "pivot_root into `%s`", rootfs);
                if (umount2(".", MNT_DETACH) < 0)
                        return error_set(err, errno, "detach the old root");
        }
        if (chdir("/") < 0)
                return error_set(err, errno, "chdir to /");
        return 0;
}

static int mask_paths(char **paths, berth_error **err)
{
        for (size_t i = 0; paths && paths[i]; i++) {
                struct stat st;
                if (lstat(paths[i], &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return error_set(err, errno, "mask `%s`", paths[i]);
                }
                int r = S_ISDIR(st.st_mode) ? mount("tmpfs", paths[i], "tmpfs", MS_RDONLY, "size=0")
                                            : mount("/dev/null", paths[i], NULL, MS_BIND, NULL);
                if (r < 0)
                        return error_set(err, errno, "mask `%s`", paths[i]);
        }
        return 0;
}

static int readonly_paths(char **paths, berth_error **err)
{
        for (size_t i = 0; paths && paths[i]; i++) {
                if (mount(paths[i], paths[i], NULL, MS_BIND | MS_REC, NULL) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return error_set(err, errno, "make `%s` read-only", paths[i]);
                }
                if (remount_ro(paths[i], 0, true) < 0)
                        return error_set(err, errno, "make `%s` read-only", paths[i]);
        }
        return 0;
}

static bool dev_is_fresh(const struct spec *s)
{
        bool fresh = false;
        for (size_t i = 0; i < s->n_mounts; i++)
                if (strcmp(s->mounts[i].destination, "/dev") == 0)
                        fresh = !is_bind(&s->mounts[i]);
        return fresh;
}

int rootfs_prepare(const struct spec *s, const struct cgroup *cg, bool no_pivot, berth_error **err)
{
        /* Slave by default: host mounts still reach us, ours never reach the host. */
        unsigned long prop = s->rootfs_propagation ? s->rootfs_propagation : MS_SLAVE | MS_REC;
        unsigned long first = (prop & MS_SHARED) ? (MS_SLAVE | MS_REC) : prop;
        if (mount(NULL, "/", NULL, first, NULL) < 0)
                return error_set(err, errno, "set propagation of /");
        /* pivot_root needs the new root to be a mount point. */
        if (mount(s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
                return error_set(err, errno, "bind rootfs `%s`", s->root_path);
        _cleanup_close_ int rootfd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return error_set(err, errno, "open rootfs `%s`", s->root_path);
        for (size_t i = 0; i < s->n_mounts; i++) {
                if (mount_one(rootfd, &s->mounts[i], cg, s->bundle, err) < 0)
                        return -1;
        }
        if (devices_create(s, rootfd, dev_is_fresh(s), err) < 0)
                return -1;
        /* The cwd is made while the root is still writable (root.readonly comes last). */
        _cleanup_close_ int cwd = rootfs_mkpath(rootfd, s->process.cwd, false, err);
        if (cwd < 0) {
                error_wrap(err, "process.cwd");
                return -1;
        }
        if (pivot(s->root_path, no_pivot, err) < 0)
                return -1;
        if (mask_paths(s->masked_paths, err) < 0 || readonly_paths(s->readonly_paths, err) < 0)
                return -1;
        if ((prop & MS_SHARED) && mount(NULL, "/", NULL, prop, NULL) < 0)
                return error_set(err, errno, "set propagation of /");
        if (s->root_readonly && remount_ro("/", 0, false) < 0)
                return error_set(err, errno, "remount / read-only");
        return 0;
}
