#define _GNU_SOURCE
#include "pidfd.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

/* How often a /proc handle is looked at while waiting for its process. */
#define LOOK_MS 10

/* Each set once the call has answered ENOSYS: it is not tried again. */
static bool no_clone3, no_pidfd_open, no_send_signal;

/* ---- clone ----------------------------------------------------------------- */

/* In the child of the clone(2) fallback, first thing: what
 * CLONE_CLEAR_SIGHAND has the kernel do.  The caller's handlers (an
 * engine's, when libberth is embedded) must not run in a process that is
 * not the caller; ignored signals stay ignored, as with the flag. */
static void clear_handlers(void)
{
        for (int sig = 1; sig < NSIG; sig++) {
                struct sigaction sa;
                if (sigaction(sig, NULL, &sa) < 0 || sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
                        continue;
                sa.sa_handler = SIG_DFL;
                sa.sa_flags = 0;
                sigaction(sig, &sa, NULL);
        }
}

static long clone_fallback(struct berth_clone_args *args)
{
        bool clear = args->flags & CLONE_CLEAR_SIGHAND;
        uint64_t flags = args->flags & ~(uint64_t)(CLONE_INTO_CGROUP | CLONE_CLEAR_SIGHAND);
        /* clone(2) takes the exit signal in the low byte of its flags, where
         * CLONE_NEWTIME sits, and has no room for higher flags or set_tid. */
        if ((flags & (CSIGNAL | CLONE_NEWTIME)) || flags >> 32 || args->exit_signal > CSIGNAL ||
            args->stack || args->set_tid_size) {
                errno = ENOSYS;
                return -1;
        }
        /* Not born in its cgroup: the caller sees the flag gone, and the child joins itself. */
        args->flags &= ~(uint64_t)CLONE_INTO_CGROUP;
        int *pidfd = (flags & CLONE_PIDFD) ? (int *)(uintptr_t)args->pidfd : NULL;
        if (pidfd)
                *pidfd = -1;
        /* Blocked across the clone, so that no signal reaches the child before
         * its handlers are cleared. */
        sigset_t all, old;
        sigfillset(&all);
        if (clear)
                sigprocmask(SIG_SETMASK, &all, &old);
        /* Fork-like: no stack.  The pidfd comes back through parent_tid, the
         * third argument on x86 and arm (s390 alone swaps the first two). */
        long pid = syscall(SYS_clone, (unsigned long)(flags | args->exit_signal), NULL, pidfd, NULL, 0UL);
        int e = errno;
        if (pid == 0 && clear)
                clear_handlers();
        if (clear)
                sigprocmask(SIG_SETMASK, &old, NULL);
        /* A kernel before 5.2 ignores CLONE_PIDFD: a handle of the child, not reaped, so still its pid. */
        if (pid > 0 && pidfd && *pidfd < 0 && (*pidfd = pidfd_open_pid((pid_t)pid)) < 0) {
                e = errno;
                kill((pid_t)pid, SIGKILL);
                while (waitpid((pid_t)pid, NULL, __WALL) < 0 && errno == EINTR)
                        ;
                pid = -1;
        }
        errno = e;
        return pid;
}

long pidfd_clone(struct berth_clone_args *args)
{
        if (!no_clone3) {
                long pid = sys_clone3(args);
                if (pid >= 0 || errno != ENOSYS)
                        return pid;
                no_clone3 = true;
        }
        return clone_fallback(args);
}

bool pidfd_have_clone3(void)
{
#ifdef SYS_clone3
        /* A size below the first version's: EINVAL where clone3 exists, and no child. */
        if (!no_clone3 && syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS)
                no_clone3 = true;
#else
        no_clone3 = true;
#endif
        return !no_clone3;
}

/* ---- handles --------------------------------------------------------------- */

int pidfd_open_pid(pid_t pid)
{
        if (!no_pidfd_open) {
                int fd = sys_pidfd_open(pid, 0);
                if (fd >= 0 || errno != ENOSYS)
                        return fd;
                no_pidfd_open = true;
        }
        /* /proc must be of our pid namespace, where `pid` means what we mean
         * (an init before its pivot still sees the host's). */
        char path[32], self[32];
        ssize_t n = readlink("/proc/self", self, sizeof self - 1);
        snprintf(path, sizeof path, "%d", (int)getpid());
        if (n <= 0 || (size_t)n != strlen(path) || memcmp(self, path, (size_t)n) != 0) {
                errno = ENOSYS;
                return -1;
        }
        snprintf(path, sizeof path, "/proc/%d", (int)pid);
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                errno = ESRCH;
        return fd;
}

/* Whether `fd` is a /proc/PID handle rather than a pidfd (an anonymous inode). */
static bool is_proc_dir(int fd)
{
        struct stat st;
        return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

/* What the stat file of a /proc handle says: the pid, or -1 once the
 * process has been reaped (its directory is empty then); *ended also for a
 * zombie. */
static pid_t proc_dir_look(int fd, bool *ended)
{
        char buf[1024];
        *ended = true;
        int sfd = openat(fd, "stat", O_RDONLY | O_CLOEXEC);
        if (sfd < 0) {
                /* Reaped: the directory is empty (ENOENT, or ESRCH); anything
                 * else (no fds left) says nothing about the process. */
                *ended = errno == ENOENT || errno == ESRCH;
                return -1;
        }
        ssize_t n;
        while ((n = read(sfd, buf, sizeof buf - 1)) < 0 && errno == EINTR)
                ;
        close(sfd);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        /* "pid (comm) S ...": comm may hold anything, the state follows its last ')'. */
        const char *end = strrchr(buf, ')');
        if (!end || end[1] != ' ')
                return -1;
        *ended = end[2] == 'Z' || end[2] == 'X';
        return (pid_t)strtol(buf, NULL, 10);
}

pid_t pidfd_pid(int fd)
{
        if (fd < 0)
                return -1;
        if (is_proc_dir(fd)) {
                bool ended;
                return proc_dir_look(fd, &ended);
        }
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
        _cleanup_free_ char *text = read_file_at(AT_FDCWD, path, NULL);
        const char *line = text ? strstr(text, "\nPid:") : NULL;
        pid_t pid = line ? (pid_t)strtol(line + 5, NULL, 10) : -1;
        return pid > 0 ? pid : -1;
}

int pidfd_signal(int fd, int sig)
{
        if (!no_send_signal) {
                int r = sys_pidfd_send_signal(fd, sig);
                if (r == 0 || errno != ENOSYS)
                        return r;
                no_send_signal = true;
        }
        if (fd < 0) {
                errno = EBADF;
                return -1;
        }
        /* kill(2) by pid, right after the handle said the process is not
         * reaped, so that the pid is still its own.  Reaped and its pid taken
         * in between: the race pidfds close, open again only where the system
         * has none.  The pid is /proc's: signal 0 needs no kill, which a
         * caller in another pid namespace (exec's child) could not aim. */
        pid_t pid = pidfd_pid(fd);
        if (pid <= 0) {
                errno = ESRCH;
                return -1;
        }
        return sig == 0 ? 0 : kill(pid, sig);
}

/* ---- waiting --------------------------------------------------------------- */

int pidfd_poll(struct pollfd *p, nfds_t n, nfds_t slot, int timeout_ms)
{
        int fd = p[slot].fd;
        if (fd < 0 || !is_proc_dir(fd))
                return poll(p, n, timeout_ms);
        /* A directory always polls readable: poll skips it, and we look. */
        p[slot].fd = -1;
        int r;
        for (;;) {
                bool ended;
                proc_dir_look(fd, &ended);
                int step = ended ? 0 : timeout_ms >= 0 && timeout_ms < LOOK_MS ? timeout_ms : LOOK_MS;
                r = poll(p, n, step);
                if (r >= 0 && ended) {
                        p[slot].revents = POLLIN;
                        r++;
                }
                if (r != 0 || (timeout_ms >= 0 && (timeout_ms -= step) <= 0))
                        break;
        }
        p[slot].fd = fd;
        return r;
}

bool pidfd_wait(int fd, long long timeout_ms)
{
        long long deadline = monotonic_ms() + timeout_ms;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        for (;;) {
                long long left = timeout_ms < 0 ? -1 : deadline - monotonic_ms();
                left = timeout_ms >= 0 && left < 0 ? 0 : left > INT_MAX ? INT_MAX : left;
                int n = pidfd_poll(&p, 1, 0, (int)left);
                if (n > 0)
                        return true;
                if (n == 0 || errno != EINTR)
                        return false;
        }
}
