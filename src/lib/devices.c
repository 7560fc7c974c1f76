#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "rootfs.h"

static const struct {
        const char *name;
        unsigned major, minor;
} default_devices[] = {
        {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct {
        const char *name, *target;
} default_links[] = {
        {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
        {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},         {"core", "/proc/kcore"},
};

/* mknod where the kernel lets us; in a user namespace it does not, so the
 * host's node is bind-mounted onto an empty file instead.  Returns 1 then:
 * the node is the host's, whose owner and mode are not ours to change. */
static int make_node(int dirfd, const char *name, const char *path, mode_t mode, dev_t dev, berth_error **err)
{
        if (mknodat(dirfd, name, mode, dev) == 0) {
                /* Exactly the mode asked for, whatever the umask or a default
                 * ACL of an image's own /dev. */
                if (fchmodat(dirfd, name, mode & 07777, 0) < 0)
                        return error_set(err, errno, "chmod `%s`", path);
                return 0;
        }
        if (errno == EEXIST) {
                /* config-linux.md: a file at the path that is not this device is an
                 * error.  The same node is not (Docker lists /dev/null and the like
                 * for privileged containers), nor a symlink (berth's /dev/ptmx). */
                struct stat st;
                if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    (S_ISLNK(st.st_mode) ||
                     ((st.st_mode & S_IFMT) == (mode & S_IFMT) && (S_ISFIFO(mode) || st.st_rdev == dev))))
                        return 0;
                return error_set(err, EEXIST, "mknod `%s`: something else is already there", path);
        }
        if (errno != EPERM || (!S_ISCHR(mode) && !S_ISBLK(mode)))
                return error_set(err, errno, "mknod `%s`", path);
        _cleanup_close_ int f = openat(dirfd, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (f < 0)
                return error_set(err, errno, "create `%s`", path);
        _cleanup_close_ int target = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        char buf[FD_PATH_MAX];
        if (target < 0 || mount(path, fd_path(target, buf), NULL, MS_BIND, NULL) < 0)
                return error_set(err, errno, "bind device `%s` from the host (mknod is not allowed here)",
                                 path);
        return 1;
}

static int create_defaults(int rootfd, berth_error **err)
{
        _cleanup_close_ int dev = rootfs_open(rootfd, "/dev", O_DIRECTORY);
        if (dev < 0)
                return error_set(err, errno, "open /dev in the rootfs");
        for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
                _cleanup_free_ char *path = xasprintf("/dev/%s", default_devices[i].name);
                dev_t d = makedev(default_devices[i].major, default_devices[i].minor);
                if (make_node(dev, default_devices[i].name, path, S_IFCHR | 0666, d, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < ARRAY_SIZE(default_links); i++)
                if (symlinkat(default_links[i].target, dev, default_links[i].name) < 0 && errno != EEXIST)
                        return error_set(err, errno, "symlink `/dev/%s`", default_links[i].name);
        return 0;
}

static mode_t device_type(char t)
{
        switch (t) {
        case 'b':
                return S_IFBLK;
        case 'p':
                return S_IFIFO;
        default:
                return S_IFCHR;
        }
}

static int create_configured(const struct spec_device *d, int rootfd, berth_error **err)
{
        _cleanup_free_ char *parent = xstrdup(d->path);
        char *slash = strrchr(parent, '/');
        *slash = '\0';
        _cleanup_close_ int dir = rootfs_mkpath(rootfd, *parent ? parent : "/", false, err);
        if (dir < 0)
                return -1;
        const char *name = slash + 1;
        mode_t perm = d->has_mode ? d->file_mode & 07777 : 0666;
        dev_t dev = makedev((unsigned)d->major, (unsigned)d->minor);
        int r = make_node(dir, name, d->path, device_type(d->type) | perm, dev, err);
        if (r != 0)
                return r < 0 ? -1 : 0;
        if ((d->has_uid || d->has_gid) && fchownat(dir, name, d->has_uid ? d->uid : (uid_t)-1,
                                                   d->has_gid ? d->gid : (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(err, errno, "chown `%s`", d->path);
        return 0;
}

int devices_create(const struct spec *s, int rootfd, bool defaults, berth_error **err)
{
        if (defaults && create_defaults(rootfd, err) < 0)
                return -1;
        for (size_t i = 0; i < s->n_devices; i++)
                if (create_configured(&s->devices[i], rootfd, err) < 0)
                        return -1;
        return 0;
}
