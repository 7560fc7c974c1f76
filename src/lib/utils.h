/* Small helpers every module uses: ownership (cleanup attributes),
 * allocation that cannot fail, errors, and file I/O. */
#ifndef BERTH_UTILS_H
#define BERTH_UTILS_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "berth.h"

#define HIDDEN __attribute__((visibility("hidden")))
#define PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors ------------------------------------------------------------ */

struct berth_error {
        int errnum;
        char *msg;
};

/* Set *err (if err and not already set) to `fmt` with errno `errnum`;
 * returns -errnum (or -1 when errnum is 0) so callers can `return error_set(...)`. */
int error_set(berth_error **err, int errnum, const char *fmt, ...) PRINTF(3, 4);
/* Prefix the message of *err with "`fmt`: " (context added on the way up). */
void error_wrap(berth_error **err, const char *fmt, ...) PRINTF(2, 3);
/* The error's text as the CLI prints it: "msg: strerror" (or just msg). */
char *error_text(const berth_error *err);

/* ---- memory ------------------------------------------------------------ */

void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF(1, 2);

static inline void *steal_ptr_(void *pp)
{
        void **p = pp;
        void *v = *p;
        *p = NULL;
        return v;
}
#define steal_pointer(pp) steal_ptr_(pp)

static inline int steal_fd(int *fd)
{
        int v = *fd;
        *fd = -1;
        return v;
}

static inline void cleanup_free_(void *p)
{
        free(*(void **)p);
}
static inline void cleanup_close_(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
static inline void cleanup_fclose_(FILE **f)
{
        if (*f) {
                int saved = errno;
                fclose(*f);
                errno = saved;
        }
}
void strv_free(char **v);
static inline void cleanup_strv_(char ***v)
{
        strv_free(*v);
}
static inline void cleanup_error_(berth_error **e)
{
        berth_error_free(*e);
}

#define _cleanup_free_ __attribute__((cleanup(cleanup_free_)))
#define _cleanup_close_ __attribute__((cleanup(cleanup_close_)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclose_)))
#define _cleanup_strv_ __attribute__((cleanup(cleanup_strv_)))
#define _cleanup_error_ __attribute__((cleanup(cleanup_error_)))

/* ---- strings and files ------------------------------------------------- */

size_t strv_len(char *const *v);
/* Append a copy of `s`, keeping the array NULL-terminated. */
void strv_push(char ***v, size_t *n, const char *s);
bool str_has_prefix(const char *s, const char *prefix);

/* Read a whole file (at dirfd, AT_FDCWD for none); NUL-terminated.
 * On failure returns NULL with errno set. */
char *read_file_at(int dirfd, const char *path, size_t *len);
/* write(2) all of `data`, across short writes and EINTR: 0 or -errno. */
int write_all(int fd, const char *data, size_t len);
/* Write `data` to a file (O_WRONLY|O_TRUNC, no create unless `mode`). */
int write_file_at(int dirfd, const char *path, const char *data, size_t len, mode_t mode);
/* Write `data` to dir/name (name may hold slashes) through a temporary file and rename(2). */
int write_file_atomic(int dirfd, const char *name, const char *data, size_t len, mode_t mode);
/* mkdir -p; returns 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);
/* `fd` itself when it is >= `min` (or < 0), else a close-on-exec copy at or
 * above `min` (the original closed): keeps a child's own fds clear of the
 * range where preserved fds go. */
int fd_move_above(int fd, int min);
/* Format a message and hand it to `fn` (a berth_log_fn), when there is one. */
void log_vcall(berth_log_fn fn, void *data, const char *fmt, va_list ap) PRINTF(3, 0);
/* sendmsg(2) of `data` with `fd` attached (SCM_RIGHTS), retried on EINTR;
 * the bytes sent, or -errno. */
ssize_t send_fd(int sock, const void *data, size_t len, int fd);
/* Parse a whole string as a decimal integer in [min, max]. */
int parse_long(const char *s, long min, long max, long *out);

/* CLOCK_MONOTONIC in nanoseconds and milliseconds, for deadlines. */
long long monotonic_ns(void);
static inline long long monotonic_ms(void)
{
        return monotonic_ns() / 1000000;
}
/* The current time as RFC 3339 with nanoseconds, UTC. */
char *now_rfc3339(void);
/* `ts` as RFC 3339 in UTC with nanoseconds: 2026-01-01T00:00:00.000000000Z */
char *rfc3339_utc(const struct timespec *ts);

#endif
