/* OCI hooks: parse, run (state on stdin, output kept for the error, timeout
 * enforced on the hook's whole process group), and the lifecycle's calls. */
#define _GNU_SOURCE
#include "hooks.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "container.h"
#include "pidfd.h"
#include "sync.h"
#include "syscalls.h"

#define OUTPUT_MAX 1024 /* bytes of a hook's output kept for its error message */

static const char *const kind_names[HOOK_KINDS] = {
        [HOOK_PRESTART] = "prestart",
        [HOOK_CREATE_RUNTIME] = "createRuntime",
        [HOOK_CREATE_CONTAINER] = "createContainer",
        [HOOK_START_CONTAINER] = "startContainer",
        [HOOK_POSTSTART] = "poststart",
        [HOOK_POSTSTOP] = "poststop",
};

const char *hook_kind_name(enum hook_kind k)
{
        return k < HOOK_KINDS ? kind_names[k] : "unknown";
}

bool hooks_have(const struct hooks *h, enum hook_kind k)
{
        return h && h->n[k] > 0;
}

/* ---- parsing ------------------------------------------------------------ */

static int parse_strv(const json_t *v, const char *path, const char *key, char ***out, berth_error **err)
{
        size_t i, n = 0;
        json_t *item;
        *out = xzalloc(sizeof **out);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_array(v))
                return error_set(err, 0, "%s.%s: expected an array of strings", path, key);
        json_array_foreach(v, i, item)
        {
                if (!json_is_string(item))
                        return error_set(err, 0, "%s.%s: expected an array of strings", path, key);
                strv_push(out, &n, json_string_value(item));
        }
        return 0;
}

static int parse_hook(struct hook *hk, const json_t *item, const char *path, berth_error **err)
{
        if (!json_is_object(item))
                return error_set(err, 0, "%s: expected an object", path);
        const json_t *p = json_object_get(item, "path");
        if (!p || json_is_null(p))
                return error_set(err, 0, "%s.path: required", path);
        if (!json_is_string(p) || json_string_value(p)[0] != '/')
                return error_set(err, 0, "%s.path: expected an absolute path", path);
        hk->path = xstrdup(json_string_value(p));
        if (parse_strv(json_object_get(item, "args"), path, "args", &hk->args, err) < 0 ||
            parse_strv(json_object_get(item, "env"), path, "env", &hk->env, err) < 0)
                return -1;
        const json_t *t = json_object_get(item, "timeout");
        if (t && !json_is_null(t)) {
                /* The spec: if set, timeout MUST be greater than zero. */
                if (!json_is_integer(t) || json_integer_value(t) <= 0 ||
                    json_integer_value(t) > INT_MAX / 1000)
                        return error_set(err, 0, "%s.timeout: expected a positive integer (seconds)", path);
                hk->timeout = (unsigned)json_integer_value(t);
        }
        return 0;
}

static int parse_kind(struct hooks *h, enum hook_kind k, const json_t *arr, berth_error **err)
{
        size_t i;
        json_t *item;
        if (!arr || json_is_null(arr))
                return 0;
        if (!json_is_array(arr))
                return error_set(err, 0, "hooks.%s: expected an array", kind_names[k]);
        h->list[k] = xzalloc((json_array_size(arr) + 1) * sizeof *h->list[k]);
        json_array_foreach(arr, i, item)
        {
                _cleanup_free_ char *path = xasprintf("hooks.%s[%zu]", kind_names[k], i);
                h->n[k] = i + 1;
                if (parse_hook(&h->list[k][i], item, path, err) < 0)
                        return -1;
        }
        return 0;
}

