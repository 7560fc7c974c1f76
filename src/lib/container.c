/* Lifecycle orchestration: create, start, run, kill, delete, state, list.
 * The parent validates everything first, then makes the state dir and the
 * cgroup, clones the init and drives it over the sync channel; any failure
 * undoes all of it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cgroups.h"
#include "console.h"
#include "container.h"
#include "control.h"
#include "exit_report.h"
#include "hooks.h"
#include "landlock.h"
#include "monitor.h"
#include "namespaces.h"
#include "net.h"
#include "notify.h"
#include "pidfd.h"
#include "process.h"
#include "rootfs.h"
#include "security.h"
#include "sysctl.h"
#include "state.h"
#include "sync.h"
#include "syscalls.h"

#define ID_MAX 1024

void ctx_debug(berth_context *ctx, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_vcall(ctx->debug, ctx->debug_data, fmt, ap);
        va_end(ap);
}

void ctx_warn(berth_context *ctx, const char *fmt, ...)
{
        if (!ctx)
                return;
        va_list ap;
        va_start(ap, fmt);
        log_vcall(ctx->warn, ctx->warn_data, fmt, ap);
        va_end(ap);
}

void berth_context_set_warn(berth_context *ctx, berth_log_fn warn, void *data)
{
        ctx->warn = warn;
        ctx->warn_data = data;
}

berth_context *berth_context_new(const char *root, berth_log_fn debug, void *debug_data, berth_error **err)
{
        (void)err;
        berth_context *ctx = xzalloc(sizeof *ctx);
        ctx->root = xstrdup(root ? root : BERTH_DEFAULT_ROOT);
        ctx->debug = debug;
        ctx->debug_data = debug_data;
        return ctx;
}

void berth_context_free(berth_context *ctx)
{
        if (ctx) {
                free(ctx->root);
                free(ctx);
        }
}

berth_bundle *berth_bundle_load(const char *dir, berth_error **err)
{
        struct spec *s = spec_load(dir, err);
        if (!s)
                return NULL;
        berth_bundle *b = xzalloc(sizeof *b);
        b->spec = s;
        return b;
}

void berth_bundle_free(berth_bundle *bundle)
{
        if (bundle) {
                spec_free(bundle->spec);
                free(bundle);
        }
}

int berth_id_check(const char *id, berth_error **err)
{
        size_t len = strlen(id);
        if (len == 0)
                return error_set(err, 0, "invalid container id: empty");
        if (len > ID_MAX)
                return error_set(err, 0, "invalid container id: longer than %d bytes", ID_MAX);
        if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return error_set(err, 0, "invalid container id `%s`", id);
        /* As runc: the id names a directory and a cgroup, so keep it to a safe alphabet. */
        if (id[strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")] != '\0')
                return error_set(
                        err, 0, "invalid container id `%s`: only letters, digits and `_+-.` are allowed", id);
        return 0;
}

const char *berth_status_name(enum berth_status status)
{
        switch (status) {
        case BERTH_CREATING:
                return "creating";
        case BERTH_CREATED:
                return "created";
        case BERTH_RUNNING:
                return "running";
        case BERTH_PAUSED:
                return "paused";
        case BERTH_STOPPED:
                return "stopped";
        }
        return "unknown";
}

/* ---- create ------------------------------------------------------------ */

struct launch {
        berth_context *ctx;
        const char *id;
        const struct spec *s;
        struct berth_create_options opts;
        bool fifo;   /* create: the init waits on the exec fifo; run: on the sync channel */
        bool detach; /* create, run -d: nobody stays to proxy a terminal */
        int rootfd, dirfd, fifofd;
        int console_sock; /* connected --console-socket, or -1 */
        int master;       /* pty master kept for a foreground run, or -1 */
        struct spec *notify_spec; /* the spec with the notify socket's mount, owned */
        int notify_fd;            /* run: the container's notify socket, or -1 */
        int sync[2];
        struct cgroup *cg;
        int pidfd;
        pid_t pid;
        char *created;
        struct net_launch net;
        int startfd;    /* create with startContainer/poststart hooks: the start fifo (hooks.h), or -1 */
        pid_t host_pid; /* in the init: its pid as the runtime sees it, for the hooks' state */
        bool born_in_v2; /* clone3 put the init in its cgroup2 directory already */
        bool memory_late_ok; /* the init may join its v1 memory cgroup late (memory_late_ok) */
        int memory_late;     /* in the init: `tasks` of its v1 memory cgroup, joined last (init_setup) */
        struct monitor *mon; /* --monitor / --exit-file of a detached container (monitor.h), or NULL */
};

static int check_supported(const struct launch *l, berth_error **err)
{
        const struct spec *s = l->s;
        if (console_check(s->process.terminal, l->detach, l->opts.console_socket, err) < 0)
                return -1;
        if (l->opts.preserve_fds < 0 || l->opts.listen_fds < 0)
                return error_set(err, 0, "--preserve-fds: expected a non-negative number");
        if (!s->namespaces[NS_MNT].present)
                return error_set(err, 0, "linux.namespaces: a mount namespace is required");
        if (ns_check_paths(s, err) < 0)
                return -1;
        /* clone(2), berth's way without clone3, has no bit left for it (pidfd.h). */
        if ((ns_clone_flags(s) & CLONE_NEWTIME) && !pidfd_have_clone3())
                return error_set(err, ENOSYS,
                                 "linux.namespaces: a new time namespace needs clone3(2), which this system "
                                 "does not have");
        return sysctl_check_host(s, err);
}

/* Only once inside its cgroup, so that the namespace's root is the container's cgroup. */
static int enter_cgroup_ns(const struct spec *s, berth_error **err)
{
        if (s->namespaces[NS_CGROUP].present && !s->namespaces[NS_CGROUP].path &&
            unshare(CLONE_NEWCGROUP) < 0)
                return error_set(err, errno, "create cgroup namespace");
        return 0;
}

/* Whether the init may join its v1 memory cgroup, and make its cgroup
 * namespace, only after its mounts: not when a cgroup2 mount of the spec's
 * own needs that namespace, nor for a caller who is not root (a `tasks`
 * write is checked against the uid that opened it). */
static bool memory_late_ok(const struct spec *s)
{
        if (geteuid() != 0)
                return false;
        for (size_t i = 0; i < s->n_mounts; i++)
                if (s->mounts[i].type && strcmp(s->mounts[i].type, "cgroup2") == 0)
                        return false;
        return true;
}

/* The v1 memory cgroup, then the cgroup namespace, that cgroup_enter_self
 * left for now: what berth does inside the container until its mounts are
 * made is not charged to the container's memory. */
static int init_join_late(struct launch *l, berth_error **err)
{
        if (l->memory_late < 0)
                return 0;
        return cgroup_enter_late(l->cg, &l->memory_late, err) < 0 ? -1 : enter_cgroup_ns(l->s, err);
}

/* Mounts made, not pivoted yet: the prestart, createRuntime and
 * createContainer hooks' moment.  They may look at the container's cgroups
 * and namespaces: all of them are joined by then. */
static int init_before_pivot(void *data, berth_error **err)
{
        struct launch *l = data;
        const struct hooks *h = l->s->hooks;
        bool any = hooks_have(h, HOOK_PRESTART) || hooks_have(h, HOOK_CREATE_RUNTIME) ||
                   hooks_have(h, HOOK_CREATE_CONTAINER);
        if (any && init_join_late(l, err) < 0)
                return -1;
        return hooks_init_create(l->s, l->id, l->sync[1], &l->host_pid, err);
}

static int init_setup(struct launch *l, berth_error **err)
{
        const struct spec *s = l->s;
        /* Detached id-mapped mounts come first; unused ones close at exec. */
        _cleanup_free_ int *idmap_fds = NULL;
        if (idmap_receive_mounts(s, l->sync[1], &idmap_fds, err) < 0 ||
            sync_expect(l->sync[1], SYNC_GO_SETUP, err) < 0)
                return -1;
        /* First of all, and while still the caller's root: join the cgroup
         * (after GO_SETUP, so that a failure finds the parent reading). */
        if (l->cg &&
            cgroup_enter_self(l->cg, l->born_in_v2, l->memory_late_ok ? &l->memory_late : NULL, err) < 0)
                return -1;
        /* A rootless init was left dumpable for its id maps (launch_clone). */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return error_set(err, errno, "make the init non-dumpable");
        /* Its own session: no way back to the caller's terminal (TIOCSTI). */
        if (setsid() < 0)
                return error_set(err, errno, "start a new session");
        if (s->namespaces[NS_USER].present && !s->namespaces[NS_USER].path &&
            (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                return error_set(err, errno, "become root in the user namespace");
        if (ns_join_paths(s, err) < 0)
                return -1;
        /* (A cgroup2 mount needs the cgroup namespace first: that is a v2
         * host, where there is no late join.) */
        if (l->memory_late < 0 && enter_cgroup_ns(s, err) < 0)
                return -1;
        if (process_setup(s, !l->opts.no_new_keyring, l->id, err) < 0)
                return -1;
        if (!s->namespaces[NS_MNT].path &&
            rootfs_prepare(s, l->cg, l->opts.no_pivot, idmap_fds, init_before_pivot, l, err) < 0)
                return -1;
        if (s->namespaces[NS_MNT].path && init_before_pivot(l, err) < 0)
                return -1;
        if (s->process.terminal &&
            console_setup_child(l->sync[1], s->process.console_height, s->process.console_width,
                                !s->namespaces[NS_MNT].path, s->process.user.uid, err) < 0)
                return -1;
        return init_join_late(l, err);
}

static int init_wait_start(struct launch *l, berth_error **err)
{
        if (!l->fifo)
                return sync_expect(l->sync[1], SYNC_GO_EXEC, err);
        close(l->sync[1]);
        l->sync[1] = -1;
        /* The fifo is open read-write, so this read blocks (no EOF) until `start` writes. */
        char c;
        ssize_t n;
        while ((n = read(l->fifofd, &c, 1)) < 0 && errno == EINTR)
                ;
        return n == 1 ? 0 : error_set(err, errno, "read exec fifo");
}

/* Socket activation: the process learns its fds from LISTEN_FDS and that
 * they are its own from LISTEN_PID, its pid as it sees it. */
static char **listen_env(char *const *env, int n)
{
        char fds[32], pid[32];
        snprintf(fds, sizeof fds, "LISTEN_FDS=%d", n);
        snprintf(pid, sizeof pid, "LISTEN_PID=%d", (int)getpid());
        char *add[] = {fds, pid, NULL};
        return process_env_merge(env, add);
}

static _Noreturn void init_main(struct launch *l)
{
        berth_error *err = NULL;
        monitor_init_child(l->mon);
        close(l->sync[0]);
        close(l->dirfd); /* the parent's lock must not outlive the parent */
        close(l->rootfd);
        cleanup_close_(&l->console_sock);
        cleanup_close_(&l->notify_fd);
        umask(0);
        if (init_setup(l, &err) == 0) {
                /* The init's own copy: only the environment differs. */
                struct spec s = *l->s;
                if (l->opts.listen_fds > 0)
                        s.process.env = listen_env(l->s->process.env, l->opts.listen_fds);
                security_child_channel(&s, l->sync[1]);
                _cleanup_free_ char *path = process_finalize(&s, &err);
                if (path && sync_send(l->sync[1], SYNC_READY) == 0 && init_wait_start(l, &err) == 0 &&
                    hooks_init_start(l->s, l->id, l->host_pid, &err) == 0) {
                        monitor_init_started(l->mon);
                        process_exec(&s, path, l->opts.listen_fds + l->opts.preserve_fds, &err);
                }
        }
        if (l->sync[1] >= 0)
                sync_send_error(l->sync[1], err);
        else if (l->startfd >= 0)
                hooks_start_fifo_report(l->startfd, err);
        _exit(127);
}

static int launch_clone(struct launch *l, berth_error **err)
{
        int saved[2];
        int min = 3 + l->opts.listen_fds + l->opts.preserve_fds;
        l->sync[0] = fd_move_above(l->sync[0], min);
        l->sync[1] = fd_move_above(l->sync[1], min);
        l->fifofd = fd_move_above(l->fifofd, min);
        l->startfd = fd_move_above(l->startfd, min);
        /* Born non-dumpable: until it execs, the init is berth, and nothing in
         * the container may open its /proc/PID/exe (the berth binary,
         * CVE-2019-5736) or fd/, or ptrace it.  execve makes it dumpable again.
         * A rootless caller writes the id maps through /proc/PID, which stays
         * root-owned for a non-dumpable process: that init makes itself
         * non-dumpable once the maps are written (init_setup), before anything
         * of the container runs. */
        int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
        bool rootless_maps =
                geteuid() != 0 && l->s->namespaces[NS_USER].present && !l->s->namespaces[NS_USER].path;
        if (!rootless_maps && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return error_set(err, errno, "make berth non-dumpable");
        if (ns_enter_for_children(l->s, saved, err) < 0) {
                prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
                return -1;
        }
        int net_saved[2];
        if (net_enter_for_children(&l->net, net_saved, err) < 0) {
                ns_restore_for_children(saved);
                prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
                return -1;
        }
        struct berth_clone_args args = {
                .flags = net_clone_flags(&l->net, ns_clone_flags(l->s)) | CLONE_PIDFD | CLONE_CLEAR_SIGHAND,
                .pidfd = (uint64_t)(uintptr_t)&l->pidfd,
                .exit_signal = SIGCHLD,
        };
        long pid = cgroup_clone3(&args, l->cg, &l->born_in_v2);
        if (pid == 0)
                init_main(l);
        int e = errno;
        ns_restore_for_children(saved);
        net_restore_for_children(net_saved);
        prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
        if (pid < 0)
                return error_set(err, e, "clone the container init");
        l->pid = (pid_t)pid;
        close(l->sync[1]);
        l->sync[1] = -1;
        cleanup_close_(&l->fifofd);
        l->fifofd = -1;
        cleanup_close_(&l->startfd);
        l->startfd = -1;
        return 0;
}

static void launch_undo(struct launch *l)
{
        if (l->pid > 0) {
                pidfd_signal(l->pidfd, SIGKILL);
                if (l->mon) /* its parent: done once it has reaped it */
                        monitor_wait(l->dirfd);
                else
                        waitpid(l->pid, NULL, 0);
        }
        net_undo(&l->net);
        if (l->cg)
                cgroup_destroy(l->cg, NULL);
        if (l->dirfd >= 0)
                state_dir_remove(l->rootfd, l->id, NULL);
        /* runtime.md: a failed create goes on to destroy and then to the poststop hooks. */
        if (l->pid > 0)
                hooks_warn_run(l->ctx, l->s->hooks, HOOK_POSTSTOP, l->id, "stopped", 0, l->s->bundle,
                               l->s->annotations);
}

static void launch_close(struct launch *l)
{
        int *fds[] = {&l->rootfd, &l->dirfd,        &l->fifofd, &l->sync[0], &l->sync[1],
                      &l->pidfd,  &l->console_sock, &l->master, &l->notify_fd};
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                cleanup_close_(fds[i]);
        cgroup_free(l->cg);
        free(l->created);
        spec_free(l->notify_spec);
        cleanup_close_(&l->startfd);
        net_launch_close(&l->net);
        monitor_free(l->mon);
}

static void saved_from_launch(const struct launch *l, struct saved_state *st)
{
        *st = (struct saved_state){
                .id = (char *)l->id,
                .bundle = l->s->bundle,
                .rootfs = l->s->root_path,
                .created = l->created,
                .annotations = l->s->annotations,
                .pid = l->pid,
                .start_time = l->pid ? proc_start_time(l->pid) : 0,
                .cgroup = l->cg,
                .hooks = l->s->hooks ? l->s->hooks->saved : NULL,
                .net = l->net.saved,
        };
}

/* Like runc, a caller who is not root and may not create cgroups (none
 * delegated to it) runs the container in its own cgroup instead. */
static int rootless_without_cgroup(struct launch *l, berth_error **err)
{
        int e = *err ? (*err)->errnum : 0;
        if (geteuid() == 0 || (e != EACCES && e != EPERM && e != EROFS))
                return -1;
        ctx_debug(l->ctx, "container %s: no cgroup (%s)", l->id, (*err)->msg);
        berth_error_free(*err);
        *err = NULL;
        l->cg = xzalloc(sizeof *l->cg);
        return 0;
}

/* Test-only (tests/integration/test_faults.py): BERTH_TEST_FAULT=<step> in
 * the environment makes create die by SIGKILL right after that step, as a
 * crash or `kill -9` would there, so the tests can check what `state` says
 * and that `delete --force` removes everything.  Steps, in order:
 * `state-dir` (its directory, no state.json yet), `cgroup` (made),
 * `clone` (the init exists), `ready` (the init is set up and waits;
 * state.json does not have its pid yet), `state` (state.json complete,
 * before the pid file). */
static void test_fault(const char *step)
{
        static const char *want;
        static bool looked;
        if (!looked) {
                want = getenv("BERTH_TEST_FAULT");
                looked = true;
        }
        if (want && strcmp(want, step) == 0)
                raise(SIGKILL);
}

/* The cgroup goes into state.json before it is made, so that a create
 * killed while making it is still found (and removed) by `delete`. */
static int launch_cgroup(struct launch *l, berth_error **err)
{
        struct cgroup *plan = cgroup_plan(l->id, l->s->cgroups_path, err);
        if (!plan)
                return -1;
        l->created = now_rfc3339();
        struct saved_state st;
        saved_from_launch(l, &st);
        st.cgroup = plan;
        if (state_write(l->dirfd, &st, err) < 0) {
                cgroup_free(plan);
                return -1;
        }
        if (cgroup_make(plan, err) < 0) {
                cgroup_free(plan);
                return rootless_without_cgroup(l, err);
        }
        l->cg = plan;
        test_fault("cgroup");
        return 0;
}

static int launch_prepare(struct launch *l, berth_error **err)
{
        if (l->opts.console_socket) {
                l->console_sock = console_socket_connect(l->opts.console_socket, err);
                if (l->console_sock < 0)
                        return -1;
        }
        l->rootfd = state_root_open(l->ctx->root, err);
        if (l->rootfd < 0)
                return -1;
        l->dirfd = state_dir_create(l->rootfd, l->id, err);
        if (l->dirfd < 0)
                return -1;
        test_fault("state-dir");
        if (launch_cgroup(l, err) < 0)
                return -1;
        if (l->cg->n > 0)
                ctx_debug(l->ctx, "container %s: cgroup %s%s and %zu more", l->id, l->cg->dirs[0].mount,
                          l->cg->dirs[0].path, l->cg->n - 1);
        /* Limits are in place before any process of the container exists. */
        if (control_apply_spec(l->s, l->cg, err) < 0)
                return -1;
        if (l->opts.notify_socket) {
                if (notify_prepare(l->dirfd, l->opts.notify_socket, err) < 0)
                        return -1;
                /* run waits for READY itself; a created container's `start` binds it. */
                if (!l->fifo && (l->notify_fd = notify_bind(l->dirfd, err)) < 0)
                        return -1;
        }
        /* exec starts from the config the container was made with, not from a bundle changed since. */
        int r = write_file_atomic(l->dirfd, SAVED_CONFIG, l->s->config_text, strlen(l->s->config_text), 0600);
        if (r < 0)
                return error_set(err, -r, "save the config of container `%s`", l->id);
        /* The init holds the exec fifo open read-write from here on: it can then
         * wait on it whatever user it becomes, and `start` sees a dead init as ENXIO. */
        if (l->fifo) {
                if (mkfifoat(l->dirfd, EXEC_FIFO, 0600) < 0)
                        return error_set(err, errno, "create exec fifo");
                l->fifofd = openat(l->dirfd, EXEC_FIFO, O_RDWR | O_CLOEXEC);
                if (l->fifofd < 0)
                        return error_set(err, errno, "open exec fifo");
                if (hooks_start_fifo_create(l->s, l->dirfd, &l->startfd, err) < 0)
                        return -1;
        }
        return sync_pair(l->sync, err);
}

/* The init's pty master goes to the console socket, or stays for the foreground. */
static int launch_console(struct launch *l, berth_error **err)
{
        const struct spec_process *p = &l->s->process;
        if (sync_expect_fd(l->sync[0], SYNC_CONSOLE, &l->master, err) < 0)
                return -1;
        if (l->console_sock < 0) {
                /* process.consoleSize, when given, wins at the start. */
                if (!(p->console_height && p->console_width))
                        console_copy_size(l->master);
                return 0;
        }
        int r = console_socket_send(l->console_sock, l->opts.console_socket, l->master, err);
        cleanup_close_(&l->master);
        l->master = -1;
        return r;
}

static int launch_clone_cb(void *data, berth_error **err)
{
        return launch_clone(data, err);
}

/* A detached container with --monitor or --exit-file: the monitor makes the
 * clone, so that it is the init's parent (monitor.h). */
static int launch_clone_monitored(struct launch *l, berth_error **err)
{
        l->mon = monitor_new(l->cg, l->dirfd, l->opts.exit_file,
                             3 + l->opts.listen_fds + l->opts.preserve_fds);
        if (monitor_clone(l->mon, launch_clone_cb, l, &l->pid, &l->pidfd, err) < 0)
                return -1;
        /* What launch_clone closed in the monitor after the clone. */
        int *fds[] = {&l->sync[1], &l->fifofd, &l->startfd};
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
                cleanup_close_(fds[i]);
                *fds[i] = -1;
        }
        return 0;
}

static int launch_run_init(struct launch *l, berth_error **err)
{
        bool monitored = l->detach && (l->opts.monitor || l->opts.exit_file);
        if ((monitored ? launch_clone_monitored(l, err) : launch_clone(l, err)) < 0)
                return -1;
        ctx_debug(l->ctx, "container %s: init has pid %d", l->id, l->pid);
        test_fault("clone");
        if (ns_write_idmaps(l->s, l->pid, err) < 0 ||
            idmap_send_mounts(l->s, l->pid, l->sync[0], err) < 0)
                return -1;
        if (sync_send(l->sync[0], SYNC_GO_SETUP) < 0)
                return error_set(err, errno, "signal the container init");
        if (net_setup(&l->net, l->pid, err) < 0 ||
            hooks_parent_create(l->s, l->id, l->pid, l->sync[0], err) < 0)
                return -1;
        if (l->s->process.terminal && launch_console(l, err) < 0)
                return -1;
        if (security_listener_handover(l->ctx, l->s, l->sync[0], l->id, l->pid, "creating", err) < 0)
                return -1;
        if (sync_expect(l->sync[0], SYNC_READY, err) < 0)
                return -1;
        test_fault("ready");
        struct saved_state st;
        saved_from_launch(l, &st);
        if (state_write(l->dirfd, &st, err) < 0)
                return -1;
        test_fault("state");
        if (l->opts.pid_file) {
                char buf[16];
                int n = snprintf(buf, sizeof buf, "%d", l->pid);
                int r = write_file_atomic(AT_FDCWD, l->opts.pid_file, buf, (size_t)n, 0644);
                if (r < 0)
                        return error_set(err, -r, "write pid file `%s`", l->opts.pid_file);
        }
        return 0;
}

/* Everything of create up to a waiting init; on failure nothing remains. */
/* NOTIFY_SOCKET: the container gets the notify dir of its state dir mounted
 * and the variable set, as if its config.json said so. */
static int launch_notify_spec(struct launch *l, berth_error **err)
{
        const char *root = l->ctx->root;
        _cleanup_free_ char *cwd = root[0] == '/' ? NULL : getcwd(NULL, 0);
        _cleanup_free_ char *dir = xasprintf("%s%s%s/%s", cwd ? cwd : "", cwd ? "/" : "", root, l->id);
        _cleanup_free_ char *text = notify_config(l->s->config_text, dir, err);
        if (!text)
                return -1;
        l->notify_spec = spec_parse(text, l->s->bundle, "config.json", err);
        if (!l->notify_spec)
                return -1;
        l->s = l->notify_spec;
        return 0;
}

static int launch(struct launch *l, berth_error **err)
{
        if (berth_id_check(l->id, err) < 0 || (l->opts.notify_socket && launch_notify_spec(l, err) < 0))
                return -1;
        if (check_supported(l, err) < 0 ||
            net_prepare(&l->net, l->ctx, l->s, err) < 0)
                return -1;
        l->memory_late_ok = memory_late_ok(l->s);
        process_probe();
        if (security_prepare(l->ctx, l->s, err) < 0 ||
            landlock_check(l->ctx, l->s->landlock, l->opts.ignore_unsupported, err) < 0)
                return -1;
        if (launch_prepare(l, err) < 0 || launch_run_init(l, err) < 0) {
                launch_undo(l);
                error_wrap(err, "container `%s`", l->id);
                return -1;
        }
        return 0;
}

static void launch_init(struct launch *l, berth_context *ctx, const char *id, const berth_bundle *b,
                        const struct berth_create_options *opts)
{
        *l = (struct launch){.ctx = ctx,
                             .id = id,
                             .s = b->spec,
                             .rootfd = -1,
                             .dirfd = -1,
                             .fifofd = -1,
                             .sync = {-1, -1},
                             .pidfd = -1,
                             .console_sock = -1,
                             .master = -1,
                             .notify_fd = -1,
                             .startfd = -1,
                             .memory_late = -1};
        net_launch_init(&l->net);
        if (opts)
                l->opts = *opts;
}

int berth_create(berth_context *ctx, const char *id, const berth_bundle *bundle,
                 const struct berth_create_options *opts, berth_error **err)
{
        struct launch l;
        launch_init(&l, ctx, id, bundle, opts);
        l.fifo = true;
        l.detach = true;
        int r = launch(&l, err);
        launch_close(&l);
        return r;
}

/* ---- run --------------------------------------------------------------- */

int exit_code_of(int status, struct berth_exit_status *out)
{
        *out = (struct berth_exit_status){0};
        if (WIFEXITED(status)) {
                out->exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
                out->signal = WTERMSIG(status);
                out->exit_code = 128 + out->signal;
        }
        return out->exit_code;
}

/* Relay signals to the init (and proxy its terminal) until it exits. */
static int wait_init(struct launch *l, int sigfd, struct berth_exit_status *out, berth_error **err)
{
        struct console_wait w = {.pidfd = l->pidfd,
                                 .pid = l->pid,
                                 .sigfd = sigfd,
                                 .master = l->master,
                                 .notify_fd = l->notify_fd,
                                 .notify_host = l->opts.notify_socket};
        int status;
        if (console_wait(&w, &status, err) < 0) {
                error_wrap(err, "container `%s`", l->id);
                return -1;
        }
        l->pid = 0;
        exit_code_of(status, out);
        return 0;
}

static int run_remove(berth_context *ctx, const char *id, berth_error **err)
{
        struct handle h;
        if (handle_open(ctx, id, true, &h, err) < 0)
                return -1;
        int r = handle_destroy(&h, err);
        handle_close(&h);
        return r;
}

static int run_started(struct launch *l, const struct berth_run_options *o, int sigfd,
                       struct berth_exit_status *status, berth_error **err)
{
        if (o->on_start)
                o->on_start(o->on_start_data, l->id, l->pid);
        if (sync_send(l->sync[0], SYNC_GO_EXEC) < 0 || sync_expect_exec(l->sync[0], err) < 0) {
                launch_undo(l);
                error_wrap(err, "container `%s`", l->id);
                return -1;
        }
        /* An exit report in the foreground (berth is the init's parent). */
        bool report = !o->detach && (o->keep || l->opts.exit_file);
        struct timespec started;
        if (report)
                clock_gettime(CLOCK_REALTIME, &started);
        hooks_warn_run(l->ctx, l->s->hooks, HOOK_POSTSTART, l->id, "running", l->pid, l->s->bundle,
                       l->s->annotations);
        /* Unlocked while it runs: kill, state and delete from others must work. */
        cleanup_close_(&l->dirfd);
        l->dirfd = -1;
        if (o->detach && l->notify_fd >= 0)
                return notify_wait(l->notify_fd, l->pidfd, l->opts.notify_socket, l->pid, err);
        if (o->detach)
                return 0;
        if (wait_init(l, sigfd, status, err) < 0)
                return -1;
        /* Read before the cgroup goes: the kill counter is the only witness. */
        status->oom_killed = cgroup_oom_kills(l->cg) > 0;
        ctx_debug(l->ctx, "container %s: exited with %d", l->id, status->exit_code);
        if (report)
                exit_report_run(l->ctx, l->cg, status, &started, l->rootfd, l->id, o->keep,
                                l->opts.exit_file);
        return o->keep ? 0 : run_remove(l->ctx, l->id, err);
}

int berth_run(berth_context *ctx, const char *id, const berth_bundle *bundle,
              const struct berth_run_options *opts, struct berth_exit_status *status, berth_error **err)
{
        static const struct berth_run_options none;
        const struct berth_run_options *o = opts ? opts : &none;
        struct berth_exit_status ignored;
        struct launch l;
        launch_init(&l, ctx, id, bundle, &o->create);
        l.detach = o->detach;
        sigset_t all, old;
        int sigfd = -1;
        if (o->forward_signals && !o->detach) {
                /* Blocked before clone so no signal falls between clone and the signalfd. */
                sigfillset(&all);
                sigprocmask(SIG_BLOCK, &all, &old);
                sigfd = signalfd(-1, &all, SFD_CLOEXEC);
        }
        int r = launch(&l, err);
        if (r == 0)
                r = run_started(&l, o, sigfd, status ? status : &ignored, err);
        if (sigfd >= 0) {
                close(sigfd);
                sigprocmask(SIG_SETMASK, &old, NULL);
        }
        launch_close(&l);
        return r;
}
