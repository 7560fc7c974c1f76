#define _GNU_SOURCE
#include "utils.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

static void oom(void)
{
        static const char msg[] = "berth: out of memory\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xzalloc(size_t n)
{
        void *p = calloc(1, n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                oom();
        return p;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s);
        if (!p)
                oom();
        return p;
}

char *xstrndup(const char *s, size_t n)
{
        char *p = strndup(s, n);
        if (!p)
                oom();
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        char *s;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                oom();
        va_end(ap);
        return s;
}

int error_set(berth_error **err, int errnum, const char *fmt, ...)
{
        if (err && !*err) {
                va_list ap;
                berth_error *e = xzalloc(sizeof *e);
                va_start(ap, fmt);
                if (vasprintf(&e->msg, fmt, ap) < 0)
                        oom();
                va_end(ap);
                e->errnum = errnum;
                *err = e;
        }
        return errnum > 0 ? -errnum : -1;
}

void error_wrap(berth_error **err, const char *fmt, ...)
{
        if (!err || !*err)
                return;
        va_list ap;
        char *prefix;
        va_start(ap, fmt);
        if (vasprintf(&prefix, fmt, ap) < 0)
                oom();
        va_end(ap);
        char *msg = xasprintf("%s: %s", prefix, (*err)->msg);
        free(prefix);
        free((*err)->msg);
        (*err)->msg = msg;
}

char *error_text(const berth_error *err)
{
        if (err->errnum > 0)
                return xasprintf("%s: %s", err->msg, strerror(err->errnum));
        return xstrdup(err->msg);
}

int berth_error_errno(const berth_error *err)
{
        return err ? err->errnum : 0;
}

const char *berth_error_message(const berth_error *err)
{
        return err ? err->msg : NULL;
}

void berth_error_free(berth_error *err)
{
        if (err) {
                free(err->msg);
                free(err);
        }
}

void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

void berth_strv_free(char **strv)
{
        strv_free(strv);
}

size_t strv_len(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

void strv_push(char ***v, size_t *n, const char *s)
{
        *v = xrealloc(*v, (*n + 2) * sizeof **v);
        (*v)[(*n)++] = xstrdup(s);
        (*v)[*n] = NULL;
}

bool str_has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

char *read_file_at(int dirfd, const char *path, size_t *len)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        size_t cap = 4096, n = 0;
        _cleanup_free_ char *buf = xmalloc(cap);
        for (;;) {
                if (n + 1 >= cap)
                        buf = xrealloc(buf, cap *= 2);
                ssize_t r = read(fd, buf + n, cap - n - 1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return NULL;
                }
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        buf[n] = '\0';
        if (len)
                *len = n;
        return steal_pointer(&buf);
}

int write_all(int fd, const char *data, size_t len)
{
        while (len > 0) {
                ssize_t w = write(fd, data, len);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                data += w;
                len -= (size_t)w;
        }
        return 0;
}

int write_file_at(int dirfd, const char *path, const char *data, size_t len, mode_t mode)
{
        int flags = O_WRONLY | O_CLOEXEC | O_TRUNC | (mode ? O_CREAT : 0);
        _cleanup_close_ int fd = openat(dirfd, path, flags, mode);
        if (fd < 0)
                return -errno;
        return write_all(fd, data, len);
}

int write_file_atomic(int dirfd, const char *name, const char *data, size_t len, mode_t mode)
{
        _cleanup_free_ char *tmp = xasprintf("%s.%d.tmp", name, (int)getpid());
        int r = write_file_at(dirfd, tmp, data, len, mode);
        if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0)
                unlinkat(dirfd, tmp, 0);
        return r;
}

int mkdir_p(const char *path, mode_t mode)
{
        /* Freed by hand: clang 14's analyzer does not see the cleanup attribute here. */
        char *p = xstrdup(path);
        int r = 0;
        for (char *s = p + 1; r == 0; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        r = -errno;
                *s = c;
                if (c == '\0')
                        break;
        }
        free(p);
        if (r < 0)
                return r;
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int fd_move_above(int fd, int min)
{
        if (fd < 0 || fd >= min)
                return fd;
        int n = fcntl(fd, F_DUPFD_CLOEXEC, min);
        close(fd);
        return n;
}

void log_vcall(berth_log_fn fn, void *data, const char *fmt, va_list ap)
{
        char *msg;
        if (fn && vasprintf(&msg, fmt, ap) >= 0) {
                fn(data, msg);
                free(msg);
        }
}

ssize_t send_fd(int sock, const void *data, size_t len, int fd)
{
        struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } c;
        memset(&c, 0, sizeof c);
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &fd, sizeof fd);
        ssize_t n;
        while ((n = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
                ;
        return n < 0 ? -errno : n;
}

int parse_long(const char *s, long min, long max, long *out)
{
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (!*s || *end || errno || v < min || v > max)
                return -EINVAL;
        *out = v;
        return 0;
}

/* Without gmtime(3): glibc loads /etc/localtime for it even in UTC.  The
 * civil date of a day count (days since 1970-01-01), by 400-year eras. */
static void civil_from_days(long long z, int *y, unsigned *m, unsigned *d)
{
        z += 719468;
        long long era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
        unsigned mp = (5 * doy + 2) / 153;                                    /* [0, 11], from March */
        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = (int)(yoe + era * 400 + (*m <= 2));
}

long long monotonic_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

char *rfc3339_utc(const struct timespec *ts)
{
        long long days = ts->tv_sec / 86400, secs = ts->tv_sec % 86400;
        if (secs < 0) {
                secs += 86400;
                days--;
        }
        int y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        return xasprintf("%04d-%02u-%02uT%02lld:%02lld:%02lld.%09ldZ", y, m, d, secs / 3600, secs / 60 % 60,
                         secs % 60, ts->tv_nsec);
}

char *now_rfc3339(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return rfc3339_utc(&ts);
}
