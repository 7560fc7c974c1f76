#define _GNU_SOURCE
#include "notify.h"

#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "pidfd.h"

#define NOTIFY_MSG_MAX 4096

static json_t *notify_mount(const char *state_dir)
{
        _cleanup_free_ char *source = xasprintf("%s/%s", state_dir, NOTIFY_DIR);
        return json_pack("{s:s, s:s, s:s, s:[s,s,s,s,s]}", "destination", NOTIFY_CONTAINER_DIR, "type",
                         "bind", "source", source, "options", "bind", "nosuid", "noexec", "nodev", "ro");
}

char *notify_config(const char *config_text, const char *state_dir, berth_error **err)
{
        json_t *doc = json_loads(config_text, 0, NULL);
        json_t *proc = json_object_get(doc, "process");
        if (!json_is_object(proc)) {
                json_decref(doc);
                error_set(err, 0, "NOTIFY_SOCKET: the config has no process");
                return NULL;
        }
        json_t *mounts = json_object_get(doc, "mounts");
        if (!json_is_array(mounts)) {
                mounts = json_array();
                json_object_set_new(doc, "mounts", mounts);
        }
        json_array_append_new(mounts, notify_mount(state_dir));
        json_t *env = json_object_get(proc, "env");
        if (!json_is_array(env)) {
                env = json_array();
                json_object_set_new(proc, "env", env);
        }
        for (size_t i = json_array_size(env); i-- > 0;)
                if (str_has_prefix(json_string_value(json_array_get(env, i)) ?: "", "NOTIFY_SOCKET="))
                        json_array_remove(env, i);
        json_array_append_new(env, json_string("NOTIFY_SOCKET=" NOTIFY_CONTAINER_SOCKET));
        char *text = json_dumps(doc, JSON_PRESERVE_ORDER);
        json_decref(doc);
        if (!text)
                abort();
        return text;
}

int notify_prepare(int dirfd, const char *host, berth_error **err)
{
        /* Readable by every user of the container: the bind mount's root. */
        if (mkdirat(dirfd, NOTIFY_DIR, 0755) < 0 || fchmodat(dirfd, NOTIFY_DIR, 0755, 0) < 0)
                return error_set(err, errno, "create the notify socket directory");
        int r = write_file_atomic(dirfd, NOTIFY_HOST_FILE, host, strlen(host), 0600);
        return r < 0 ? error_set(err, -r, "record the notify socket `%s`", host) : 0;
}

char *notify_host(int dirfd)
{
        return read_file_at(dirfd, NOTIFY_HOST_FILE, NULL);
}

/* A unix address for `path`; `@name` is an abstract one, as systemd writes it. */
static socklen_t unix_addr(struct sockaddr_un *a, const char *path)
{
        size_t len = strlen(path);
        *a = (struct sockaddr_un){.sun_family = AF_UNIX};
        if (len == 0 || len >= sizeof a->sun_path)
                return 0;
        memcpy(a->sun_path, path, len);
        if (path[0] == '@') {
                a->sun_path[0] = '\0';
                return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
        }
        return (socklen_t)sizeof *a;
}

int notify_bind(int dirfd, berth_error **err)
{
        /* Through the directory fd: the state root's path may be longer than sun_path. */
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d/%s/notify.sock", dirfd, NOTIFY_DIR);
        struct sockaddr_un a;
        socklen_t len = unix_addr(&a, path);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return error_set(err, errno, "create the notify socket");
        unlink(path);
        if (bind(fd, (struct sockaddr *)&a, len) < 0 || chmod(path, 0777) < 0) {
                int e = errno;
                close(fd);
                return error_set(err, e, "bind the notify socket");
        }
        return fd;
}

static int send_host(const char *host, const char *msg, berth_error **err)
{
        struct sockaddr_un a;
        socklen_t len = unix_addr(&a, host);
        if (!len)
                return error_set(err, ENAMETOOLONG, "notify socket `%s`", host);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&a, len) < 0)
                return error_set(err, errno, "notify socket `%s`", host);
        return 0;
}

int notify_relay(int sock, const char *host, pid_t mainpid, berth_error **err)
{
        char buf[NOTIFY_MSG_MAX + 1];
        ssize_t n = recv(sock, buf, NOTIFY_MSG_MAX, MSG_DONTWAIT);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0
                                                         : error_set(err, errno, "read the notify socket");
        buf[n] = '\0';
        for (char *save, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (!str_has_prefix(line, "READY="))
                        continue;
                /* The caller watches the process berth names, not the container's idea of it. */
                _cleanup_free_ char *msg = xasprintf("%s\nMAINPID=%d\n", line, (int)mainpid);
                return send_host(host, msg, err) < 0 ? -1 : 1;
        }
        return 0;
}

int notify_wait(int sock, int pidfd, const char *host, pid_t mainpid, berth_error **err)
{
        struct pollfd p[2] = {{.fd = sock, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
        for (;;) {
                if (pidfd_poll(p, 2, 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return error_set(err, errno, "wait for the container's READY");
                }
                if (p[0].revents) {
                        int r = notify_relay(sock, host, mainpid, err);
                        if (r != 0)
                                return r < 0 ? -1 : 0;
                }
                if (p[1].revents)
                        return 0; /* it ended without saying READY: nothing to pass on */
        }
}
