/* Removing a container whose state.json is damaged (delete --force). */
#ifndef BERTH_RECOVER_H
#define BERTH_RECOVER_H

#include "utils.h"

/* When container `id`'s state.json cannot be read: kill every process in
 * the cgroup its saved config.json names, remove that cgroup and the state
 * directory, and warn through the context.  Returns 0 when it did, 1 when
 * it does not apply (no such container, or its state reads fine: the
 * caller's own error stands), -1 with *err set when removing failed. */
int recover_destroy(berth_context *ctx, const char *id, berth_error **err);

#endif
