#define _GNU_SOURCE
#include "rootfs.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "syscalls.h"

#define SYMLINK_BUDGET 40

const char *fd_path(int fd, char buf[FD_PATH_MAX])
{
        snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
        return buf;
}

/* mount(2) onto what `fd` names.  A directory is entered and mounted on as
 * ".": a /proc/self/fd/N target has the kernel build this new process's proc
 * entries on every mount (some 7 us each, measured).  A file (or a directory
 * we may not enter) goes by its /proc/self/fd path.  Changes the cwd, which
 * means nothing before pivot_root. */
static int mount_on(int fd, const char *source, const char *type, unsigned long flags, const void *data)
{
        if (fchdir(fd) == 0)
                return mount(source, ".", type, flags, data);
        char buf[FD_PATH_MAX];
        return mount(source, fd_path(fd, buf), type, flags, data);
}

static bool same_inode(int a, int b)
{
        struct stat sa, sb;
        return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* What RESOLVE_NO_MAGICLINKS refuses: procfs links that stand for an
 * object rather than a path (/proc/PID/root, /proc/PID/fd/N, ns/...).
 * Their text is absolute or not a path at all (`pipe:[12]`), where the
 * plain procfs links (/proc/self, /proc/mounts) are relative. */
static bool is_magic_link(int fd, const char *target)
{
        struct statfs sf;
        return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC &&
               (target[0] == '/' || strchr(target, ':'));
}

enum walk_create { WALK_OPEN, WALK_MKDIR, WALK_MKFILE };

/* Open one component below `dir` without following it, first creating it
 * when asked (a directory, or for the last component with WALK_MKFILE an
 * empty file). */
static int open_component(int dir, const char *name, enum walk_create create, bool last)
{
        int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT || create == WALK_OPEN)
                return fd;
        if (create == WALK_MKFILE && last) {
                int f = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (f < 0 && errno != EEXIST)
                        return -1;
                if (f >= 0)
                        close(f);
        } else if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST) {
                return -1;
        }
        return openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

/* One component at a time with O_NOFOLLOW: symlinks re-rooted at `rootfd`,
 * ".." never above it, magic links refused (ELOOP, as openat2 does).  With
 * `create`, what is missing is made along the way, so a dangling symlink
 * gets its target made inside the rootfs (as runc does). */