int hooks_parse(const json_t *obj, struct hooks **out, berth_error **err)
{
        *out = NULL;
        if (!obj || json_is_null(obj))
                return 0;
        if (!json_is_object(obj))
                return error_set(err, 0, "hooks: expected an object");
        struct hooks *h = xzalloc(sizeof *h);
        size_t total = 0;
        for (int k = 0; k < HOOK_KINDS; k++) {
                if (parse_kind(h, k, json_object_get(obj, kind_names[k]), err) < 0) {
                        hooks_free(h);
                        return -1;
                }
                total += h->n[k];
        }
        if (total == 0) {
                hooks_free(h);
                return 0;
        }
        /* start and delete run these from another process: state.json keeps them. */
        static const enum hook_kind later[] = {HOOK_POSTSTART, HOOK_POSTSTOP};
        for (size_t i = 0; i < ARRAY_SIZE(later); i++) {
                if (!h->n[later[i]])
                        continue;
                if (!h->saved)
                        h->saved = json_object();
                json_object_set_new(h->saved, kind_names[later[i]],
                                    json_deep_copy(json_object_get(obj, kind_names[later[i]])));
        }
        *out = h;
        return 0;
}

void hooks_free(struct hooks *h)
{
        if (!h)
                return;
        for (int k = 0; k < HOOK_KINDS; k++) {
                for (size_t i = 0; i < h->n[k]; i++) {
                        free(h->list[k][i].path);
                        strv_free(h->list[k][i].args);
                        strv_free(h->list[k][i].env);
                }
                free(h->list[k]);
        }
        json_decref(h->saved);
        free(h);
}

char *hooks_state_json(const char *id, const char *status, pid_t pid, const char *bundle,
                       char *const *annotations)
{
        json_t *ann = json_object();
        for (size_t i = 0; annotations && annotations[i] && annotations[i + 1]; i += 2)
                json_object_set_new(ann, annotations[i], json_string(annotations[i + 1]));
        json_t *j = json_pack("{s:s, s:s, s:s}", "ociVersion", BERTH_OCI_VERSION, "id", id, "status", status);
        if (pid > 0)
                json_object_set_new(j, "pid", json_integer(pid));
        json_object_set_new(j, "bundle", json_string(bundle ? bundle : ""));
        json_object_set_new(j, "annotations", ann);
        char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(j);
        if (!text)
                abort();
        return text;
}

/* ---- running one hook --------------------------------------------------- */

struct hook_run {
        pid_t pid;
        int pidfd, outfd, errfd; /* errfd: the child's errno when execve fails */
        int status;
        bool timed_out;
        char out[OUTPUT_MAX + 1];
        size_t out_len;
};

/* Keep fds off 0-2: the child dup2()s onto those, and an fd already there
 * would keep its close-on-exec flag. */
static int above_stdio(int fd)
{
        if (fd < 0 || fd > 2)
                return fd;
        int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        return n;
}

static int state_memfd(const char *state, berth_error **err)
{
        int fd = above_stdio(memfd_create("berth-hook-state", MFD_CLOEXEC));
        size_t len = strlen(state), off = 0;
        if (fd < 0)
                return error_set(err, errno, "create the hook's stdin");
        while (off < len) {
                ssize_t n = write(fd, state + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        error_set(err, errno, "write the hook's stdin");
                        close(fd);
                        return -1;
                }
                off += (size_t)n;
        }
        lseek(fd, 0, SEEK_SET);
        return fd;
}

static _Noreturn void hook_child(const struct hook *hk, int in, int out, int errfd)
{
        /* Its own process group, so that a timeout kills what it started too. */
        setpgid(0, 0);
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
                _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        sys_close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        char *fallback[] = {hk->path, NULL};
        execve(hk->path, hk->args && hk->args[0] ? hk->args : fallback, hk->env);
        int e = errno;
        (void)!write(errfd, &e, sizeof e);
        _exit(127);
}

