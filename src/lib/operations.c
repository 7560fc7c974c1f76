/* Operations on existing containers: start, kill, delete, state, list. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "container.h"
#include "exit_report.h"
#include "monitor.h"
#include "notify.h"
#include "hooks.h"
#include "net.h"
#include "pidfd.h"
#include "recover.h"
#include "syscalls.h"

#define KILL_WAIT_MS 10000

int handle_open(berth_context *ctx, const char *id, bool lock, struct handle *h, berth_error **err)
{
        *h = (struct handle){.ctx = ctx, .rootfd = -1, .dirfd = -1};
        if (berth_id_check(id, err) < 0)
                return -1;
        h->rootfd = state_root_open(ctx->root, err);
        if (h->rootfd < 0)
                return -1;
        h->dirfd = state_dir_open(h->rootfd, id, lock, err);
        if (h->dirfd < 0 || state_read(h->dirfd, id, &h->st, err) < 0) {
                handle_close(h);
                return -1;
        }
        h->status = state_status(h->dirfd, &h->st, lock);
        return 0;
}

void handle_close(struct handle *h)
{
        cleanup_close_(&h->dirfd);
        cleanup_close_(&h->rootfd);
        h->dirfd = h->rootfd = -1;
        state_clear(&h->st);
}

/* A handle of the init (pidfd.h), or -1 when it is gone (or its pid was reused). */
int init_pidfd(const struct saved_state *st)
{
        if (st->pid <= 0)
                return -1;
        int fd = pidfd_open_pid(st->pid);
        /* Checked after opening: from here on the pid cannot be reused under us. */
        if (fd >= 0 && proc_start_time(st->pid) != st->start_time) {
                close(fd);
                return -1;
        }
        return fd;
}

int handle_destroy(struct handle *h, berth_error **err)
{
        /* A frozen task holds a SIGKILL pending until it is thawed (v1 freezer):
         * kill everything while frozen, so nothing runs on, then thaw. */
        if (h->st.cgroup && cgroup_frozen(h->st.cgroup)) {
                cgroup_kill(h->st.cgroup, SIGKILL, NULL);
                cgroup_freeze(h->st.cgroup, false, NULL);
        }
        _cleanup_close_ int pidfd = init_pidfd(&h->st);
        if (pidfd >= 0) {
                pidfd_signal(pidfd, SIGKILL);
                pidfd_wait(pidfd, KILL_WAIT_MS);
        }
        /* A monitor reads the cgroup for its report: let it finish first. */
        monitor_wait(h->dirfd);
        /* Usually the cgroup is empty by now (the init's pid namespace died with
         * it) and goes at once; a busy one still has processes: without its own
         * pid namespace the init's death does not end the others. */
        if (h->st.cgroup && cgroup_try_destroy(h->st.cgroup) < 0) {
                cgroup_kill(h->st.cgroup, SIGKILL, NULL);
                if (cgroup_destroy(h->st.cgroup, err) < 0)
                        return -1;
        }
        if (net_teardown(h->st.net, err) < 0 || state_dir_remove(h->rootfd, h->st.id, err) < 0)
                return -1;
        hooks_warn_run_saved(h->ctx, &h->st, HOOK_POSTSTOP, "stopped", 0);
        return 0;
}

static int start_created(berth_context *ctx, struct handle *h, const char *id, berth_error **err)
{
        if (h->status != BERTH_CREATED)
                return error_set(err, 0, "cannot start container `%s`: it is %s", id,
                                 berth_status_name(h->status));
        /* Opened before the init is released: it reports through it (hooks.h). */
        _cleanup_close_ int report = hooks_start_fifo_open(h->dirfd);
        /* No reader means the init is gone. */
        _cleanup_close_ int fifo = openat(h->dirfd, EXEC_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fifo < 0) {
                if (errno == ENXIO)
                        return error_set(err, 0, "cannot start container `%s`: it is stopped", id);
                return error_set(err, errno, "container `%s`: open exec fifo", id);
        }
        if (write(fifo, "0", 1) != 1)
                return error_set(err, errno, "container `%s`: write exec fifo", id);
        unlinkat(h->dirfd, EXEC_FIFO, 0);
        if (report >= 0) {
                unlinkat(h->dirfd, HOOKS_START_FIFO, 0);
                if (hooks_start_fifo_wait(report, err) < 0) {
                        /* runtime.md: a failed startContainer hook stops and destroys the container. */
                        handle_destroy(h, NULL);
                        error_wrap(err, "container `%s`", id);
                        return -1;
                }
        }
        ctx_debug(ctx, "container %s: started", id);
        hooks_warn_run_saved(ctx, &h->st, HOOK_POSTSTART, "running", h->st.pid);
        return 0;
}

int berth_start(berth_context *ctx, const char *id, berth_error **err)
{
        struct handle h;
        if (handle_open(ctx, id, true, &h, err) < 0)
                return -1;
        /* NOTIFY_SOCKET at create: bound before the process runs, waited on unlocked. */
        _cleanup_free_ char *host = h.status == BERTH_CREATED ? notify_host(h.dirfd) : NULL;
        _cleanup_close_ int sock = host ? notify_bind(h.dirfd, err) : -1;
        _cleanup_close_ int pidfd = host ? init_pidfd(&h.st) : -1;
        pid_t pid = h.st.pid;
        int r = host && sock < 0 ? -1 : start_created(ctx, &h, id, err);
        handle_close(&h);
        if (r == 0 && sock >= 0 && pidfd >= 0)
                r = notify_wait(sock, pidfd, host, pid, err);
        return r;
}

