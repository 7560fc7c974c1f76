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
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cgroups.h"
#include "container.h"
#include "namespaces.h"
#include "process.h"
#include "rootfs.h"
#include "state.h"
#include "sync.h"
#include "syscalls.h"

#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#define ID_MAX 1024
#define KILL_WAIT_MS 10000

void ctx_debug(berth_context *ctx, const char *fmt, ...)
{
        if (!ctx->debug)
                return;
        va_list ap;
        char *msg;
        va_start(ap, fmt);
        int n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n >= 0) {
                ctx->debug(ctx->debug_data, msg);
                free(msg);
        }
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
        bool fifo; /* create: the init waits on the exec fifo; run: on the sync channel */
        int rootfd, dirfd, fifofd;
        int sync[2];
        struct cgroup *cg;
        int pidfd;
        pid_t pid;
        char *created;
};

static int check_supported(const struct launch *l, berth_error **err)
{
        const struct spec *s = l->s;
        if (s->process.terminal)
                return error_set(err, 0, "process.terminal: not supported yet");
        if (l->opts.console_socket)
                return error_set(err, 0, "--console-socket: not supported yet");
        if (l->opts.preserve_fds < 0)
                return error_set(err, 0, "--preserve-fds: expected a non-negative number");
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct spec_mount *m = &s->mounts[i];
                if (m->rec_attr_set || m->rec_attr_clear || m->tmpcopyup || m->idmap || m->recursive_idmap)
                        return error_set(err, 0,
                                         "mounts[%zu].options: recursive attributes, `tmpcopyup` and "
                                         "id-mapped mounts: not supported yet",
                                         i);
        }
        if (!s->namespaces[NS_MNT].present)
                return error_set(err, 0, "linux.namespaces: a mount namespace is required");
        return ns_check_paths(s, err);
}