static int hook_start(struct hook_run *r, const struct hook *hk, const char *state, berth_error **err)
{
        _cleanup_close_ int in = state_memfd(state, err);
        int out[2], errp[2];
        if (in < 0)
                return -1;
        if (pipe2(out, O_CLOEXEC) < 0)
                return error_set(err, errno, "create the hook's output pipe");
        if (pipe2(errp, O_CLOEXEC) < 0) {
                close(out[0]);
                close(out[1]);
                return error_set(err, errno, "create the hook's exec pipe");
        }
        out[1] = above_stdio(out[1]);
        errp[1] = above_stdio(errp[1]);
        r->outfd = out[0];
        r->errfd = errp[0];
        /* Its pidfd from the clone itself: no moment where its pid could name another process. */
        struct berth_clone_args args = {
                .flags = CLONE_PIDFD, .pidfd = (uint64_t)(uintptr_t)&r->pidfd, .exit_signal = SIGCHLD};
        long pid = pidfd_clone(&args);
        if (pid == 0)
                hook_child(hk, in, out[1], errp[1]);
        int e = errno;
        close(out[1]);
        close(errp[1]);
        if (pid < 0)
                return error_set(err, e, "clone for hook `%s`", hk->path);
        r->pid = (pid_t)pid;
        fcntl(r->outfd, F_SETFL, O_NONBLOCK);
        return 0;
}

/* Read what the hook wrote; 0 at EOF or when nothing is there now. */
static int read_output(struct hook_run *r)
{
        char buf[512];
        ssize_t n;
        while ((n = read(r->outfd, buf, sizeof buf)) > 0) {
                size_t keep = OUTPUT_MAX - r->out_len;
                if ((size_t)n < keep)
                        keep = (size_t)n;
                memcpy(r->out + r->out_len, buf, keep);
                r->out_len += keep;
        }
        return n < 0 && errno == EINTR ? 1 : 0;
}

static void hook_reap(struct hook_run *r)
{
        while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
                ;
        r->pid = 0;
}

/* Until the hook exits or its time is up; output is read meanwhile so a
 * chatty hook never blocks on a full pipe. */
static void hook_wait(struct hook_run *r, unsigned timeout)
{
        long long deadline = timeout ? monotonic_ms() + (long long)timeout * 1000 : 0;
        bool out_open = true;
        for (;;) {
                struct pollfd p[2] = {{.fd = r->pidfd, .events = POLLIN}, {.fd = r->outfd, .events = POLLIN}};
                int wait = -1;
                if (deadline) {
                        long long left = deadline - monotonic_ms();
                        wait = left > 0 ? (int)left : 0;
                }
                int n = pidfd_poll(p, out_open ? 2 : 1, 0, wait);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n == 0) {
                        r->timed_out = true;
                        kill(-r->pid, SIGKILL);
                        pidfd_signal(r->pidfd, SIGKILL);
                        break;
                }
                if (out_open && p[1].revents && read_output(r) == 0 && (p[1].revents & POLLHUP))
                        out_open = false;
                if (p[0].revents || n < 0)
                        break;
        }
        hook_reap(r);
        /* What is left in the pipe; a background child of the hook may hold it open. */
        read_output(r);
}

static void hook_run_close(struct hook_run *r)
{
        if (r->pid > 0) {
                kill(-r->pid, SIGKILL);
                hook_reap(r);
        }
        cleanup_close_(&r->pidfd);
        cleanup_close_(&r->outfd);
        cleanup_close_(&r->errfd);
}

/* The output as one line: trailing white space cut, newlines made spaces. */
static const char *output_text(struct hook_run *r)
{
        while (r->out_len > 0 && (unsigned char)r->out[r->out_len - 1] <= ' ')
                r->out_len--;
        r->out[r->out_len] = '\0';
        for (size_t i = 0; i < r->out_len; i++)
                if ((unsigned char)r->out[i] < ' ')
                        r->out[i] = ' ';
        return r->out;
}