int berth_kill(berth_context *ctx, const char *id, int signal, bool all, berth_error **err)
{
        struct handle h;
        if (handle_open(ctx, id, false, &h, err) < 0)
                return -1;
        int r = 0;
        _cleanup_close_ int pidfd = -1;
        if (all && h.st.cgroup) {
                pid_t *pids = NULL;
                size_t n = 0;
                if (cgroup_pids(h.st.cgroup, &pids, &n, NULL) == 0 && n > 0)
                        r = cgroup_kill(h.st.cgroup, signal, err);
                else if (h.status == BERTH_STOPPED)
                        r = error_set(err, 0, "cannot kill container `%s`: container not running", id);
                free(pids);
        } else if (h.status == BERTH_STOPPED || h.status == BERTH_CREATING ||
                   (pidfd = init_pidfd(&h.st)) < 0) {
                r = error_set(err, 0, "cannot kill container `%s`: container not running", id);
        } else if (pidfd_signal(pidfd, signal) < 0) {
                r = error_set(err, errno, "kill container `%s` with signal %d", id, signal);
        }
        /* As runc: SIGKILL thaws a paused container, or its processes could not die. */
        if (r == 0 && signal == SIGKILL && h.status == BERTH_PAUSED && h.st.cgroup)
                cgroup_freeze(h.st.cgroup, false, NULL);
        handle_close(&h);
        return r;
}

int berth_delete(berth_context *ctx, const char *id, bool force, berth_error **err)
{
        struct handle h;
        berth_error *e = NULL;
        if (handle_open(ctx, id, true, &h, &e) < 0) {
                /* --force: succeed when it is already gone, as engines expect of runc. */
                if (force && e && strstr(e->msg, "does not exist")) {
                        berth_error_free(e);
                        return 0;
                }
                /* --force: an unreadable state.json must not keep it forever (recover.h). */
                int r = force ? recover_destroy(ctx, id, err) : 1;
                if (r <= 0) {
                        berth_error_free(e);
                        return r;
                }
                if (err && !*err)
                        *err = e;
                else
                        berth_error_free(e);
                return -1;
        }
        int r;
        if (h.status != BERTH_STOPPED && !force)
                r = error_set(err, 0, "cannot delete container `%s`: it is %s", id,
                              berth_status_name(h.status));
        else
                r = handle_destroy(&h, err);
        handle_close(&h);
        return r;
}

static char *owner_name(int dirfd)
{
        struct stat st;
        if (fstat(dirfd, &st) < 0)
                return xstrdup("");
        struct passwd pw, *res = NULL;
        char buf[1024];
        if (getpwuid_r(st.st_uid, &pw, buf, sizeof buf, &res) == 0 && res)
                return xstrdup(res->pw_name);
        return xasprintf("#%u", (unsigned)st.st_uid);
}

int berth_state_get(berth_context *ctx, const char *id, struct berth_state *state, berth_error **err)
{
        struct handle h;
        memset(state, 0, sizeof *state);
        if (handle_open(ctx, id, false, &h, err) < 0)
                return -1;
        state->id = xstrdup(id);
        state->bundle = xstrdup(h.st.bundle ? h.st.bundle : "");
        state->rootfs = xstrdup(h.st.rootfs ? h.st.rootfs : "");
        state->created = xstrdup(h.st.created ? h.st.created : "");
        state->owner = owner_name(h.dirfd);
        state->status = h.status;
        state->pid = h.status == BERTH_STOPPED ? 0 : h.st.pid;
        state->annotations = steal_pointer(&h.st.annotations);
        state->exit = h.status == BERTH_STOPPED ? exit_report_load(h.dirfd) : NULL;
        handle_close(&h);
        return 0;
}

void berth_state_clear(struct berth_state *state)
{
        free(state->id);
        free(state->bundle);
        free(state->rootfs);
        free(state->created);
        free(state->owner);
        strv_free(state->annotations);
        exit_report_free(state->exit);
        memset(state, 0, sizeof *state);
}

char *berth_state_json(const struct berth_state *state, bool pretty)
{
        json_t *ann = json_object();
        for (size_t i = 0; state->annotations && state->annotations[i] && state->annotations[i + 1]; i += 2)
                json_object_set_new(ann, state->annotations[i], json_string(state->annotations[i + 1]));
        json_t *j =
                json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:o}", "ociVersion", BERTH_OCI_VERSION,
                          "id", state->id, "pid", state->pid, "status", berth_status_name(state->status),
                          "bundle", state->bundle, "rootfs", state->rootfs, "created", state->created,
                          "owner", state->owner, "annotations", ann);
        /* berth's own, beside the OCI fields (README "Exit reports"). */
        if (state->exit)
                json_object_set_new(j, "berth", json_pack("{s:o}", "exit", exit_report_to_json(state->exit)));
        char *text = json_dumps(j, JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) : JSON_COMPACT));
        json_decref(j);
        if (!text)
                abort();
        return text;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int berth_list(berth_context *ctx, char ***ids, berth_error **err)
{
        *ids = NULL;
        DIR *d = opendir(ctx->root);
        if (!d) {
                if (errno == ENOENT) {
                        *ids = xzalloc(sizeof **ids);
                        return 0;
                }
                return error_set(err, errno, "open state root `%s`", ctx->root);
        }
        char **v = xzalloc(sizeof *v);
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_type == DT_DIR && berth_id_check(e->d_name, NULL) == 0)
                        strv_push(&v, &n, e->d_name);
        closedir(d);
        qsort(v, n, sizeof *v, cmp_str);
        *ids = v;
        return 0;
}
