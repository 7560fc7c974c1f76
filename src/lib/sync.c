#define _GNU_SOURCE
#include "sync.h"

#include <string.h>
#include <sys/socket.h>

#define SYNC_MSG_MAX 2048

struct sync_record {
        uint32_t step;
        int32_t errnum;
        char msg[SYNC_MSG_MAX];
};

static const char *sync_step_name(enum sync_step s)
{
        switch (s) {
        case SYNC_GO_SETUP:
                return "go-setup";
        case SYNC_READY:
                return "ready";
        case SYNC_GO_EXEC:
                return "go-exec";
        case SYNC_ERROR:
                return "error";
        case SYNC_CONSOLE:
                return "console";
        case SYNC_SECCOMP_LISTENER:
                return "seccomp-listener";
        case SYNC_MOUNT_FD:
                return "mount-fd";
        case SYNC_HOOKS:
                return "hooks";
        case SYNC_HOOKS_DONE:
                return "hooks-done";
        }
        return "unknown";
}

int sync_pair(int fds[2], berth_error **err)
{
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
                return error_set(err, errno, "create sync socketpair");
        return 0;
}

int sync_send(int fd, enum sync_step step)
{
        uint32_t s = step;
        if (send(fd, &s, sizeof s, MSG_NOSIGNAL) < 0)
                return -errno;
        return 0;
}

void sync_send_error(int fd, const berth_error *e)
{
        struct sync_record r = {.step = SYNC_ERROR, .errnum = e ? e->errnum : 0};
        snprintf(r.msg, sizeof r.msg, "%s", e && e->msg ? e->msg : "unknown error");
        (void)!send(fd, &r, offsetof(struct sync_record, msg) + strlen(r.msg) + 1, MSG_NOSIGNAL);
        /* The child exits next: a record it never read would make the kernel
         * reset the parent's end (ECONNRESET) and hide this error. */
        char sink[64];
        while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0)
                ;
}

static ssize_t sync_recv(int fd, struct sync_record *r)
{
        ssize_t n;
        do
                n = recv(fd, r, sizeof *r - 1, 0);
        while (n < 0 && errno == EINTR);
        if (n > (ssize_t)offsetof(struct sync_record, msg))
                ((char *)r)[n] = '\0';
        return n;
}

int sync_expect_exec(int fd, berth_error **err)
{
        struct sync_record r;
        ssize_t n = sync_recv(fd, &r);
        if (n == 0)
                return 0;
        if (n > (ssize_t)offsetof(struct sync_record, msg) && r.step == SYNC_ERROR)
                return error_set(err, r.errnum, "%s", r.msg);
        return error_set(err, n < 0 ? errno : 0, "container init failed to exec");
}

int sync_expect(int fd, enum sync_step want, berth_error **err)
{
        struct sync_record r;
        ssize_t n = sync_recv(fd, &r);
        if (n < 0)
                return error_set(err, errno, "read from container init at step `%s`", sync_step_name(want));
        if (n > (ssize_t)offsetof(struct sync_record, msg) && r.step == SYNC_ERROR)
                return error_set(err, r.errnum, "%s", r.msg);
        if (n < (ssize_t)sizeof r.step || r.step != want)
                return error_set(err, 0, "container init failed before step `%s`", sync_step_name(want));
        return 0;
}

int sync_send_fd(int sock, enum sync_step step, int fd)
{
        uint32_t s = step;
        ssize_t n = send_fd(sock, &s, sizeof s, fd);
        return n < 0 ? (int)n : 0;
}

/* The first fd of an SCM_RIGHTS message, closing any others; -1 when none. */
static int take_fd(struct msghdr *m)
{
        int fd = -1;
        for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h)) {
                if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int f;
                        memcpy(&f, CMSG_DATA(h) + i * sizeof(int), sizeof f);
                        if (fd < 0)
                                fd = f;
                        else
                                close(f);
                }
        }
        return fd;
}

int sync_expect_fd(int sock, enum sync_step want, int *fd, berth_error **err)
{
        struct sync_record r;
        struct iovec iov = {.iov_base = &r, .iov_len = sizeof r - 1};
        union {
                char buf[CMSG_SPACE(4 * sizeof(int))];
                struct cmsghdr align;
        } c;
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
        ssize_t n;
        *fd = -1;
        do
                n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return error_set(err, errno, "read from container process at step `%s`", sync_step_name(want));
        int got = take_fd(&m);
        if (n > (ssize_t)offsetof(struct sync_record, msg) && r.step == SYNC_ERROR) {
                ((char *)&r)[n] = '\0';
                if (got >= 0)
                        close(got);
                return error_set(err, r.errnum, "%s", r.msg);
        }
        if (n < (ssize_t)sizeof r.step || r.step != want || got < 0) {
                if (got >= 0)
                        close(got);
                return error_set(err, 0, "container process failed before step `%s`", sync_step_name(want));
        }
        *fd = got;
        return 0;
}
