/* stop (berth extension): the graceful stop engines build around `kill` —
 * a signal, a bounded wait on the init's pidfd, then SIGKILL to everything
 * left in the container's cgroup, so that no process escapes by forking. */
#define _GNU_SOURCE
#include <signal.h>
#include <time.h>

#include "container.h"
#include "monitor.h"
#include "pidfd.h"
#include "syscalls.h"

#define STOP_KILL_WAIT_MS 10000

/* SIGKILL to every process in the cgroup, until none is left: the kills are
 * delivered at once, the exits take a moment. */
static int kill_all(const struct cgroup *cg, const char *id, berth_error **err)
{
        long long deadline = monotonic_ms() + STOP_KILL_WAIT_MS;
        long delay_ns = 1000000;
        for (;;) {
                if (cgroup_frozen(cg)) {
                        /* A frozen task holds its SIGKILL until thawed. */
                        cgroup_kill(cg, SIGKILL, NULL);
                        cgroup_freeze(cg, false, NULL);
                } else if (cgroup_kill(cg, SIGKILL, err) < 0) {
                        error_wrap(err, "stop container `%s`", id);
                        return -1;
                }
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                if (cgroup_pids(cg, &pids, &n, err) < 0) {
                        error_wrap(err, "stop container `%s`", id);
                        return -1;
                }
                if (n == 0)
                        return 0;
                if (monotonic_ms() > deadline)
                        return error_set(
                                err, EBUSY,
                                "stop container `%s`: %zu processes remain in its cgroup after SIGKILL", id,
                                n);
                struct timespec ts = {0, delay_ns};
                nanosleep(&ts, NULL);
                if (delay_ns < 100000000)
                        delay_ns *= 2;
        }
}

static int stop_handle(berth_context *ctx, struct handle *h, const char *id, int sig, unsigned timeout_ms,
                       berth_error **err)
{
        if (h->status == BERTH_CREATING)
                return error_set(err, 0, "cannot stop container `%s`: it is creating", id);
        _cleanup_close_ int pidfd = h->status == BERTH_STOPPED ? -1 : init_pidfd(&h->st);
        /* A created container's program never ran: nothing to be graceful to. */
        if (pidfd >= 0 && h->status != BERTH_CREATED) {
                if (pidfd_signal(pidfd, sig) < 0 && errno != ESRCH)
                        return error_set(err, errno, "stop container `%s`: send signal %d", id, sig);
                /* Frozen, it could not act on the signal. */
                if (h->status == BERTH_PAUSED && h->st.cgroup)
                        cgroup_freeze(h->st.cgroup, false, NULL);
                bool ended = pidfd_wait(pidfd, timeout_ms);
                ctx_debug(ctx, "container %s: %s after signal %d", id, ended ? "ended" : "still running",
                          sig);
        }
        /* What is left: an init that ignored the signal, and (without a pid
         * namespace of its own) everything it started. */
        if (pidfd >= 0)
                pidfd_signal(pidfd, SIGKILL);
        if (h->st.cgroup && h->st.cgroup->n > 0 && kill_all(h->st.cgroup, id, err) < 0)
                return -1;
        if (pidfd >= 0 && !pidfd_wait(pidfd, STOP_KILL_WAIT_MS))
                return error_set(err, EBUSY, "stop container `%s`: its init survived SIGKILL", id);
        /* Its exit report, when a monitor writes one, is there on return. */
        monitor_wait(h->dirfd);
        return 0;
}

int berth_stop(berth_context *ctx, const char *id, int signal, unsigned timeout_ms, berth_error **err)
{
        struct handle h;
        if (handle_open(ctx, id, false, &h, err) < 0)
                return -1;
        int r = stop_handle(ctx, &h, id, signal > 0 ? signal : SIGTERM, timeout_ms, err);
        handle_close(&h);
        return r;
}
