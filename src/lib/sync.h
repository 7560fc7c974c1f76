/* The parent <-> container-init channel: one SOCK_SEQPACKET socketpair,
 * bounded records tagged with a named step.  The child never prints; an
 * error in the child travels back as errno + message. */
#ifndef BERTH_SYNC_H
#define BERTH_SYNC_H

#include "utils.h"

enum sync_step {
        SYNC_GO_SETUP = 1, /* parent: cgroups joined, id maps written; set up */
        SYNC_READY,        /* child: everything done, waiting to exec */
        SYNC_GO_EXEC,      /* parent (run): exec now */
        SYNC_ERROR,        /* child: failed; carries errno + message */
        SYNC_CONSOLE,      /* child: the pty master follows by SCM_RIGHTS */
        SYNC_SECCOMP_LISTENER, /* child: the seccomp user-notification fd, by SCM_RIGHTS */
        SYNC_MOUNT_FD,         /* parent: a detached id-mapped mount for the init, by SCM_RIGHTS */
        SYNC_HOOKS,            /* child: mounts made; run the prestart and createRuntime hooks */
        SYNC_HOOKS_DONE,       /* parent: they ran; go on to createContainer and pivot_root */
};

int sync_pair(int fds[2], berth_error **err);
int sync_send(int fd, enum sync_step step);
/* Child side: send `e` as an error record. */
void sync_send_error(int fd, const berth_error *e);
/* Wait for `want`.  An error record becomes *err; EOF or another step
 * becomes "container init failed before step `<want>`". */
int sync_expect(int fd, enum sync_step want, berth_error **err);
/* Parent (run): after SYNC_GO_EXEC the channel closes on a successful exec
 * (it is close-on-exec); an error record means execve failed. */
int sync_expect_exec(int fd, berth_error **err);
/* Send `step` with `fd` attached (SCM_RIGHTS); 0 or -errno. */
int sync_send_fd(int sock, enum sync_step step, int fd);
/* As sync_expect, and receive the fd attached to the record (close-on-exec) into *fd. */
int sync_expect_fd(int sock, enum sync_step want, int *fd, berth_error **err);

#endif
