/* Terminals: the pty a container process gets (made inside the container's
 * own devpts), handing its master to a --console-socket, and the foreground
 * loop that waits for a process, relays signals and proxies berth's own
 * terminal to the pty. */
#ifndef BERTH_CONSOLE_H
#define BERTH_CONSOLE_H

#include <sys/types.h>

#include "utils.h"

/* What a console socket receives along with the master, as runc sends it. */
#define CONSOLE_MASTER_NAME "/dev/ptmx"

/* Child, in the container's mount namespace and a new session: open a pty
 * from /dev/ptmx (the container's devpts), size it `rows` x `cols` when both
 * are set, bind its slave onto /dev/console when `mount_console`, send the
 * master to the parent over `sync` (SYNC_CONSOLE), and make the slave the
 * controlling terminal and fds 0-2, owned by `uid`. */
int console_setup_child(int sync, unsigned rows, unsigned cols, bool mount_console, uid_t uid,
                        berth_error **err);

/* runc's rules: a terminal for a process nobody waits for needs a console
 * socket, and a console socket needs both a terminal and a detached process. */
int console_check(bool terminal, bool detach, const char *console_socket, berth_error **err);

/* Parent: connect to the unix stream socket at `path`; returns the fd. */
int console_socket_connect(const char *path, berth_error **err);
/* Parent: send `master` over the connected `sock` by SCM_RIGHTS. */
int console_socket_send(int sock, const char *path, int master, berth_error **err);

/* The foreground: wait for a child process while relaying signals and
 * proxying a terminal. */
struct console_wait {
        int pidfd;
        pid_t pid;
        int sigfd;               /* signalfd of the blocked signals to relay, or -1 */
        int master;              /* pty master proxied with fds 0 and 1, or -1 */
        int notify_fd;           /* the container's sd_notify socket, or -1 */
        const char *notify_host; /* where its READY goes, with MAINPID = berth's pid */
};

/* Give the pty the size of berth's own terminal (fd 0, else 1), if it has
 * one: done when the master arrives, before the process runs. */
void console_copy_size(int master);

/* Until the process ends: signals from `sigfd` go to the process (SIGWINCH
 * resizes the pty instead, SIGCHLD is dropped); with a master, fd 0 is put in
 * raw mode when it is a terminal (restored before returning), its input goes
 * to the pty and the pty's output to fd 1.  Returns 0 with the process's wait
 * status in *status. */
int console_wait(const struct console_wait *w, int *status, berth_error **err);

#endif
