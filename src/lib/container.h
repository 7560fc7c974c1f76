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
};

struct berth_bundle {
        struct spec *spec;
};

void ctx_debug(berth_context *ctx, const char *fmt, ...) PRINTF(2, 3);

/* An existing container: its state dir (locked when asked), saved state and live status. */
struct handle {
        int rootfd, dirfd;
        struct saved_state st;
        enum berth_status status;
};

int handle_open(berth_context *ctx, const char *id, bool lock, struct handle *h, berth_error **err);
void handle_close(struct handle *h);
/* SIGKILL the init and everything in the cgroup, wait for the init to go,
 * remove the cgroup and the state dir. */
int handle_destroy(struct handle *h, berth_error **err);

#endif
