#define _GNU_SOURCE
#include "monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "exit_report.h"
#include "pidfd.h"
#include "sync.h"
#include "syscalls.h"

struct monitor *monitor_new(const struct cgroup *cg, int dirfd, const char *exit_file, int min_fd)
{
        struct monitor *m = xzalloc(sizeof *m);
        *m = (struct monitor){
                .cg = cg, .dirfd = dirfd, .min_fd = min_fd, .sock = -1, .started_rd = -1, .started_fd = -1};
        /* The monitor leaves the caller's cwd (it must not keep a filesystem busy). */
        if (exit_file && exit_file[0] != '/') {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);
                m->exit_file = xasprintf("%s/%s", cwd ? cwd : "", exit_file);
        } else if (exit_file) {
                m->exit_file = xstrdup(exit_file);
        }
        return m;
}

void monitor_free(struct monitor *m)
{
        if (m) {
                free(m->exit_file);
                free(m);
        }
}

/* ---- in the monitor --------------------------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
        int x = *(const int *)a, y = *(const int *)b;
        return (x > y) - (x < y);
}

/* Close fds `from` .. `to` (to < 0: all the rest). */
static void close_span(int from, int to)
{
        if (to >= 0 && to < from)
                return;
        if (sys_close_range((unsigned)from, to < 0 ? ~0U : (unsigned)to, 0) == 0)
                return;
        int end = to < 0 ? (int)sysconf(_SC_OPEN_MAX) : to;
        for (int fd = from; fd <= end; fd++)
                close(fd);
}

/* Close every fd above 2 but `keep` (sorted in place). */
static void close_except(int *keep, size_t n)
{
        qsort(keep, n, sizeof *keep, cmp_int);
        int from = 3;
        for (size_t i = 0; i < n; i++) {
                if (keep[i] < from)
                        continue;
                close_span(from, keep[i] - 1);
                from = keep[i] + 1;
        }
        close_span(from, -1);
}

static void read_started(struct pollfd *p, struct timespec *started, bool *have)
{
        ssize_t n;
        while ((n = read(p->fd, started, sizeof *started)) < 0 && errno == EINTR)
                ;
        *have = n == (ssize_t)sizeof *started;
        close(p->fd);
        p->fd = -1; /* poll ignores it from now on */
}

static struct berth_exit_status status_of(const siginfo_t *info)
{
        struct berth_exit_status st = {0};
        if (info->si_code == CLD_EXITED) {
                st.exit_code = info->si_status;
        } else {
                st.signal = info->si_status;
                st.exit_code = 128 + st.signal;
        }
        return st;
}

static _Noreturn void monitor_loop(struct monitor *m, pid_t pid, int pidfd, int dirfd)
{
        struct timespec started = {0}, finished;
        bool have_started = false;
        struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = m->started_rd, .events = POLLIN}};
        for (;;) {
                int n = pidfd_poll(p, 2, 0, -1);
                if (n < 0 && errno != EINTR)
                        break;
                if (n > 0 && p[1].fd >= 0 && p[1].revents)
                        read_started(&p[1], &started, &have_started);
                if (n > 0 && p[0].revents)
                        break;
        }
        clock_gettime(CLOCK_REALTIME, &finished);
        siginfo_t info = {0};
        while (waitid(P_PID, (id_t)pid, &info, WEXITED) < 0 && errno == EINTR)
                ;
        /* A program that ended at once: its start is still in the pipe. */
        if (p[1].fd >= 0)
                read_started(&p[1], &started, &have_started);
        struct berth_exit_status st = status_of(&info);
        struct berth_exit_report r;
        exit_report_collect(&r, &st, m->cg, have_started ? &started : NULL, &finished);
        exit_report_save(&r, dirfd, m->exit_file, NULL);
        _exit(0);
}

