/* exec: a new process in a running container.
 *
 * berth clones the process straight into the container's pid (and time)
 * namespace, born non-dumpable, and moves it into the container's cgroup
 * before it does anything.  The process then joins the other namespaces of
 * the init (through the init's pidfd, in one atomic setns where the kernel
 * allows, else from /proc/PID/ns), and goes through the same last steps as
 * the init: process_finalize() and process_exec(), which close every host fd
 * and apply capabilities, no_new_privs and seccomp. */
#define _GNU_SOURCE
#include "exec.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "console.h"
#include "container.h"
#include "namespaces.h"
#include "landlock.h"
#include "pidfd.h"
#include "process.h"
#include "security.h"
#include "sync.h"
#include "syscalls.h"

struct exec {
        berth_context *ctx;
        const char *id;
        const struct berth_exec_options *o;
        struct handle h;
        struct spec *s;    /* the saved config, its process replaced by the exec'd one */
        struct cgroup *cg; /* where the process goes */
        int init_pidfd;
        pid_t init_pid;
        int join;         /* CLONE_NEW* the child joins itself */
        int for_children; /* CLONE_NEWPID / CLONE_NEWTIME the parent enters to clone it */
        int sync[2];
        int console_sock, master, sigfd;
        int pidfd;
        pid_t pid;
        bool born_in_v2; /* clone3 put the child in its cgroup2 directory already */
};

/* ---- the process: saved config + --process + options -------------------- */

static bool valid_env(const char *kv)
{
        const char *eq = strchr(kv, '=');
        return eq && eq != kv;
}

static int add_caps(struct spec_caps *c, char *const *names, berth_error **err)
{
        for (size_t i = 0; names && names[i]; i++) {
                int cap = cap_from_name(names[i]);
                if (cap < 0) {
                        _cleanup_free_ char *full = xasprintf("CAP_%s", names[i]);
                        cap = cap_from_name(full);
                }
                if (cap < 0)
                        return error_set(err, 0, "--cap: unknown capability `%s`", names[i]);
                uint64_t bit = UINT64_C(1) << cap;
                c->bounding |= bit;
                c->effective |= bit;
                c->permitted |= bit;
                /* As runc: ambient only when the process has inheritable capabilities at all. */
                if (c->inheritable)
                        c->ambient |= bit;
        }
        return 0;
}

static void add_gids(struct spec_user *u, const uint32_t *gids, size_t n)
{
        if (n == 0)
                return;
        u->additional_gids = xrealloc(u->additional_gids, (u->n_additional_gids + n) * sizeof(gid_t));
        for (size_t i = 0; i < n; i++)
                u->additional_gids[u->n_additional_gids++] = gids[i];
}

int exec_override(struct spec_process *p, const struct berth_exec_options *o, berth_error **err)
{
        if (o->apparmor_profile && *o->apparmor_profile) {
                free(p->apparmor_profile);
                p->apparmor_profile = xstrdup(o->apparmor_profile);
        }
        if (o->process_label && *o->process_label) {
                free(p->selinux_label);
                p->selinux_label = xstrdup(o->process_label);
        }
        if (o->cwd) {
                if (o->cwd[0] != '/')
                        return error_set(err, 0, "--cwd: expected an absolute path, got `%s`", o->cwd);
                free(p->cwd);
                p->cwd = xstrdup(o->cwd);
        }
        for (size_t i = 0; o->env && o->env[i]; i++)
                if (!valid_env(o->env[i]))
                        return error_set(err, 0, "--env: expected `KEY=value`, got `%s`", o->env[i]);
        if (o->env) {
                char **env = process_env_merge(p->env, o->env);
                strv_free(p->env);
                p->env = env;
        }
        if (o->set_uid)
                p->user.uid = o->uid;
        if (o->set_gid)
                p->user.gid = o->gid;
        add_gids(&p->user, o->additional_gids, o->n_additional_gids);
        if (p->caps.present && add_caps(&p->caps, o->caps, err) < 0)
                return -1;
        if (o->no_new_privs)
                p->no_new_privileges = true;
        if (o->tty)
                p->terminal = true;
        return 0;
}

static char **strv_copy(char *const *v)
{
        char **out = xzalloc(sizeof *out);
        size_t n = 0;
        for (size_t i = 0; v && v[i]; i++)
                strv_push(&out, &n, v[i]);
        return out;
}

