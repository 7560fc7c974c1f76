/* Process handles, and what berth does where the kernel has no pidfds.
 *
 * A handle is a pidfd, or, where pidfd_open(2) answers ENOSYS (kernels
 * before 5.3, valgrind 3.19, a seccomp sandbox that refuses it), an fd of
 * the /proc/PID directory.  Either pins its process: once the process has
 * been reaped the handle never names the pid's next owner, so a start-time
 * check made after opening it holds for as long as the handle is kept.
 *
 * Each fallback is taken only when the call fails with ENOSYS, and the
 * answer is remembered: where the kernel has the calls nothing changes.
 *   clone3            -> clone(2) (pidfd_clone)
 *   pidfd_open        -> open("/proc/PID") (pidfd_open_pid)
 *   pidfd_send_signal -> kill(2) after the handle says the process is there
 *   poll on a pidfd   -> a look at /proc/PID/stat every few ms (pidfd_poll)
 *   setns(pidfd)      -> EINVAL on a /proc handle; exec.c joins by path then */
#ifndef BERTH_PIDFD_H
#define BERTH_PIDFD_H

#include <poll.h>
#include <stdbool.h>

#include "syscalls.h"
#include "utils.h"

#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif

/* clone3(args); where the system has no clone3, the same child from
 * clone(2): fork-like (args->stack must be 0), the pidfd of CLONE_PIDFD
 * written where clone3 would write it (a /proc handle where the kernel
 * ignores the flag), CLONE_CLEAR_SIGHAND done by the child itself before
 * anything can reach it, CLONE_INTO_CGROUP dropped from args->flags (the
 * caller sees the child was not born in the cgroup).  Flags clone(2) cannot
 * express (CLONE_NEWTIME, set_tid) fail with ENOSYS.  Returns as clone3. */
long pidfd_clone(struct berth_clone_args *args);

/* Whether this system has clone3 (probed once: CLONE_NEWTIME needs it). */
bool pidfd_have_clone3(void);

/* A handle of process `pid`, close-on-exec; -1 with errno (ESRCH: no such process). */
int pidfd_open_pid(pid_t pid);

/* Send `sig` to the process of handle `fd` (0: only check it is there);
 * 0, or -1 with errno (ESRCH once it has been reaped).  Without
 * pidfd_send_signal a real signal goes by kill(2) to the pid /proc shows:
 * the caller must live in the pid namespace of its /proc. */
int pidfd_signal(int fd, int sig);

/* The pid of handle `fd` as we see it; -1 once the process has been reaped. */
pid_t pidfd_pid(int fd);

/* poll(p, n, timeout_ms) where p[slot] holds a handle: a pidfd is polled
 * as such; a /proc handle, which poll cannot watch, is looked at every few
 * ms, and p[slot].revents is POLLIN once its process has ended (a zombie
 * counts).  Returns as poll. */
int pidfd_poll(struct pollfd *p, nfds_t n, nfds_t slot, int timeout_ms);

/* Until the process of handle `fd` has ended, at most `timeout_ms` (-1:
 * no limit); true when it has. */
bool pidfd_wait(int fd, long long timeout_ms);

#endif