static int init_setup(struct launch *l, berth_error **err)
{
        const struct spec *s = l->s;
        if (sync_expect(l->sync[1], SYNC_GO_SETUP, err) < 0)
                return -1;
        if (s->namespaces[NS_USER].present && !s->namespaces[NS_USER].path &&
            (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                return error_set(err, errno, "become root in the user namespace");
        if (ns_join_paths(s, err) < 0)
                return -1;
        /* Only now, inside its cgroup, so that the namespace's root is the container's cgroup. */
        if (s->namespaces[NS_CGROUP].present && !s->namespaces[NS_CGROUP].path &&
            unshare(CLONE_NEWCGROUP) < 0)
                return error_set(err, errno, "create cgroup namespace");
        if (process_setup(s, !l->opts.no_new_keyring, l->id, err) < 0)
                return -1;
        if (!s->namespaces[NS_MNT].path && rootfs_prepare(s, l->cg, l->opts.no_pivot, err) < 0)
                return -1;
        return 0;
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

static _Noreturn void init_main(struct launch *l)
{
        berth_error *err = NULL;
        close(l->sync[0]);
        close(l->dirfd); /* the parent's lock must not outlive the parent */
        close(l->rootfd);
        umask(0);
        if (init_setup(l, &err) == 0) {
                _cleanup_free_ char *path = process_finalize(l->s, &err);
                if (path && sync_send(l->sync[1], SYNC_READY) == 0 && init_wait_start(l, &err) == 0)
                        process_exec(l->s, path, l->opts.preserve_fds, &err);
        }
        if (l->sync[1] >= 0)
                sync_send_error(l->sync[1], err);
        _exit(127);
}

/* fds the init keeps until exec must not sit where preserved fds go. */
static int move_above(int fd, int min)
{
        if (fd < 0 || fd >= min)
                return fd;
        int n = fcntl(fd, F_DUPFD_CLOEXEC, min);
        close(fd);
        return n;
}

static int launch_clone(struct launch *l, berth_error **err)
{
        int saved[2];
        int min = 3 + l->opts.preserve_fds;
        l->sync[0] = move_above(l->sync[0], min);
        l->sync[1] = move_above(l->sync[1], min);
        l->fifofd = move_above(l->fifofd, min);
        if (ns_enter_for_children(l->s, saved, err) < 0)
                return -1;
        struct berth_clone_args args = {
                .flags = ns_clone_flags(l->s) | CLONE_PIDFD | CLONE_CLEAR_SIGHAND,
                .pidfd = (uint64_t)(uintptr_t)&l->pidfd,
                .exit_signal = SIGCHLD,
        };
        long pid = sys_clone3(&args);
        if (pid == 0)
                init_main(l);
        int e = errno;
        ns_restore_for_children(saved);
        if (pid < 0)
                return error_set(err, e, "clone the container init");
        l->pid = (pid_t)pid;
        close(l->sync[1]);
        l->sync[1] = -1;
        cleanup_close_(&l->fifofd);
        l->fifofd = -1;
        return 0;
}

static void launch_undo(struct launch *l)
{
        if (l->pid > 0) {
                sys_pidfd_send_signal(l->pidfd, SIGKILL);
                waitpid(l->pid, NULL, 0);
        }
        if (l->cg)
                cgroup_destroy(l->cg, NULL);
        if (l->dirfd >= 0)
                state_dir_remove(l->rootfd, l->id, NULL);
}

static void launch_close(struct launch *l)
{
        int *fds[] = {&l->rootfd, &l->dirfd, &l->fifofd, &l->sync[0], &l->sync[1], &l->pidfd};
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                cleanup_close_(fds[i]);
        cgroup_free(l->cg);
        free(l->created);
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
        };
}

static int launch_prepare(struct launch *l, berth_error **err)
{
        l->rootfd = state_root_open(l->ctx->root, err);
        if (l->rootfd < 0)
                return -1;
        l->dirfd = state_dir_create(l->rootfd, l->id, err);
        if (l->dirfd < 0)
                return -1;
        l->cg = cgroup_create(l->id, l->s->cgroups_path, err);
        if (!l->cg)
                return -1;
        ctx_debug(l->ctx, "container %s: cgroup %s%s and %zu more", l->id, l->cg->dirs[0].mount,
                  l->cg->dirs[0].path, l->cg->n - 1);
        l->created = now_rfc3339();
        struct saved_state st;
        saved_from_launch(l, &st);
        if (state_write(l->dirfd, &st, err) < 0)
                return -1;
        /* The init holds the exec fifo open read-write from here on: it can then
         * wait on it whatever user it becomes, and `start` sees a dead init as ENXIO. */
        if (l->fifo) {
                if (mkfifoat(l->dirfd, EXEC_FIFO, 0600) < 0)
                        return error_set(err, errno, "create exec fifo");
                l->fifofd = openat(l->dirfd, EXEC_FIFO, O_RDWR | O_CLOEXEC);
                if (l->fifofd < 0)
                        return error_set(err, errno, "open exec fifo");
        }
        return sync_pair(l->sync, err);
}

static int launch_run_init(struct launch *l, berth_error **err)
{
        if (launch_clone(l, err) < 0)
                return -1;
        ctx_debug(l->ctx, "container %s: init has pid %d", l->id, l->pid);
        if (cgroup_enter(l->cg, l->pid, err) < 0 || ns_write_idmaps(l->s, l->pid, err) < 0)
                return -1;
        if (sync_send(l->sync[0], SYNC_GO_SETUP) < 0)
                return error_set(err, errno, "signal the container init");
        if (sync_expect(l->sync[0], SYNC_READY, err) < 0)
                return -1;
        struct saved_state st;
        saved_from_launch(l, &st);
        if (state_write(l->dirfd, &st, err) < 0)
                return -1;
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
static int launch(struct launch *l, berth_error **err)
{
        if (berth_id_check(l->id, err) < 0 || check_supported(l, err) < 0)
                return -1;
        process_probe();
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
                             .pidfd = -1};
        if (opts)
                l->opts = *opts;
}

int berth_create(berth_context *ctx, const char *id, const berth_bundle *bundle,
                 const struct berth_create_options *opts, berth_error **err)
{
        struct launch l;
        launch_init(&l, ctx, id, bundle, opts);
        l.fifo = true;
        int r = launch(&l, err);
        launch_close(&l);
        return r;
}

/* ---- run --------------------------------------------------------------- */

static int exit_code_of(int status, struct berth_exit_status *out)
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

/* Relay signals to the init until it exits; SIGCHLD only says to look. */
static int wait_init(struct launch *l, int sigfd, struct berth_exit_status *out, berth_error **err)
{
        struct pollfd p[2] = {{.fd = l->pidfd, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
        for (;;) {
                if (poll(p, sigfd >= 0 ? 2 : 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return error_set(err, errno, "wait for container `%s`", l->id);
                }
                if (p[0].revents) {
                        int status;
                        while (waitpid(l->pid, &status, 0) < 0)
                                if (errno != EINTR)
                                        return error_set(err, errno, "wait for container `%s`", l->id);
                        l->pid = 0;
                        exit_code_of(status, out);
                        return 0;
                }
                struct signalfd_siginfo si;
                if (sigfd >= 0 && read(sigfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD)
                        sys_pidfd_send_signal(l->pidfd, (int)si.ssi_signo);
        }
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
        /* Unlocked while it runs: kill, state and delete from others must work. */
        cleanup_close_(&l->dirfd);
        l->dirfd = -1;
        if (o->detach)
                return 0;
        if (wait_init(l, sigfd, status, err) < 0)
                return -1;
        ctx_debug(l->ctx, "container %s: exited with %d", l->id, status->exit_code);
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
