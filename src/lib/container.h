/* Internals shared by the lifecycle (container.c) and the operations on
 * existing containers (operations.c). */
#ifndef BERTH_CONTAINER_H
#define BERTH_CONTAINER_H

#include "spec.h"
#include "state.h"

struct berth_context {
        char *root;
        berth_log_fn debug;
        void *debug_data;
        berth_log_fn warn; /* warnings (failed poststart/poststop hooks); see hooks.c */
        void *warn_data;
};

struct berth_bundle {
        struct spec *spec;
};

void ctx_debug(berth_context *ctx, const char *fmt, ...) PRINTF(2, 3);
/* The context's warning sink (see berth_context_set_warn); NULL ctx is allowed. */
void ctx_warn(berth_context *ctx, const char *fmt, ...) PRINTF(2, 3);
/* A wait status as the shell reports it (code, 128+signal); returns the code. */
int exit_code_of(int status, struct berth_exit_status *out);

/* An existing container: its state dir (locked when asked), saved state and live status. */
struct handle {
        berth_context *ctx;
        int rootfd, dirfd;
        struct saved_state st;
        enum berth_status status;
};

/* A pidfd for the init, or -1 when it is gone (or its pid was reused). */
int init_pidfd(const struct saved_state *st);
int handle_open(berth_context *ctx, const char *id, bool lock, struct handle *h, berth_error **err);
void handle_close(struct handle *h);
/* SIGKILL the init and everything in the cgroup, wait for the init to go,
 * remove the cgroup and the state dir. */
int handle_destroy(struct handle *h, berth_error **err);

#endif
