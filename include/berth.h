/* libberth: the execution-driver contract of the berth container runtime.
 *
 * Error rule: every function that can fail returns < 0 (or NULL) and, when
 * `err` is not NULL, stores a newly allocated error in *err that the caller
 * frees with berth_error_free().  On success *err is left untouched.
 * Strings returned to the caller are owned by the caller unless noted.
 * The library never prints and never exits. */
#ifndef BERTH_H
#define BERTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BERTH_EXPORT __attribute__((visibility("default")))

#define BERTH_VERSION "0.1.0"
#define BERTH_OCI_VERSION "1.2.0"
#define BERTH_DEFAULT_ROOT "/run/berth"

typedef struct berth_error berth_error;

BERTH_EXPORT int berth_error_errno(const berth_error *err);
BERTH_EXPORT const char *berth_error_message(const berth_error *err); /* owned by err */
BERTH_EXPORT void berth_error_free(berth_error *err);

/* A runtime context: where state lives and how the library reports debug
 * messages.  One context may drive many containers. */
typedef struct berth_context berth_context;
typedef void (*berth_log_fn)(void *data, const char *msg);

/* `root` NULL means BERTH_DEFAULT_ROOT.  `debug`, if not NULL, receives
 * debug messages (which path was taken, each step). */
BERTH_EXPORT berth_context *berth_context_new(const char *root, berth_log_fn debug, void *debug_data,
                                              berth_error **err);
BERTH_EXPORT void berth_context_free(berth_context *ctx);

/* A bundle whose config.json has been read and fully validated. */
typedef struct berth_bundle berth_bundle;

BERTH_EXPORT berth_bundle *berth_bundle_load(const char *dir, berth_error **err);
BERTH_EXPORT void berth_bundle_free(berth_bundle *bundle);

/* The default config.json `berth spec` writes (a NUL-terminated JSON text). */
BERTH_EXPORT char *berth_spec_default(void);

struct berth_create_options {
        const char *pid_file;       /* write the init's pid here (atomically), or NULL */
        const char *console_socket; /* unix socket to receive the pty master, or NULL */
        bool no_pivot;              /* MS_MOVE + chroot instead of pivot_root */
        bool no_new_keyring;        /* keep the caller's session keyring */
        int preserve_fds;           /* pass fds 3 .. 3+N-1 on to the process */
};

/* Create: set everything up and leave the init waiting for berth_start(). */
BERTH_EXPORT int berth_create(berth_context *ctx, const char *id, const berth_bundle *bundle,
                              const struct berth_create_options *opts, berth_error **err);
BERTH_EXPORT int berth_start(berth_context *ctx, const char *id, berth_error **err);

/* How a container's init ended. */
struct berth_exit_status {
        int exit_code;   /* the shell convention: code, 128+signal, 137 for an OOM kill */
        int signal;      /* the terminating signal, or 0 */
        bool oom_killed; /* the cgroup's OOM killer ended it */
};

/* Called once the container's process exists, before it executes the
 * user's program; `pid` is its pid as seen by the caller. */
typedef void (*berth_start_cb)(void *data, const char *id, int pid);

struct berth_run_options {
        struct berth_create_options create;
        bool detach;          /* return once started; do not wait */
        bool forward_signals; /* relay the caller's signals to the container */
        bool keep;            /* do not delete the container after it exits in the foreground */
        berth_start_cb on_start;
        void *on_start_data;
};

/* Run = create + start.  Unless detached, waits for the init to end, fills
 * `status`, and deletes the container (unless `keep`). */
BERTH_EXPORT int berth_run(berth_context *ctx, const char *id, const berth_bundle *bundle,
                           const struct berth_run_options *opts, struct berth_exit_status *status,
                           berth_error **err);

/* Signal the init, or with `all` every process in the container's cgroup. */
BERTH_EXPORT int berth_kill(berth_context *ctx, const char *id, int signal, bool all, berth_error **err);

/* Remove a stopped container; `force` kills a live one first and succeeds
 * when the container does not exist. */
BERTH_EXPORT int berth_delete(berth_context *ctx, const char *id, bool force, berth_error **err);

enum berth_status {
        BERTH_CREATING,
        BERTH_CREATED,
        BERTH_RUNNING,
        BERTH_PAUSED,
        BERTH_STOPPED,
};
BERTH_EXPORT const char *berth_status_name(enum berth_status status);

/* The OCI state of a container, its status derived from the live init. */
struct berth_state {
        char *id;
        char *bundle;
        char *rootfs;
        char *created; /* RFC 3339 */
        char *owner;
        enum berth_status status;
        int pid;            /* 0 when stopped */
        char **annotations; /* key, value, key, value, ..., NULL */
};

BERTH_EXPORT int berth_state_get(berth_context *ctx, const char *id, struct berth_state *state,
                                 berth_error **err);
BERTH_EXPORT void berth_state_clear(struct berth_state *state);
/* The state as the OCI state JSON document (pretty when `pretty`). */
BERTH_EXPORT char *berth_state_json(const struct berth_state *state, bool pretty);

/* The ids of every container under the context's root, sorted; the array
 * and its strings belong to the caller (free with berth_strv_free). */
BERTH_EXPORT int berth_list(berth_context *ctx, char ***ids, berth_error **err);
BERTH_EXPORT void berth_strv_free(char **strv);

/* Check a container id: no `/`, not `.`/`..`, at most 1024 bytes, not empty. */
BERTH_EXPORT int berth_id_check(const char *id, berth_error **err);

#ifdef __cplusplus
}
#endif
#endif
