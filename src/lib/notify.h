/* sd_notify from inside a container (NOTIFY_SOCKET), as runc does it: berth
 * binds a datagram socket in the container's state dir, bind-mounts that
 * directory read-only at /run/notify with NOTIFY_SOCKET=/run/notify/notify.sock
 * in the process's environment, and once the container sends READY=1 passes
 * it on to the caller's socket with MAINPID.  The socket is bound by whoever
 * waits for READY: `run`, or `start` for a created container. */
#ifndef BERTH_NOTIFY_H
#define BERTH_NOTIFY_H

#include <sys/types.h>

#include "utils.h"

#define NOTIFY_DIR "notify"
#define NOTIFY_HOST_FILE "notify-socket" /* the caller's socket, kept for `start` */
#define NOTIFY_CONTAINER_DIR "/run/notify"
#define NOTIFY_CONTAINER_SOCKET "/run/notify/notify.sock"

/* The config text with the bind mount of `state_dir`/notify and
 * NOTIFY_SOCKET added (caller frees). */
char *notify_config(const char *config_text, const char *state_dir, berth_error **err);
/* Make the notify dir in the state dir and record the caller's socket `host`. */
int notify_prepare(int dirfd, const char *host, berth_error **err);
/* The caller's socket recorded at create, or NULL when there is none. */
char *notify_host(int dirfd);
/* Bind the container's socket (replacing an older one); returns its fd. */
int notify_bind(int dirfd, berth_error **err);
/* Read one datagram; when it says READY=…, pass that on to `host` with
 * MAINPID=`mainpid`.  Returns 1 when passed on, 0 otherwise, < 0 on error. */
int notify_relay(int sock, const char *host, pid_t mainpid, berth_error **err);
/* Relay until READY passed on or the process behind `pidfd` ended. */
int notify_wait(int sock, int pidfd, const char *host, pid_t mainpid, berth_error **err);

#endif