static int walk(int rootfd, const char *path, int flags, enum walk_create create)
{
        _cleanup_close_ int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        _cleanup_free_ char *rest = xstrdup(path);
        int links = 0;
        char *p = rest;
        while (cur >= 0 && *p) {
                size_t n = strcspn(p, "/");
                bool slash = p[n] == '/';
                char *next = p + n + slash;
                p[n] = '\0';
                if (n == 0 || strcmp(p, ".") == 0 || (strcmp(p, "..") == 0 && same_inode(cur, rootfd))) {
                        p = next;
                        continue;
                }
                int fd = open_component(cur, p, create, !slash && !*next);
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
                        if (slash && !S_ISDIR(st.st_mode)) {
                                errno = ENOTDIR;
                                return -1;
                        }
                        continue;
                }
                char target[PATH_MAX];
                ssize_t len = readlinkat(fd, "", target, sizeof target - 1);
                if (len >= 0)
                        target[len] = '\0';
                bool magic = len >= 0 && is_magic_link(fd, target);
                close(fd);
                if (len < 0 || ++links > SYMLINK_BUDGET || magic) {
                        errno = len < 0 ? errno : ELOOP;
                        return -1;
                }
                if (target[0] == '/') {
                        close(cur);
                        cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
                }
                char *joined = *next || slash ? xasprintf("%s/%s", target, next) : xstrdup(target);
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

int rootfs_walk_open(int rootfd, const char *path, int flags)
{
        return walk(rootfd, path, flags, WALK_OPEN);
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
        return rootfs_walk_open(rootfd, path, flags);
}

int rootfs_mkpath(int rootfd, const char *path, bool file, berth_error **err)
{
        int fd = rootfs_open(rootfd, path, 0);
        if (fd >= 0)
                return fd;
        if (errno != ENOENT)
                return error_set(err, errno, "open `%s` in the rootfs", path);
        fd = walk(rootfd, path, 0, file ? WALK_MKFILE : WALK_MKDIR);
        if (fd < 0)
                return error_set(err, errno, "create `%s` in the rootfs", path);
        return fd;
}

/* Flags a remount must keep: in a user namespace the kernel refuses to drop locked ones. */
static unsigned long mount_flags_of(int fd)
{
        static const struct {
                unsigned long st, ms;
        } map[] = {{ST_RDONLY, MS_RDONLY},     {ST_NOSUID, MS_NOSUID},
                   {ST_NODEV, MS_NODEV},       {ST_NOEXEC, MS_NOEXEC},
                   {ST_NOATIME, MS_NOATIME},   {ST_NODIRATIME, MS_NODIRATIME},
                   {ST_RELATIME, MS_RELATIME}, {ST_SYNCHRONOUS, MS_SYNCHRONOUS}};
        struct statvfs sv;
        unsigned long flags = 0;
        if (fstatvfs(fd, &sv) == 0)
                for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                        if (sv.f_flag & map[i].st)
                                flags |= map[i].ms;
        return flags;
}

static const unsigned long PROPAGATION = MS_PRIVATE | MS_SHARED | MS_SLAVE | MS_UNBINDABLE;
static const unsigned long ATIME = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
/* What a bind remount can change: the flags of the mount, not of the filesystem. */
static const unsigned long SETTABLE = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                      MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

/* Everything the mounts of one container share. */
struct mount_env {
        const struct spec *s;
        const struct cgroup *cg;
        int rootfd;
        const int *idmap_fds; /* per mount, -1 when not id-mapped; NULL when none is */
        bool userns;          /* the init is in a user namespace: some mounts need another way */
        int cwd;              /* the cwd berth was called in (mount_on moves away from it) */
};

static int reopen_dir(int fd)
{
        char buf[FD_PATH_MAX];
        return open(fd_path(fd, buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* A read-only tree where mount_setattr(2) exists; else only its top. */
static int remount_ro(int fd, bool rec)
{
        struct berth_mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        if (rec && sys_mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) == 0)
                return 0;
        if (rec && errno != ENOSYS)
                return -1;
        return mount_on(fd, NULL, NULL, mount_flags_of(fd) | MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
}

static int remount_flags(int fd, const struct spec_mount *m, unsigned long flags, berth_error **err)
{
        unsigned long keep = mount_flags_of(fd) & ~m->clear_flags;
        if (flags & ATIME)
                keep &= ~ATIME;
        if (mount_on(fd, NULL, NULL, keep | (flags & SETTABLE) | MS_BIND | MS_REMOUNT, NULL) < 0)
                return error_set(err, errno, "remount `%s`", m->destination);
        return 0;
}

/* Settle what the mount now at the destination still needs: its flags
 * (which a bind mount only takes through a remount), the recursive
 * attributes (`rro`, `rnosuid`, ...) and propagation. */
static int mount_finish(const struct mount_env *e, const struct spec_mount *m, unsigned long flags,
                        bool remount, berth_error **err)
{
        bool rec_attrs = m->rec_attr_set || m->rec_attr_clear;
        if (!remount && !rec_attrs && !m->propagation)
                return 0;
        /* Re-resolved: the fd used to mount still names the directory beneath the new mount. */
        _cleanup_close_ int fd = rootfs_open(e->rootfd, m->destination, 0);
        if (fd < 0)
                return error_set(err, errno, "open mount `%s`", m->destination);
        if (remount && remount_flags(fd, m, flags, err) < 0)
                return -1;
        struct berth_mount_attr attr = {.attr_set = m->rec_attr_set, .attr_clr = m->rec_attr_clear};
        if (rec_attrs && sys_mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) < 0)
                return error_set(err, errno, "set recursive mount options of `%s`%s", m->destination,
                                 errno == ENOSYS ? " (this kernel has no mount_setattr)" : "");
        if (m->propagation && mount_on(fd, NULL, NULL, m->propagation, NULL) < 0)
                return error_set(err, errno, "set propagation of `%s`", m->destination);
        return 0;
}

static bool is_bind(const struct spec_mount *m)
{
        return (m->flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0);
}

static bool bind_needs_remount(const struct spec_mount *m)
{
        return ((m->flags | m->clear_flags) & SETTABLE) != 0;
}

/* A bind mount, or the id-mapped tree the parent made (`idfd`).  The source
 * is a host path the caller chose, so symlinks in it are followed as the
 * host sees them, once: the mount is made from what was opened. */
static int mount_bind(const struct mount_env *e, const struct spec_mount *m, int idfd, berth_error **err)
{
        _cleanup_free_ char *src = NULL;
        _cleanup_close_ int srcfd = -1;
        if (idfd < 0) {
                if (!m->source)
                        return error_set(err, EINVAL, "mount `%s`: bind mount without a source",
                                         m->destination);
                src = m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", e->s->bundle, m->source);
                srcfd = open(src, O_PATH | O_CLOEXEC);
        }
        int from = idfd >= 0 ? idfd : srcfd;
        struct stat st;
        if (from < 0 || fstat(from, &st) < 0)
                return error_set(err, errno, "mount `%s` on `%s`", src ? src : m->source, m->destination);
        _cleanup_close_ int dest = rootfs_mkpath(e->rootfd, m->destination, !S_ISDIR(st.st_mode), err);
        if (dest < 0)
                return -1;
        char sbuf[FD_PATH_MAX];
        int r = idfd >= 0 ? sys_move_mount(idfd, "", dest, "",
                                           MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
                          : mount_on(dest, fd_path(srcfd, sbuf), NULL, MS_BIND | (m->flags & MS_REC), NULL);
        if (r < 0)
                return error_set(err, errno, "mount `%s` on `%s`", src ? src : m->source, m->destination);
        return mount_finish(e, m, m->flags, bind_needs_remount(m), err);
}

/* The kernel lets a user namespace mount sysfs only with a network
 * namespace it owns, and mqueue only with an IPC namespace it owns; like
 * runc and crun, berth then binds the host's instead (sysfs with its
 * submounts, read-only throughout when asked). */
static int mount_userns_fallback(const struct mount_env *e, const struct spec_mount *m, berth_error **err)
{
        bool sysfs = strcmp(m->type, "sysfs") == 0;
        const char *host = sysfs ? "/sys" : "/dev/mqueue";
        if (access(host, F_OK) < 0 && errno == ENOENT)
                return error_set(
                        err, EPERM,
                        "mount `%s` on `%s`: in a user namespace this needs a%s namespace of its own "
                        "(and the host has no `%s` to bind instead)",
                        m->type, m->destination, sysfs ? " network" : "n IPC", host);
        struct spec_mount b = *m;
        b.type = (char *)"bind";
        b.source = (char *)host;
        b.flags = (m->flags & SETTABLE) | MS_BIND | (sysfs ? MS_REC : 0);
        if (sysfs && (m->flags & MS_RDONLY))
                b.rec_attr_set |= MOUNT_ATTR_RDONLY;
        return mount_bind(e, &b, -1, err);
}

static bool has_userns_fallback(const struct mount_env *e, const struct spec_mount *m, int errnum)
{
        return errnum == EPERM && e->userns && m->type &&
               (strcmp(m->type, "sysfs") == 0 || strcmp(m->type, "mqueue") == 0);
}

/* tmpcopyup: what the image had at the destination (`under`, opened before
 * the tmpfs covered it) copied into the new tmpfs. */
static int copy_into_mount(const struct mount_env *e, const struct spec_mount *m, int under,
                           berth_error **err)
{
        _cleanup_close_ int top = rootfs_open(e->rootfd, m->destination, O_DIRECTORY);
        _cleanup_close_ int dir = top < 0 ? -1 : reopen_dir(top);
        if (dir < 0)
                return error_set(err, errno, "tmpcopyup `%s`: open the new tmpfs", m->destination);
        return copyup_tree(under, dir, m->destination, err);
}

/* A source or options naming a relative path (overlay's lowerdir=...) are
 * read by the kernel from the cwd, which mount_on moves: such a mount is
 * made from the caller's cwd again (when the init could open it). */
static bool reads_cwd(const struct spec_mount *m)
{
        return (m->data && (strchr(m->data, '/') || (m->type && strcmp(m->type, "overlay") == 0))) ||
               (m->source && m->source[0] != '/' && strchr(m->source, '/'));
}

static int mount_from_cwd(const struct mount_env *e, int fd, const struct spec_mount *m, unsigned long flags)
{
        char buf[FD_PATH_MAX];
        if (e->cwd >= 0 && fchdir(e->cwd) < 0)
                return -1;
        return mount(m->source, fd_path(fd, buf), m->type, flags, m->data);
}

/* Any filesystem by type: proc, sysfs, tmpfs, devpts, mqueue, overlay, ...,
 * with the options that are not flags passed through as its data. */
static int mount_fs(const struct mount_env *e, const struct spec_mount *m, berth_error **err)
{
        _cleanup_close_ int dest = rootfs_mkpath(e->rootfd, m->destination, false, err);
        if (dest < 0)
                return -1;
        _cleanup_close_ int under = -1;
        if (m->tmpcopyup && (under = reopen_dir(dest)) < 0)
                return error_set(err, errno, "tmpcopyup `%s`: open", m->destination);
        unsigned long flags = m->flags & ~PROPAGATION & ~MS_REC;
        /* With tmpcopyup the tmpfs is filled first and made read-only after. */
        unsigned long now = m->tmpcopyup ? flags & ~MS_RDONLY : flags;
        int r = reads_cwd(m) ? mount_from_cwd(e, dest, m, now)
                             : mount_on(dest, m->source, m->type, now, m->data);
        if (r < 0) {
                if (has_userns_fallback(e, m, errno))
                        return mount_userns_fallback(e, m, err);
                return error_set(err, errno, "mount `%s` on `%s`", m->type, m->destination);
        }
        if (m->tmpcopyup && copy_into_mount(e, m, under, err) < 0)
                return -1;
        return mount_finish(e, m, flags, now != flags, err);
}

/* The `remount` option: change the mount already at the destination. */
static int mount_remount(const struct mount_env *e, const struct spec_mount *m, berth_error **err)
{
        _cleanup_close_ int fd = rootfs_open(e->rootfd, m->destination, 0);
        if (fd < 0)
                return error_set(err, errno, "remount `%s`", m->destination);
        if (is_bind(m))
                return mount_finish(e, m, m->flags, true, err);
        unsigned long flags = m->flags & ~PROPAGATION & ~MS_REC;
        int r = reads_cwd(m) ? mount_from_cwd(e, fd, m, flags)
                             : mount_on(fd, m->source, m->type, flags, m->data);
        if (r < 0)
                return error_set(err, errno, "remount `%s`", m->destination);
        return mount_finish(e, m, m->flags, false, err);
}

static const char *base_name(const char *path)
{
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* One bind per v1 hierarchy into the tmpfs at `top`, named as on the host
 * (cpu,cpuacct, with cpu and cpuacct symlinks to it). */
static int bind_cgroup_dir(int top, const struct spec_mount *m, const struct cgroup_dir *d,
                           berth_error **err)
{
        const char *name = base_name(d->mount);
        _cleanup_free_ char *host = xasprintf("%s%s", d->mount, d->path);
        /* `top` is the tmpfs just mounted (and the cwd, mount_cgroup_v1):
         * nothing in it can be a symlink yet. */
        if (mkdirat(top, name, 0755) < 0 && errno != EEXIST)
                return error_set(err, errno, "create `%s/%s`", m->destination, name);
        if (mount(host, name, NULL, MS_BIND | MS_REC, NULL) < 0)
                return error_set(err, errno, "bind cgroup `%s` on `%s/%s`", host, m->destination, name);
        if (strchr(name, ',')) {
                _cleanup_free_ char *names = xstrdup(name);
                for (char *save, *c = strtok_r(names, ",", &save); c; c = strtok_r(NULL, ",", &save))
                        if (symlinkat(name, top, c) < 0 && errno != EEXIST)
                                return error_set(err, errno, "symlink `%s/%s`", m->destination, c);
        }
        return 0;
}

/* Without mount_setattr: remount each bind, then the tmpfs, one by one. */
static int remount_cgroup_binds(int top, const struct spec_mount *m, const struct cgroup *cg,
                                unsigned long flags, berth_error **err)
{
        unsigned long f = (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) | MS_BIND | MS_REMOUNT;
        for (size_t i = 0; i < cg->n; i++) {
                const char *name = base_name(cg->dirs[i].mount);
                _cleanup_close_ int mnt = openat(top, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (mnt < 0 || mount_on(mnt, NULL, NULL, f | mount_flags_of(mnt), NULL) < 0)
                        return error_set(err, errno, "remount cgroup `%s/%s`", m->destination, name);
        }
        if ((flags & MS_RDONLY) && remount_ro(top, false) < 0)
                return error_set(err, errno, "remount `%s` read-only", m->destination);
        return 0;
}

/* v1 and hybrid hosts: a tmpfs holding a bind of the container's own
 * directory in each hierarchy.  The flags (ro, nosuid, ...) go on the whole
 * tree at once with one recursive mount_setattr. */
static int mount_cgroup_v1(const struct mount_env *e, const struct spec_mount *m, int dest,
                           unsigned long flags, berth_error **err)
{
        if (mount_on(dest, "tmpfs", "tmpfs", flags & ~MS_RDONLY, "mode=755") < 0)
                return error_set(err, errno, "mount `tmpfs` on `%s`", m->destination);
        _cleanup_close_ int top = rootfs_open(e->rootfd, m->destination, O_DIRECTORY);
        if (top < 0 || fchdir(top) < 0)
                return error_set(err, errno, "open `%s`", m->destination);
        for (size_t i = 0; i < e->cg->n; i++)
                if (bind_cgroup_dir(top, m, &e->cg->dirs[i], err) < 0)
                        return -1;
        struct berth_mount_attr attr = {
                .attr_set = ((flags & MS_RDONLY) ? MOUNT_ATTR_RDONLY : 0) |
                            ((flags & MS_NOSUID) ? MOUNT_ATTR_NOSUID : 0) |
                            ((flags & MS_NODEV) ? MOUNT_ATTR_NODEV : 0) |
                            ((flags & MS_NOEXEC) ? MOUNT_ATTR_NOEXEC : 0),
        };
        if (!attr.attr_set || sys_mount_setattr(top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) == 0)
                return 0;
        if (errno != ENOSYS)
                return error_set(err, errno, "set the flags of `%s`", m->destination);
        return remount_cgroup_binds(top, m, e->cg, flags, err);
}

/* A bind of `host` standing in for the cgroup filesystem. */
static int mount_cgroup_bind(const struct mount_env *e, const struct spec_mount *m, const char *host,
                             berth_error **err)
{
        struct spec_mount b = *m;
        b.type = (char *)"bind";
        b.source = (char *)host;
        b.flags = (m->flags & SETTABLE) | MS_BIND | MS_REC;
        if (m->flags & MS_RDONLY)
                b.rec_attr_set |= MOUNT_ATTR_RDONLY;
        return mount_bind(e, &b, -1, err);
}

/* The `cgroup` type: cgroup2 on a unified host (honouring the cgroup
 * namespace the init is in), the v1 layout elsewhere.  Without a cgroup of
 * its own (a rootless caller could not make one) the container gets the
 * host's hierarchies, and in a user namespace without a cgroup namespace of
 * its own (where the kernel refuses cgroup2) a bind of its directory. */
static int mount_cgroup(const struct mount_env *e, const struct spec_mount *m, berth_error **err)
{
        const struct cgroup *cg = e->cg;
        if (!cg || cg->n == 0)
                return mount_cgroup_bind(e, m, "/sys/fs/cgroup", err);
        _cleanup_close_ int dest = rootfs_mkpath(e->rootfd, m->destination, false, err);
        if (dest < 0)
                return -1;
        unsigned long flags = m->flags & ~PROPAGATION & ~MS_REC;
        bool unified = cg->n == 1 && cg->dirs[0].v2 && strcmp(cg->dirs[0].mount, "/sys/fs/cgroup") == 0;
        if (unified && mount_on(dest, "cgroup2", "cgroup2", flags, NULL) < 0) {
                if (errno != EPERM || !e->userns)
                        return error_set(err, errno, "mount `cgroup2` on `%s`", m->destination);
                _cleanup_free_ char *own = cgroup_dir_path(&cg->dirs[0]);
                return mount_cgroup_bind(e, m, own, err);
        }
        if (!unified && mount_cgroup_v1(e, m, dest, flags, err) < 0)
                return -1;
        return mount_finish(e, m, flags, false, err);
}

static int mount_one(const struct mount_env *e, size_t i, berth_error **err)
{
        const struct spec_mount *m = &e->s->mounts[i];
        if (m->flags & MS_REMOUNT)
                return mount_remount(e, m, err);
        if (is_bind(m))
                return mount_bind(e, m, e->idmap_fds ? e->idmap_fds[i] : -1, err);
        if (m->type && strcmp(m->type, "cgroup") == 0)
                return mount_cgroup(e, m, err);
        return mount_fs(e, m, err);
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

/* The host's /dev/null: masking with the container's own /dev/null would
 * bind whatever the image put there (a symlink to
 * /proc/sys/kernel/core_pattern, say) over the masked path, writable
 * (CVE-2025-31133). */
static int open_host_null(berth_error **err)
{
        _cleanup_close_ int fd = open("/dev/null", O_PATH | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return error_set(err, errno, "open the host's `/dev/null`");
        if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
                return error_set(err, 0, "open the host's `/dev/null`: not the null device");
        return steal_fd(&fd);
}

/* Each path resolved inside the rootfs, where the container's /proc and
 * /sys are mounted by now (a symlink is followed as it would be after
 * pivot_root, so never out of the rootfs); files are covered by the host's
 * /dev/null, directories by an empty read-only tmpfs.  Done before
 * pivot_root, while the host's /dev/null is still in this mount tree. */
static int mask_paths(int root, char **paths, int devnull, berth_error **err)
{
        char src[FD_PATH_MAX];
        for (size_t i = 0; paths && paths[i]; i++) {
                _cleanup_close_ int fd = rootfs_open(root, paths[i], 0);
                struct stat st;
                if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
                        continue;
                if (fd < 0 || fstat(fd, &st) < 0)
                        return error_set(err, errno, "mask `%s`", paths[i]);
                int r = S_ISDIR(st.st_mode) ? mount_on(fd, "tmpfs", "tmpfs", MS_RDONLY, "size=0")
                                            : mount_on(fd, fd_path(devnull, src), NULL, MS_BIND, NULL);
                if (r < 0)
                        return error_set(err, errno, "mask `%s`", paths[i]);
        }
        return 0;
}

/* A read-only copy of the tree at `fd` put over it: cloned detached, made
 * read-only, moved into place; else (no new mount API) bound onto itself,
 * re-resolved and remounted. */
static int bind_ro(int root, const char *path, int fd)
{
        struct berth_mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        _cleanup_close_ int tree =
                sys_open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (tree >= 0 && sys_mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) == 0)
                return sys_move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        if (errno != ENOSYS)
                return -1;
        char buf[FD_PATH_MAX];
        if (mount_on(fd, fd_path(fd, buf), NULL, MS_BIND | MS_REC, NULL) < 0)
                return -1;
        _cleanup_close_ int mnt = rootfs_open(root, path, 0);
        return mnt < 0 ? -1 : remount_ro(mnt, true);
}

static int readonly_paths(int root, char **paths, berth_error **err)
{
        for (size_t i = 0; paths && paths[i]; i++) {
                _cleanup_close_ int fd = rootfs_open(root, paths[i], 0);
                if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
                        continue;
                if (fd < 0 || bind_ro(root, paths[i], fd) < 0)
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

/* The mounts, devices and cwd inside the rootfs, still seen from the host's root. */
static int populate(const struct mount_env *e, berth_error **err)
{
        for (size_t i = 0; i < e->s->n_mounts; i++)
                if (mount_one(e, i, err) < 0)
                        return -1;
        if (devices_create(e->s, e->rootfd, dev_is_fresh(e->s), err) < 0)
                return -1;
        /* The cwd is made while the root is still writable (root.readonly comes last). */
        _cleanup_close_ int cwd = rootfs_mkpath(e->rootfd, e->s->process.cwd, false, err);
        if (cwd < 0) {
                error_wrap(err, "process.cwd");
                return -1;
        }
        return 0;
}

static int protect_paths(const struct mount_env *e, berth_error **err)
{
        _cleanup_close_ int devnull = -1;
        if (e->s->masked_paths && e->s->masked_paths[0] && (devnull = open_host_null(err)) < 0)
                return -1;
        if (mask_paths(e->rootfd, e->s->masked_paths, devnull, err) < 0)
                return -1;
        return readonly_paths(e->rootfd, e->s->readonly_paths, err);
}

/* After pivot_root: shared or unbindable propagation, read-only root. */
static int lock_down(const struct spec *s, unsigned long prop, berth_error **err)
{
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return error_set(err, errno, "open the new root");
        if ((prop & (MS_SHARED | MS_UNBINDABLE)) && mount(NULL, "/", NULL, prop, NULL) < 0)
                return error_set(err, errno, "set propagation of /");
        if (s->root_readonly && remount_ro(root, false) < 0)
                return error_set(err, errno, "remount / read-only");
        return 0;
}

/* mount_on left the cwd in some mount target: the create-time hooks start
 * from the caller's cwd, as before the mounts (else, as with runc, the rootfs). */
static int back_to_cwd(const struct mount_env *e, berth_error **err)
{
        if ((e->cwd >= 0 ? fchdir(e->cwd) : chdir(e->s->root_path)) < 0)
                return error_set(err, errno, "chdir back from the mounts");
        return 0;
}

int rootfs_prepare(const struct spec *s, const struct cgroup *cg, bool no_pivot, const int *idmap_fds,
                   int (*before_pivot)(void *data, berth_error **err), void *data, berth_error **err)
{
        /* Slave by default: host mounts still reach us, ours never reach the
         * host.  Shared and unbindable are given to the container's root only
         * (lock_down): shared now would send our mounts to the host, and an
         * unbindable root could not be bound to make the rootfs a mount. */
        unsigned long prop = s->rootfs_propagation ? s->rootfs_propagation : MS_SLAVE | MS_REC;
        unsigned long first = (prop & (MS_SHARED | MS_UNBINDABLE)) ? (MS_SLAVE | MS_REC) : prop;
        if (mount(NULL, "/", NULL, first, NULL) < 0)
                return error_set(err, errno, "set propagation of /");
        /* pivot_root needs the new root to be a mount point. */
        if (mount(s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
                return error_set(err, errno, "bind rootfs `%s`", s->root_path);
        _cleanup_close_ int rootfd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return error_set(err, errno, "open rootfs `%s`", s->root_path);
        /* The cwd berth was called in, where the init may search it (a root
         * mapped into a user namespace may not): -1 otherwise. */
        _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct mount_env e = {
                .cwd = cwd,
                .s = s,
                .cg = cg,
                .rootfd = rootfd,
                .idmap_fds = idmap_fds,
                .userns = s->namespaces[NS_USER].present,
        };
        if (populate(&e, err) < 0 || back_to_cwd(&e, err) < 0 ||
            (before_pivot && before_pivot(data, err) < 0) || protect_paths(&e, err) < 0 ||
            pivot(s->root_path, no_pivot, err) < 0)
                return -1;
        return lock_down(s, prop, err);
}