static int hook_result(const struct hook *hk, struct hook_run *r, berth_error **err)
{
        int exec_errno;
        if (read(r->errfd, &exec_errno, sizeof exec_errno) == sizeof exec_errno)
                return error_set(err, exec_errno, "exec `%s`", hk->path);
        if (r->timed_out)
                return error_set(err, 0, "`%s` timed out after %u s", hk->path, hk->timeout);
        const char *out = output_text(r);
        const char *sep = *out ? ": " : "";
        if (WIFEXITED(r->status) && WEXITSTATUS(r->status) != 0)
                return error_set(err, 0, "`%s` exited with status %d%s%s", hk->path, WEXITSTATUS(r->status),
                                 sep, out);
        if (WIFSIGNALED(r->status))
                return error_set(err, 0, "`%s` was killed by signal %d%s%s", hk->path, WTERMSIG(r->status),
                                 sep, out);
        return 0;
}

static int hook_exec(const struct hook *hk, enum hook_kind k, size_t i, const char *state, berth_error **err)
{
        struct hook_run r = {.pidfd = -1, .outfd = -1, .errfd = -1};
        int ret = hook_start(&r, hk, state, err);
        if (ret == 0) {
                hook_wait(&r, hk->timeout);
                ret = hook_result(hk, &r, err);
        }
        hook_run_close(&r);
        if (ret < 0)
                error_wrap(err, "hooks.%s[%zu]", kind_names[k], i);
        return ret < 0 ? -1 : 0;
}

int hooks_run(const struct hooks *h, enum hook_kind k, const char *state, berth_log_fn warn, void *warn_data,
              berth_error **err)
{
        if (!hooks_have(h, k))
                return 0;
        for (size_t i = 0; i < h->n[k]; i++) {
                berth_error *e = NULL;
                if (hook_exec(&h->list[k][i], k, i, state, &e) == 0)
                        continue;
                if (!warn) {
                        if (err && !*err)
                                *err = e;
                        else
                                berth_error_free(e);
                        return -1;
                }
                _cleanup_free_ char *text = error_text(e);
                warn(warn_data, text);
                berth_error_free(e);
        }
        return 0;
}

/* ---- the lifecycle ------------------------------------------------------ */

static void warn_to_ctx(void *data, const char *msg)
{
        ctx_warn(data, "%s", msg);
}

/* Before pivot_root the host's /proc is still ours: /proc/self names our pid
 * in the runtime's pid namespace, the one the state's `pid` is given in. */
static pid_t own_host_pid(void)
{
        char buf[32];
        ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
        long pid;
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        return parse_long(buf, 1, INT_MAX, &pid) == 0 ? (pid_t)pid : 0;
}

int hooks_init_create(const struct spec *s, const char *id, int syncfd, pid_t *host_pid, berth_error **err)
{
        const struct hooks *h = s->hooks;
        if (hooks_have(h, HOOK_PRESTART) || hooks_have(h, HOOK_CREATE_RUNTIME)) {
                int r = sync_send(syncfd, SYNC_HOOKS);
                if (r < 0)
                        return error_set(err, -r, "ask the runtime to run the createRuntime hooks");
                if (sync_expect(syncfd, SYNC_HOOKS_DONE, err) < 0)
                        return -1;
        }
        if (!hooks_have(h, HOOK_CREATE_CONTAINER) && !hooks_have(h, HOOK_START_CONTAINER))
                return 0;
        *host_pid = own_host_pid();
        if (!hooks_have(h, HOOK_CREATE_CONTAINER))
                return 0;
        _cleanup_free_ char *state = hooks_state_json(id, "creating", *host_pid, s->bundle, s->annotations);
        return hooks_run(h, HOOK_CREATE_CONTAINER, state, NULL, NULL, err);
}

