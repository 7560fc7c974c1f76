/* tmpcopyup: a tmpfs mounted over a directory of the image starts with
 * what the image had there.  The source is container-controlled, so every
 * name is opened with O_NOFOLLOW below the directory fd and symlinks are
 * recreated as symlinks; nothing is ever resolved through them. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "rootfs.h"

/* Deeper trees than this in an image mount point are refused rather than
 * risking the fd limit. */
#define COPYUP_DEPTH_MAX 128

struct copyup {
        const char *what;
        berth_error **err;
};

static int fail(struct copyup *c, const char *name, const char *op)
{
        return error_set(c->err, errno, "tmpcopyup `%s`: %s `%s`", c->what, op, name);
}

/* Owner, mode (after chown, which clears set-id bits) and times.  An owner
 * with no mapping in the container's user namespace cannot be given (EINVAL);
 * the copy then keeps the container root's. */
static int copy_attrs(struct copyup *c, int to, const char *name, const struct stat *st)
{
        if (fchownat(to, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
                return fail(c, name, "chown");
        if (!S_ISLNK(st->st_mode) && fchmodat(to, name, st->st_mode & 07777, 0) < 0)
                return fail(c, name, "chmod");
        struct timespec times[2] = {st->st_atim, st->st_mtim};
        if (utimensat(to, name, times, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(c, name, "set times of");
        return 0;
}

static int copy_file(struct copyup *c, int from, int to, const char *name, const struct stat *st)
{
        _cleanup_close_ int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
                return fail(c, name, "open");
        _cleanup_close_ int out =
                openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return fail(c, name, "create");
        for (off_t left = st->st_size; left > 0;) {
                ssize_t n = sendfile(out, in, NULL, left > INT_MAX ? INT_MAX : (size_t)left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return fail(c, name, "copy");
                if (n == 0)
                        break; /* the file shrank meanwhile */
                left -= n;
        }
        return 0;
}

static int copy_dir(struct copyup *c, int from, int to, int depth);

static int copy_entry(struct copyup *c, int from, int to, const char *name, int depth)
{
        struct stat st;
        if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(c, name, "stat");
        if (S_ISDIR(st.st_mode)) {
                if (mkdirat(to, name, 0700) < 0)
                        return fail(c, name, "create directory");
                _cleanup_close_ int sub_from =
                        openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_close_ int sub_to =
                        openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub_from < 0 || sub_to < 0)
                        return fail(c, name, "open directory");
                if (copy_dir(c, sub_from, sub_to, depth + 1) < 0)
                        return -1;
        } else if (S_ISREG(st.st_mode)) {
                if (copy_file(c, from, to, name, &st) < 0)
                        return -1;
        } else if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t len = readlinkat(from, name, target, sizeof target - 1);
                if (len < 0)
                        return fail(c, name, "read symlink");
                target[len] = '\0';
                if (symlinkat(target, to, name) < 0)
                        return fail(c, name, "create symlink");
        } else if (mknodat(to, name, st.st_mode, st.st_rdev) < 0) {
                return fail(c, name, "create node");
        }
        return copy_attrs(c, to, name, &st);
}

static int copy_dir(struct copyup *c, int from, int to, int depth)
{
        if (depth > COPYUP_DEPTH_MAX)
                return error_set(c->err, ELOOP, "tmpcopyup `%s`: deeper than %d directories", c->what,
                                 COPYUP_DEPTH_MAX);
        int fd = fcntl(from, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return fail(c, ".", "read directory");
        }
        int r = 0;
        struct dirent *e;
        while (r == 0 && (errno = 0, e = readdir(d))) {
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        r = copy_entry(c, from, to, e->d_name, depth);
        }
        if (r == 0 && errno != 0)
                r = fail(c, ".", "read directory");
        closedir(d);
        return r;
}

int copyup_tree(int from, int to, const char *what, berth_error **err)
{
        struct copyup c = {.what = what, .err = err};
        struct stat st;
        if (copy_dir(&c, from, to, 0) < 0)
                return -1;
        /* The mount point's own mode and owner, as the image had them. */
        if (fstat(from, &st) < 0)
                return fail(&c, ".", "stat");
        if (fchown(to, st.st_uid, st.st_gid) < 0 && errno != EINVAL)
                return fail(&c, ".", "chown");
        if (fchmod(to, st.st_mode & 07777) < 0)
                return fail(&c, ".", "chmod");
        return 0;
}