static int load_process(struct exec *x, berth_error **err)
{
        const struct berth_exec_options *o = x->o;
        struct spec_process *p = &x->s->process;
        if (o->process_file) {
                _cleanup_free_ char *text = read_file_at(AT_FDCWD, o->process_file, NULL);
                if (!text)
                        return error_set(err, errno, "open `%s`", o->process_file);
                struct spec_process from_file;
                if (spec_parse_process(text, o->process_file, &from_file, err) < 0)
                        return -1;
                spec_process_clear(p);
                *p = from_file;
        } else {
                if (!o->args || !o->args[0] || !*o->args[0])
                        return error_set(err, 0, "exec: missing command (or --process FILE)");
                strv_free(p->args);
                p->args = strv_copy(o->args);
                /* As runc: the container's own terminal setting is not the exec's. */
                p->terminal = false;
        }
        if (exec_override(p, o, err) < 0)
                return -1;
        return console_check(p->terminal, o->detach, o->console_socket, err);
}

static int load_spec(struct exec *x, berth_error **err)
{
        _cleanup_free_ char *text = read_file_at(x->h.dirfd, SAVED_CONFIG, NULL);
        if (!text)
                return error_set(err, errno, "read the saved config of container `%s`", x->id);
        _cleanup_free_ char *name = xasprintf("%s/%s/%s", x->ctx->root, x->id, SAVED_CONFIG);
        x->s = spec_parse(text, NULL, name, err);
        if (!x->s)
                return -1;
        return load_process(x, err);
}

/* ---- --cgroup ---------------------------------------------------------- */

static bool has_controller(const char *list, const char *name, size_t len)
{
        for (const char *p = list; *p;) {
                size_t n = strcspn(p, ",");
                if (n == len && strncmp(p, name, len) == 0)
                        return true;
                p += n + (p[n] == ',');
        }
        return false;
}

static bool sub_path_ok(const char *path)
{
        if (!*path)
                return false;
        _cleanup_free_ char *copy = xstrdup(path);
        for (char *save, *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
                if (strcmp(c, "..") == 0 || strcmp(c, ".") == 0)
                        return false;
        return true;
}

static void set_sub(struct cgroup *out, const struct cgroup *cg, size_t i, const char *sub)
{
        free(out->dirs[i].path);
        while (*sub == '/')
                sub++;
        out->dirs[i].path = xasprintf("%s/%s", cg->dirs[i].path, sub);
}

static int apply_sub(struct cgroup *out, const struct cgroup *cg, const char *spec, berth_error **err)
{
        const char *colon = strchr(spec, ':');
        const char *sub = colon ? colon + 1 : spec;
        if (!sub_path_ok(sub))
                return error_set(err, 0, "--cgroup: `%s`: expected a path below the container's cgroup",
                                 spec);
        if (!colon) {
                for (size_t i = 0; i < cg->n; i++)
                        set_sub(out, cg, i, sub);
                return 0;
        }
        for (const char *c = spec; c < colon;) {
                size_t len = strcspn(c, ",:");
                bool found = false;
                for (size_t i = 0; i < cg->n; i++) {
                        if (!cg->dirs[i].v2 && has_controller(cg->dirs[i].controllers, c, len)) {
                                set_sub(out, cg, i, sub);
                                found = true;
                        }
                }
                if (!found)
                        return error_set(err, 0, "--cgroup: `%s`: no cgroup hierarchy has controller `%.*s`",
                                         spec, (int)len, c);
                c += len + (c[len] == ',');
        }
        return 0;
}

struct cgroup *exec_sub_cgroup(const struct cgroup *cg, char *const *specs, berth_error **err)
{
        struct cgroup *out = xzalloc(sizeof *out);
        out->dirs = xzalloc((cg->n ? cg->n : 1) * sizeof *out->dirs);
        for (size_t i = 0; i < cg->n; i++) {
                out->dirs[i] = (struct cgroup_dir){.controllers = xstrdup(cg->dirs[i].controllers),
                                                   .mount = xstrdup(cg->dirs[i].mount),
                                                   .path = xstrdup(cg->dirs[i].path),
                                                   .v2 = cg->dirs[i].v2};
                out->n++;
        }
        for (size_t i = 0; specs && specs[i]; i++) {
                if (apply_sub(out, cg, specs[i], err) < 0) {
                        cgroup_free(out);
                        return NULL;
                }
        }
        return out;
}

/* ---- namespaces ---------------------------------------------------------- */

static const struct {
        int flag;
        const char *name;
} kinds[] = {
        /* The user namespace first: it owns the others, and joining it gives the rights to join them. */
        {CLONE_NEWUSER, "user"}, {CLONE_NEWNS, "mnt"},        {CLONE_NEWNET, "net"}, {CLONE_NEWIPC, "ipc"},
        {CLONE_NEWUTS, "uts"},   {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWPID, "pid"}, {CLONE_NEWTIME, "time"},
};

/* Whether the init lives in another namespace of this kind than we do. */
static bool ns_differs(pid_t pid, const char *name)
{
        char path[64];
        struct stat a, b;
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, name);
        if (stat(path, &a) < 0)
                return false;
        snprintf(path, sizeof path, "/proc/self/ns/%s", name);
        if (stat(path, &b) < 0)
                return false;
        return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

static void find_namespaces(struct exec *x)
{
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
                if (!ns_differs(x->init_pid, kinds[i].name))
                        continue;
                if (kinds[i].flag == CLONE_NEWPID || kinds[i].flag == CLONE_NEWTIME)
                        x->for_children |= kinds[i].flag;
                else
                        x->join |= kinds[i].flag;
        }
}