/* The lock `monitor_wait` waits on, taken before the launcher goes on. */
static int take_lock(int dirfd, berth_error **err)
{
        int fd = openat(dirfd, MONITOR_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return error_set(err, errno, "monitor: create `%s`", MONITOR_FILE);
        if (flock(fd, LOCK_EX) < 0) {
                int e = errno;
                close(fd);
                return error_set(err, e, "monitor: lock `%s`", MONITOR_FILE);
        }
        dprintf(fd, "%d\n", (int)getpid());
        return fd;
}

/* After clone_fn: keep the pidfd, the channel, the start pipe, a state dir
 * of its own (the launcher's fd carries its flock) and the lock. */
static int monitor_settle(struct monitor *m, int pidfd, int *dirfd, berth_error **err)
{
        close(m->started_fd);
        *dirfd = openat(m->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (*dirfd < 0)
                return error_set(err, errno, "monitor: open the state dir");
        int lock = take_lock(*dirfd, err);
        if (lock < 0)
                return -1;
        int keep[] = {m->sock, m->started_rd, pidfd, *dirfd, lock};
        close_except(keep, ARRAY_SIZE(keep));
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < 3 && null >= 0; fd++)
                dup2(null, fd);
        if (null > 2)
                close(null);
        if (chdir("/") < 0)
                return error_set(err, errno, "monitor: chdir /");
        return 0;
}

static _Noreturn void monitor_child(struct monitor *m, int (*clone_fn)(void *, berth_error **), void *data,
                                    pid_t *pid, int *pidfd)
{
        berth_error *err = NULL;
        /* Zombies must wait for us: a caller ignoring SIGCHLD would lose the status. */
        signal(SIGCHLD, SIG_DFL);
        signal(SIGPIPE, SIG_IGN);
        prctl(PR_SET_NAME, "berth-monitor", 0, 0, 0); /* how ps(1) shows it */
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                error_set(&err, errno, "monitor: create the start pipe");
                sync_send_error(m->sock, err);
                _exit(1);
        }
        m->started_rd = p[0];
        m->started_fd = fcntl(p[1], F_DUPFD_CLOEXEC, m->min_fd);
        close(p[1]);
        if (clone_fn(data, &err) < 0) {
                sync_send_error(m->sock, err);
                _exit(1);
        }
        int dirfd = -1;
        if (monitor_settle(m, *pidfd, &dirfd, &err) < 0 || sync_send_fd(m->sock, SYNC_READY, *pidfd) < 0) {
                pidfd_signal(*pidfd, SIGKILL);
                waitpid(*pid, NULL, 0);
                if (err)
                        sync_send_error(m->sock, err);
                _exit(1);
        }
        close(m->sock);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        monitor_loop(m, *pid, *pidfd, dirfd);
}

/* ---- in the launcher ---------------------------------------------------------- */

int monitor_clone(struct monitor *m, int (*clone_fn)(void *data, berth_error **err), void *data, pid_t *pid,
                  int *pidfd, berth_error **err)
{
        int sv[2];
        if (sync_pair(sv, err) < 0)
                return -1;
        pid_t first = fork();
        if (first < 0) {
                int e = errno;
                close(sv[0]);
                close(sv[1]);
                return error_set(err, e, "fork the monitor");
        }
        if (first == 0) {
                close(sv[0]);
                m->sock = sv[1];
                /* Its own session, and reparented at once: no terminal's
                 * signal reaches it, and nobody has to reap it. */
                pid_t second = setsid() < 0 ? -1 : fork();
                if (second < 0) {
                        berth_error *e = NULL;
                        error_set(&e, errno, "fork the monitor");
                        sync_send_error(m->sock, e);
                }
                if (second != 0)
                        _exit(0);
                monitor_child(m, clone_fn, data, pid, pidfd);
        }
        close(sv[1]);
        while (waitpid(first, NULL, 0) < 0 && errno == EINTR)
                ;
        int fd = -1;
        int r = sync_expect_fd(sv[0], SYNC_READY, &fd, err);
        close(sv[0]);
        if (r < 0)
                return -1;
        *pid = pidfd_pid(fd);
        if (*pid <= 0) {
                close(fd);
                return error_set(err, 0, "monitor: no pid for the init's pidfd");
        }
        *pidfd = fd;
        return 0;
}

/* ---- in the init ----------------------------------------------------------------- */

void monitor_init_child(struct monitor *m)
{
        if (!m)
                return;
        cleanup_close_(&m->sock);
        cleanup_close_(&m->started_rd);
}

void monitor_init_started(struct monitor *m)
{
        if (!m || m->started_fd < 0)
                return;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        (void)!write(m->started_fd, &now, sizeof now);
        close(m->started_fd);
        m->started_fd = -1;
}

/* ---- anyone ----------------------------------------------------------------------- */

void monitor_wait(int dirfd)
{
        _cleanup_close_ int fd = openat(dirfd, MONITOR_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return;
        /* The monitor holds it exclusively until it exits. */
        while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
                ;
}
