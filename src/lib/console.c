#define _GNU_SOURCE
#include "console.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>

#include "notify.h"
#include "pidfd.h"
#include "sync.h"
#include "syscalls.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#define PUMP_BUF 16384

/* The slave of `master`, without a path lookup where the kernel can (4.13+):
 * nothing in the container can swap /dev/pts/N under us. */
static int open_peer(int master, const char *name)
{
        int fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0 || (errno != EINVAL && errno != ENOTTY))
                return fd;
        return open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
}

/* As runc: the container's /dev/console is its terminal.  A read-only /dev
 * without a console node is left alone. */
static int bind_console(const char *name, berth_error **err)
{
        struct stat st;
        if (stat("/dev/console", &st) < 0) {
                if (errno != ENOENT)
                        return error_set(err, errno, "stat /dev/console");
                int f = open("/dev/console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (f < 0)
                        return errno == EROFS ? 0 : error_set(err, errno, "create /dev/console");
                close(f);
        }
        if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
                return error_set(err, errno, "bind `%s` onto /dev/console", name);
        return 0;
}

/* The slave becomes fds 0-2 and the controlling terminal of our session. */
static int slave_to_stdio(int slave, berth_error **err)
{
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return error_set(err, errno, "make the pty the controlling terminal");
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return error_set(err, errno, "make the pty fd %d", fd);
        return 0;
}

int console_setup_child(int sync, unsigned rows, unsigned cols, bool mount_console, uid_t uid,
                        berth_error **err)
{
        _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return error_set(err, errno, "open /dev/ptmx");
        int unlock = 0;
        char name[64];
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ptsname_r(master, name, sizeof name) != 0)
                return error_set(err, errno, "set up the pty");
        _cleanup_close_ int slave = open_peer(master, name);
        /* Above 0-2, which are about to be replaced by it. */
        if (slave >= 0 && slave < 3) {
                int moved = fcntl(slave, F_DUPFD_CLOEXEC, 3);
                close(slave);
                slave = moved;
        }
        if (slave < 0)
                return error_set(err, errno, "open pty `%s`", name);
        struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
        if (rows && cols && ioctl(slave, TIOCSWINSZ, &ws) < 0)
                return error_set(err, errno, "process.consoleSize: resize the pty");
        /* The user the process becomes must own its terminal to reopen it
         * (/dev/tty, /proc/self/fd/0); an unmapped uid keeps root's. */
        if (fchown(slave, uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM)
                return error_set(err, errno, "chown pty `%s`", name);
        if (mount_console && bind_console(name, err) < 0)
                return -1;
        int r = sync_send_fd(sync, SYNC_CONSOLE, master);
        if (r < 0)
                return error_set(err, -r, "send the pty master");
        return slave_to_stdio(slave, err);
}

int console_check(bool terminal, bool detach, const char *console_socket, berth_error **err)
{
        if (terminal && detach && !console_socket)
                return error_set(
                        err, 0, "cannot allocate a terminal for a detached process without --console-socket");
        if (console_socket && !(terminal && detach))
                return error_set(err, 0, "--console-socket: only for a detached process with a terminal");
        return 0;
}

int console_socket_connect(const char *path, berth_error **err)
{
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof a.sun_path)
                return error_set(err, ENAMETOOLONG, "connect to console socket `%s`", path);
        memcpy(a.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return error_set(err, errno, "create a socket for console socket `%s`", path);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
                int e = errno;
                close(fd);
                return error_set(err, e, "connect to console socket `%s`", path);
        }
        return fd;
}

int console_socket_send(int sock, const char *path, int master, berth_error **err)
{
        static const char name[] = CONSOLE_MASTER_NAME;
        ssize_t n = send_fd(sock, name, sizeof name - 1, master);
        if (n < 0)
                return error_set(err, (int)-n, "send the pty master to console socket `%s`", path);
        return 0;
}

/* ---- the foreground ---------------------------------------------------- */

static void write_blocking(int fd, const char *buf, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, buf, n);
                if (w < 0 && errno == EAGAIN) {
                        struct pollfd p = {.fd = fd, .events = POLLOUT};
                        (void)poll(&p, 1, -1);
                        continue;
                }
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return; /* the reader went away: drop the rest, as a terminal would */
                buf += w;
                n -= (size_t)w;
        }
}