/* One by one from /proc/PID/ns (kernels before 5.8, or a /proc handle of
 * the init where there is no pidfd_open: pidfd.h): all opened before the
 * first setns, which changes what /proc is. */
static int join_by_path(int pidfd, pid_t pid, int flags, berth_error **err)
{
        int fds[ARRAY_SIZE(kinds)];
        int r = 0;
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, kinds[i].name);
                fds[i] = (flags & kinds[i].flag) ? open(path, O_RDONLY | O_CLOEXEC) : -1;
                if ((flags & kinds[i].flag) && fds[i] < 0 && r == 0)
                        r = error_set(err, errno, "open `%s`", path);
        }
        /* Opened while the init was alive: the pid was still its own. */
        if (r == 0 && pidfd_signal(pidfd, 0) < 0)
                r = error_set(err, ESRCH, "the container's init is gone");
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
                if (fds[i] < 0)
                        continue;
                if (r == 0 && setns(fds[i], kinds[i].flag) < 0)
                        r = error_set(err, errno, "join the %s namespace of process %d", kinds[i].name,
                                      (int)pid);
                close(fds[i]);
        }
        return r;
}

/* Join the namespaces `flags` of the init: atomically through its pidfd
 * where the kernel can (5.8+; EINVAL before, and for a /proc handle), else
 * by path. */
static int join_init(int pidfd, pid_t pid, int flags, berth_error **err)
{
        if (setns(pidfd, flags) == 0)
                return 0;
        if (errno != EINVAL)
                return error_set(err, errno, "join the namespaces of process %d", (int)pid);
        return join_by_path(pidfd, pid, flags, err);
}

/* Parent: make the next child start in the init's pid and time namespaces. */
static int enter_for_children(struct exec *x, int saved[2], berth_error **err)
{
        static const char *const own[2] = {"/proc/self/ns/pid_for_children",
                                           "/proc/self/ns/time_for_children"};
        static const int flags[2] = {CLONE_NEWPID, CLONE_NEWTIME};
        saved[0] = saved[1] = -1;
        for (int i = 0; i < 2; i++) {
                if (!(x->for_children & flags[i]))
                        continue;
                saved[i] = open(own[i], O_RDONLY | O_CLOEXEC);
                if (saved[i] < 0) {
                        int e = errno;
                        ns_restore_for_children(saved);
                        return error_set(err, e, "open `%s`", own[i]);
                }
        }
        if (x->for_children && join_init(x->init_pidfd, x->init_pid, x->for_children, err) < 0) {
                ns_restore_for_children(saved);
                return -1;
        }
        return 0;
}

/* ---- the child ------------------------------------------------------------ */

