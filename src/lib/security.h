/* What the parent settles about a container process's security before it
 * clones it (create, run and exec alike), while berth can still report and
 * fail with nothing made: capabilities the kernel lacks, LSM labels the host
 * cannot apply, the seccomp program; and the seccomp listener's handover. */
#ifndef BERTH_SECURITY_H
#define BERTH_SECURITY_H

#include "container.h"

/* After process_probe(): warn (through the context) about capabilities the
 * running kernel lacks, refuse LSM labels, prepare the seccomp program. */
int security_prepare(berth_context *ctx, const struct spec *s, berth_error **err);

/* Child side, before process_finalize: the sync channel the seccomp listener
 * (if any) goes back on. */
void security_child_channel(const struct spec *s, int sync);

/* Parent, after SYNC_GO_SETUP and before SYNC_READY: with a seccomp
 * listener, receive its fd from the child and send it with the container
 * process state (the container's `status`: creating, or running for exec)
 * to listenerPath.  Nothing to do without one. */
int security_listener_handover(berth_context *ctx, const struct spec *s, int sync, const char *id, pid_t pid,
                               const char *status, berth_error **err);

#endif
