/* The monitor of a detached container (create --monitor, run -d --monitor,
 * or --exit-file): a small process that clones the container's init, so
 * that it is the init's parent, waits for it on a pidfd, writes the exit
 * report (exit_report.h) atomically and exits.  No daemon remains once the
 * container has ended.  It is forked twice (reparented at once, in its own
 * session) and holds nothing of the caller's but what it needs.
 *
 * While it runs it holds an exclusive flock on `monitor` in the state dir
 * (the file holds its pid): monitor_wait() is how `state`, `stop` and
 * `delete` wait for the report of an init that has just ended. */
#ifndef BERTH_MONITOR_H
#define BERTH_MONITOR_H

#include "cgroups.h"

#define MONITOR_FILE "monitor"

struct monitor {
        const struct cgroup *cg; /* the container's, read when the init has ended */
        int dirfd;               /* the container's state dir (the launcher's, locked) */
        char *exit_file;         /* absolute, or NULL */
        int min_fd;              /* fds the init keeps sit at or above this (preserved ones below) */
        int sock;                /* inside: the monitor's end of its channel to the launcher */
        int started_rd;          /* inside: the start pipe, the monitor's end ... */
        int started_fd;          /* ... and the init's, written right before it executes */
};

struct monitor *monitor_new(const struct cgroup *cg, int dirfd, const char *exit_file, int min_fd);
void monitor_free(struct monitor *m);

/* Launcher: fork the monitor, which runs `clone_fn(data)` — the clone of
 * the init, setting *pid and *pidfd in the monitor's copy of the memory, and
 * never returning in the init — and hands the init's pidfd back.  Returns 0
 * in the launcher with *pid and *pidfd set (the init is not its child), or
 * -1 with the monitor's error (clone_fn's, as without a monitor). */
int monitor_clone(struct monitor *m, int (*clone_fn)(void *data, berth_error **err), void *data, pid_t *pid,
                  int *pidfd, berth_error **err);

/* The init, first thing: close what it inherited of the monitor.  And right
 * before it executes the program: tell the monitor when.  NULL does nothing. */
void monitor_init_child(struct monitor *m);
void monitor_init_started(struct monitor *m);

/* Until the container's monitor (if it has one) is done: its init reaped,
 * its report written.  At once when it has none, or it is gone. */
void monitor_wait(int dirfd);

#endif