static int child_setup(struct exec *x, berth_error **err)
{
        const struct spec_process *p = &x->s->process;
        /* In the cgroup before it runs anything (cgroup_enter_self: no grace-period
         * wait); after GO_SETUP so that a failure finds the parent reading. */
        if (sync_expect(x->sync[1], SYNC_GO_SETUP, err) < 0 ||
            cgroup_enter_self(x->cg, x->born_in_v2, NULL, err) < 0)
                return -1;
        if (setsid() < 0)
                return error_set(err, errno, "start a new session");
        /* Still root on the host: oom_score_adj may be lowered, rlimits raised. */
        if (process_set_limits(p, err) < 0)
                return -1;
        if (x->join && join_init(x->init_pidfd, x->init_pid, x->join, err) < 0)
                return -1;
        if ((x->join & CLONE_NEWUSER) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                return error_set(err, errno, "become root in the user namespace");
        /* The container's session keyring, by its name. */
        if (process_join_keyring(x->id, err) < 0)
                return -1;
        if (p->terminal &&
            console_setup_child(x->sync[1], p->console_height, p->console_width, false, p->user.uid, err) < 0)
                return -1;
        return 0;
}

static _Noreturn void child_main(struct exec *x)
{
        berth_error *err = NULL;
        /* Nothing of the host's beyond what the joining needs. */
        int *drop[] = {&x->sync[0], &x->h.dirfd, &x->h.rootfd, &x->console_sock, &x->sigfd};
        for (size_t i = 0; i < ARRAY_SIZE(drop); i++)
                cleanup_close_(drop[i]);
        if (child_setup(x, &err) == 0) {
                security_child_channel(x->s, x->sync[1]);
                _cleanup_free_ char *path = process_finalize(x->s, &err);
                if (path && sync_send(x->sync[1], SYNC_READY) == 0 &&
                    sync_expect(x->sync[1], SYNC_GO_EXEC, &err) == 0) {
                        close(x->init_pidfd);
                        process_exec(x->s, path, x->o->preserve_fds, &err);
                }
        }
        sync_send_error(x->sync[1], err);
        _exit(127);
}

/* ---- the parent ------------------------------------------------------------ */

static int exec_clone(struct exec *x, berth_error **err)
{
        int min = 3 + x->o->preserve_fds;
        x->sync[1] = fd_move_above(x->sync[1], min);
        x->init_pidfd = fd_move_above(x->init_pidfd, min);
        if (x->sync[1] < 0 || x->init_pidfd < 0)
                return error_set(err, errno, "move fds above the preserved ones");
        /* Born non-dumpable: while it still holds berth's memory and fds in the
         * container's pid namespace, nothing there may ptrace it or open its
         * /proc/PID/exe or fd/ (CVE-2019-5736, CVE-2016-9962).  execve makes the
         * program dumpable again. */
        int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
        int saved[2];
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return error_set(err, errno, "make berth non-dumpable");
        if (enter_for_children(x, saved, err) < 0) {
                prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
                return -1;
        }
        struct berth_clone_args args = {
                .flags = CLONE_PIDFD | CLONE_CLEAR_SIGHAND,
                .pidfd = (uint64_t)(uintptr_t)&x->pidfd,
                .exit_signal = SIGCHLD,
        };
        long pid = cgroup_clone3(&args, x->cg, &x->born_in_v2);
        if (pid == 0)
                child_main(x);
        int e = errno;
        ns_restore_for_children(saved);
        prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
        if (pid < 0)
                return error_set(err, e, "clone the process");
        x->pid = (pid_t)pid;
        cleanup_close_(&x->sync[1]);
        x->sync[1] = -1;
        return 0;
}

static int exec_console(struct exec *x, berth_error **err)
{
        const struct spec_process *p = &x->s->process;
        if (sync_expect_fd(x->sync[0], SYNC_CONSOLE, &x->master, err) < 0)
                return -1;
        if (x->console_sock < 0) {
                if (!(p->console_height && p->console_width))
                        console_copy_size(x->master);
                return 0;
        }
        int r = console_socket_send(x->console_sock, x->o->console_socket, x->master, err);
        cleanup_close_(&x->master);
        x->master = -1;
        return r;
}

static int write_pid_file(const char *file, pid_t pid, berth_error **err)
{
        char buf[16];
        int n = snprintf(buf, sizeof buf, "%d", (int)pid);
        int r = write_file_atomic(AT_FDCWD, file, buf, (size_t)n, 0644);
        return r < 0 ? error_set(err, -r, "write pid file `%s`", file) : 0;
}

/* From the clone to a running program; on failure the child is gone. */
static int exec_start(struct exec *x, berth_error **err)
{
        if (sync_pair(x->sync, err) < 0 || exec_clone(x, err) < 0)
                return -1;
        ctx_debug(x->ctx, "container %s: exec process has pid %d (joins %#x, for children %#x)", x->id,
                  x->pid, (unsigned)x->join, (unsigned)x->for_children);
        if (sync_send(x->sync[0], SYNC_GO_SETUP) < 0)
                return error_set(err, errno, "signal the process");
        if (x->s->process.terminal && exec_console(x, err) < 0)
                return -1;
        if (security_listener_handover(x->ctx, x->s, x->sync[0], x->id, x->pid, "running", err) < 0)
                return -1;
        if (sync_expect(x->sync[0], SYNC_READY, err) < 0)
                return -1;
        if (x->o->pid_file && write_pid_file(x->o->pid_file, x->pid, err) < 0)
                return -1;
        if (x->o->on_start)
                x->o->on_start(x->o->on_start_data, x->id, x->pid);
        if (sync_send(x->sync[0], SYNC_GO_EXEC) < 0)
                return error_set(err, errno, "signal the process");
        return sync_expect_exec(x->sync[0], err);
}

static int check_status(struct exec *x, berth_error **err)
{
        switch (x->h.status) {
        case BERTH_CREATED:
        case BERTH_RUNNING:
                return 0;
        case BERTH_PAUSED:
                if (x->o->ignore_paused)
                        return 0;
                return error_set(err, 0,
                                 "cannot exec in container `%s`: container is paused (use --ignore-paused to "
                                 "override)",
                                 x->id);
        case BERTH_CREATING:
        case BERTH_STOPPED:
                break;
        }
        return error_set(err, 0, "cannot exec in container `%s`: container not running", x->id);
}

static int exec_prepare(struct exec *x, berth_error **err)
{
        if (handle_open(x->ctx, x->id, false, &x->h, err) < 0 || check_status(x, err) < 0)
                return -1;
        if (x->o->preserve_fds < 0)
                return error_set(err, 0, "--preserve-fds: expected a non-negative number");
        if (load_spec(x, err) < 0)
                return -1;
        /* Host facts the process cannot see once it has joined; the seccomp filter compiled. */
        process_probe();
        /* The container's Landlock ruleset too; a kernel without Landlock ran
         * the container without it (create --ignore-unsupported): so does exec. */
        if (security_prepare(x->ctx, x->s, err) < 0 || landlock_check(x->ctx, x->s->landlock, true, err) < 0)
                return -1;
        x->cg = exec_sub_cgroup(x->h.st.cgroup, x->o->cgroups, err);
        if (!x->cg)
                return -1;
        if (x->o->console_socket) {
                x->console_sock = console_socket_connect(x->o->console_socket, err);
                if (x->console_sock < 0)
                        return -1;
        }
        x->init_pid = x->h.st.pid;
        x->init_pidfd = init_pidfd(&x->h.st);
        if (x->init_pidfd < 0)
                return error_set(err, 0, "cannot exec in container `%s`: container not running", x->id);
        find_namespaces(x);
        /* Compared while the init was alive, so these were its namespaces. */
        if (pidfd_signal(x->init_pidfd, 0) < 0)
                return error_set(err, 0, "cannot exec in container `%s`: container not running", x->id);
        return 0;
}

static void exec_close(struct exec *x)
{
        if (x->pid > 0) {
                pidfd_signal(x->pidfd, SIGKILL);
                while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        int *fds[] = {&x->init_pidfd, &x->sync[0], &x->sync[1], &x->console_sock, &x->master, &x->pidfd};
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                cleanup_close_(fds[i]);
        cgroup_free(x->cg);
        spec_free(x->s);
        handle_close(&x->h);
}

static int exec_wait(struct exec *x, struct berth_exit_status *out, berth_error **err)
{
        struct console_wait w = {
                .pidfd = x->pidfd, .pid = x->pid, .sigfd = x->sigfd, .master = x->master, .notify_fd = -1};
        int status;
        if (console_wait(&w, &status, err) < 0)
                return -1;
        x->pid = 0;
        exit_code_of(status, out);
        ctx_debug(x->ctx, "container %s: exec process exited with %d", x->id, out->exit_code);
        return 0;
}

int berth_exec(berth_context *ctx, const char *id, const struct berth_exec_options *opts,
               struct berth_exit_status *status, berth_error **err)
{
        static const struct berth_exec_options none;
        struct berth_exit_status ignored;
        struct exec x = {.ctx = ctx,
                         .id = id,
                         .o = opts ? opts : &none,
                         .h = {.rootfd = -1, .dirfd = -1},
                         .init_pidfd = -1,
                         .sync = {-1, -1},
                         .console_sock = -1,
                         .master = -1,
                         .sigfd = -1,
                         .pidfd = -1};
        bool foreground = !x.o->detach;
        sigset_t all, old;
        if (foreground && x.o->forward_signals) {
                /* Blocked before clone so no signal falls between clone and the signalfd. */
                sigfillset(&all);
                sigprocmask(SIG_BLOCK, &all, &old);
                x.sigfd = signalfd(-1, &all, SFD_CLOEXEC);
        }
        int r = exec_prepare(&x, err);
        if (r == 0 && (r = exec_start(&x, err)) < 0)
                error_wrap(err, "container `%s`", id);
        if (r == 0 && foreground)
                r = exec_wait(&x, status ? status : &ignored, err);
        else if (r == 0)
                x.pid = 0; /* detached: it runs on, reparented when we exit */
        exec_close(&x);
        if (x.sigfd >= 0) {
                close(x.sigfd);
                sigprocmask(SIG_SETMASK, &old, NULL);
        }
        return r;
}