int hooks_parent_create(const struct spec *s, const char *id, pid_t pid, int syncfd, berth_error **err)
{
        const struct hooks *h = s->hooks;
        if (!hooks_have(h, HOOK_PRESTART) && !hooks_have(h, HOOK_CREATE_RUNTIME))
                return 0;
        if (sync_expect(syncfd, SYNC_HOOKS, err) < 0)
                return -1;
        _cleanup_free_ char *state = hooks_state_json(id, "creating", pid, s->bundle, s->annotations);
        if (hooks_run(h, HOOK_PRESTART, state, NULL, NULL, err) < 0 ||
            hooks_run(h, HOOK_CREATE_RUNTIME, state, NULL, NULL, err) < 0)
                return -1;
        int r = sync_send(syncfd, SYNC_HOOKS_DONE);
        return r < 0 ? error_set(err, -r, "signal the container init") : 0;
}

int hooks_init_start(const struct spec *s, const char *id, pid_t host_pid, berth_error **err)
{
        if (!hooks_have(s->hooks, HOOK_START_CONTAINER))
                return 0;
        _cleanup_free_ char *state = hooks_state_json(id, "created", host_pid, s->bundle, s->annotations);
        return hooks_run(s->hooks, HOOK_START_CONTAINER, state, NULL, NULL, err);
}

int hooks_start_fifo_create(const struct spec *s, int dirfd, int *fd, berth_error **err)
{
        *fd = -1;
        if (!hooks_have(s->hooks, HOOK_START_CONTAINER) && !hooks_have(s->hooks, HOOK_POSTSTART))
                return 0;
        if (mkfifoat(dirfd, HOOKS_START_FIFO, 0600) < 0)
                return error_set(err, errno, "create start fifo");
        /* Read-write, as the exec fifo: it then exists for writing from the
         * init's side until the init executes its program or dies. */
        *fd = openat(dirfd, HOOKS_START_FIFO, O_RDWR | O_CLOEXEC);
        if (*fd < 0)
                return error_set(err, errno, "open start fifo");
        return 0;
}

void hooks_start_fifo_report(int fd, const berth_error *e)
{
        /* One write of at most PIPE_BUF bytes is atomic. */
        char buf[PIPE_BUF];
        int n = snprintf(buf, sizeof buf, "%d %s", e ? e->errnum : 0, e && e->msg ? e->msg : "unknown error");
        (void)!write(fd, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
}

int hooks_start_fifo_open(int dirfd)
{
        return openat(dirfd, HOOKS_START_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

int hooks_start_fifo_wait(int fd, berth_error **err)
{
        char buf[PIPE_BUF + 1];
        size_t len = 0;
        if (fd < 0)
                return 0;
        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        return error_set(err, errno, "wait for the container init");
                ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
                if (n > 0)
                        len += (size_t)n;
                else if (n == 0 || len == sizeof buf - 1)
                        break; /* no writer left: the init executed its program, or failed */
                else if (errno != EAGAIN && errno != EINTR)
                        return error_set(err, errno, "read start fifo");
        }
        if (len == 0)
                return 0;
        buf[len] = '\0';
        char *msg;
        long errnum = strtol(buf, &msg, 10);
        return error_set(err, (int)errnum, "%s", *msg == ' ' ? msg + 1 : msg);
}

void hooks_warn_run(berth_context *ctx, const struct hooks *h, enum hook_kind k, const char *id,
                    const char *status, pid_t pid, const char *bundle, char *const *annotations)
{
        if (!hooks_have(h, k))
                return;
        _cleanup_free_ char *state = hooks_state_json(id, status, pid, bundle, annotations);
        hooks_run(h, k, state, warn_to_ctx, ctx, NULL);
}

void hooks_warn_run_saved(berth_context *ctx, const struct saved_state *st, enum hook_kind k,
                          const char *status, pid_t pid)
{
        struct hooks *h = NULL;
        berth_error *e = NULL;
        if (!st->hooks)
                return;
        if (hooks_parse(st->hooks, &h, &e) < 0) {
                ctx_warn(ctx, "state of container `%s`: %s", st->id, e->msg);
                berth_error_free(e);
                return;
        }
        hooks_warn_run(ctx, h, k, st->id, status, pid, st->bundle, st->annotations);
        hooks_free(h);
}
