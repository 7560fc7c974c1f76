/* The state directory <root>/<id>: state.json (written atomically), the
 * exec fifo, and the per-container lock (flock on the directory). */
#ifndef BERTH_STATE_H
#define BERTH_STATE_H

#include "cgroups.h"
#include "utils.h"

#define STATE_FILE "state.json"
#define EXEC_FIFO "exec.fifo"
#define SAVED_CONFIG "config.json" /* the config.json the container was created from, for exec */

struct saved_state {
        char *id;
        char *bundle;
        char *rootfs;
        char *created;
        char **annotations;            /* key, value, ..., NULL */
        pid_t pid;                     /* 0 while creating */
        unsigned long long start_time; /* /proc/PID/stat field 22, guards against pid reuse */
        struct cgroup *cgroup;
        json_t *hooks; /* poststart and poststop as in config.json (hooks.h), or NULL */
        json_t *net;   /* what delete undoes of the driver network (net.h), or NULL */
};

/* Open (creating if needed) the state root; returns an O_DIRECTORY fd. */
int state_root_open(const char *root, berth_error **err);
/* Make <root>/<id> and lock it.  Returns the locked directory fd. */
int state_dir_create(int rootfd, const char *id, berth_error **err);
/* Open an existing container's directory, locked when `lock` (commands that change it). */
int state_dir_open(int rootfd, const char *id, bool lock, berth_error **err);
/* Remove the directory and everything in it. */
int state_dir_remove(int rootfd, const char *id, berth_error **err);

int state_write(int dirfd, const struct saved_state *s, berth_error **err);
int state_read(int dirfd, const char *id, struct saved_state *s, berth_error **err);
void state_clear(struct saved_state *s);

/* Start time of `pid` (field 22 of /proc/PID/stat), 0 when it is gone or a zombie. */
unsigned long long proc_start_time(pid_t pid);
/* The live status: derived from the init (pid + start time), the exec fifo and
 * the freezer.  `have_lock`: the caller holds the container's lock. */
enum berth_status state_status(int dirfd, const struct saved_state *s, bool have_lock);

#endif