/* Copy what is there from `from` to `to`: > 0 to go on, 0 at EOF (or EIO:
 * a pty master whose slave is closed), < 0 on another error. */
static ssize_t pump(int from, int to)
{
        char buf[PUMP_BUF];
        ssize_t n;
        while ((n = read(from, buf, sizeof buf)) < 0 && errno == EINTR)
                ;
        if (n < 0)
                return errno == EAGAIN ? 1 : (errno == EIO ? 0 : -1);
        if (n > 0)
                write_blocking(to, buf, (size_t)n);
        return n;
}

/* After the process ended: what it wrote last, without waiting for more. */
static void drain(int master)
{
        int fl = fcntl(master, F_GETFL);
        if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0)
                return;
        while (pump(master, STDOUT_FILENO) > 0) {
                struct pollfd p = {.fd = master, .events = POLLIN};
                if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
                        break;
        }
}

/* End of our input: a canonical-mode reader sees end-of-file as on a terminal. */
static void send_eof(int master)
{
        struct termios t;
        if (tcgetattr(master, &t) == 0 && (t.c_lflag & ICANON))
                write_blocking(master, (const char *)&t.c_cc[VEOF], 1);
}

void console_copy_size(int master)
{
        struct winsize ws;
        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
                (void)ioctl(master, TIOCSWINSZ, &ws);
}

static void relay_signal(const struct console_wait *w)
{
        struct signalfd_siginfo si;
        if (read(w->sigfd, &si, sizeof si) != sizeof si)
                return;
        /* The kernel tells the pty's foreground group about a new size itself. */
        if (si.ssi_signo == SIGWINCH) {
                if (w->master >= 0)
                        console_copy_size(w->master);
        } else if (si.ssi_signo != SIGCHLD) {
                pidfd_signal(w->pidfd, (int)si.ssi_signo);
        }
}

enum { SLOT_PID, SLOT_SIG, SLOT_IN, SLOT_PTY, SLOT_NOTIFY, SLOT_COUNT };

static int wait_loop(const struct console_wait *w, int *status, berth_error **err)
{
        struct pollfd p[SLOT_COUNT] = {
                [SLOT_PID] = {.fd = w->pidfd, .events = POLLIN},
                [SLOT_SIG] = {.fd = w->sigfd, .events = POLLIN},
                [SLOT_IN] = {.fd = w->master >= 0 ? STDIN_FILENO : -1, .events = POLLIN},
                [SLOT_PTY] = {.fd = w->master, .events = POLLIN},
                [SLOT_NOTIFY] = {.fd = w->notify_fd, .events = POLLIN},
        };
        for (;;) {
                if (pidfd_poll(p, SLOT_COUNT, SLOT_PID, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return error_set(err, errno, "wait for process %d", w->pid);
                }
                /* Signals first: a resize queued before some input applies before it. */
                if (p[SLOT_SIG].revents)
                        relay_signal(w);
                if (p[SLOT_PTY].revents && pump(w->master, STDOUT_FILENO) <= 0)
                        p[SLOT_PTY].fd = -1;
                if (p[SLOT_IN].revents && pump(STDIN_FILENO, w->master) <= 0) {
                        p[SLOT_IN].fd = -1;
                        send_eof(w->master);
                }
                /* As runc in the foreground: systemd is to watch berth, which stays. */
                if (p[SLOT_NOTIFY].revents && notify_relay(w->notify_fd, w->notify_host, getpid(), NULL) != 0)
                        p[SLOT_NOTIFY].fd = -1;
                if (p[SLOT_PID].revents) {
                        while (waitpid(w->pid, status, 0) < 0)
                                if (errno != EINTR)
                                        return error_set(err, errno, "wait for process %d", w->pid);
                        if (w->master >= 0)
                                drain(w->master);
                        return 0;
                }
        }
}

int console_wait(const struct console_wait *w, int *status, berth_error **err)
{
        struct termios saved, raw;
        bool restore = false;
        if (w->master >= 0) {
                /* Raw: keys (^C, ^Z) reach the container's terminal as bytes and it
                 * does the line editing and echo. */
                if (tcgetattr(STDIN_FILENO, &saved) == 0) {
                        raw = saved;
                        cfmakeraw(&raw);
                        restore = tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0;
                }
        }
        int r = wait_loop(w, status, err);
        if (restore)
                (void)tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
        return r;
}
