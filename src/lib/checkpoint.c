/* checkpoint and restore with CRIU (the `criu` binary, Debian's package),
 * with runc's options.  berth tells CRIU what it cannot see for itself:
 * the bind mounts that come from the host (external mounts, keyed by their
 * destination and given their host source again at restore), the masked
 * files (the host's /dev/null), the namespaces joined by path (external,
 * handed back as inherited fds), the cgroup to freeze and, at restore, the
 * container's new cgroup; the init's stdio (pipes an engine holds) is saved
 * in descriptors.json and reconnected with --inherit-fd, as runc does.
 * CRIU writes its log (dump.log, restore.log) to the work directory; a
 * failure names its last errors. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "console.h"
#include "container.h"
#include "control.h"
#include "hooks.h"
#include "pidfd.h"
#include "process.h"
#include "rootfs.h"
#include "syscalls.h"

#define DESCRIPTORS "descriptors.json"
#define CRIU_ROOT "criu-root" /* in the state dir: where the rootfs is bound for CRIU */
#define EXT_NETNS "extRootNetNS"
#define EXT_PIDNS "extRootPidNS"

extern char **environ;

/* ---- argv ---------------------------------------------------------------------- */

struct argv {
        char **v;
        size_t n;
};

static void arg(struct argv *a, const char *s)
{
        strv_push(&a->v, &a->n, s);
}

PRINTF(2, 3)
static void argf(struct argv *a, const char *fmt, ...)
{
        va_list ap;
        char *s;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        arg(a, s);
        free(s);
}

/* The criu binary: as given, else in $PATH, else where Debian puts it. */
static char *criu_find(const char *criu, berth_error **err)
{
        const char *name = criu ? criu : "criu";
        char *path = process_lookup(name, environ, NULL);
        if (!path && !strchr(name, '/'))
                path = process_lookup(name, NULL, NULL);
        if (!path)
                error_set(err, strchr(name, '/') ? errno : 0,
                          "criu binary `%s` not found%s (install Debian's `criu`, or give --criu PATH)", name,
                          strchr(name, '/') ? "" : " in $PATH");
        return path;
}

/* The options both directions share, as runc passes them. */
static void common_args(struct argv *a, const struct berth_checkpoint_options *o, const char *images,
                        const char *work, const char *log)
{
        argf(a, "--images-dir=%s", images);
        argf(a, "--work-dir=%s", work);
        argf(a, "--log-file=%s", log);
        arg(a, "-v4");
        argf(a, "--manage-cgroups=%s", o->manage_cgroups_mode ? o->manage_cgroups_mode : "soft");
        const struct {
                bool on;
                const char *flag;
        } flags[] = {
                {o->tcp_established, "--tcp-established"},
                {o->ext_unix_sk, "--ext-unix-sk"},
                {o->shell_job, "--shell-job"},
                {o->file_locks, "--file-locks"},
                {o->auto_dedup, "--auto-dedup"},
                {o->lazy_pages, "--lazy-pages"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
                if (flags[i].on)
                        arg(a, flags[i].flag);
        for (size_t i = 0; o->empty_ns && o->empty_ns[i]; i++)
                argf(a, "--empty-ns=%s", o->empty_ns[i]);
        if (o->status_fd >= 0 && o->lazy_pages)
                argf(a, "--status-fd=%d", o->status_fd);
}

static bool is_bind(const struct spec_mount *m)
{
        return (m->flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0);
}

static const char *base_name(const char *path)
{
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* Mounts from the host, keyed by their destination.  At dump `cg` is NULL:
 * the key is all CRIU keeps; at restore each gets its host source. */
static void external_mounts(struct argv *a, const struct spec *s, const struct cgroup *cg, bool restore)
{
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct spec_mount *m = &s->mounts[i];
                if (is_bind(m) && m->source) {
                        _cleanup_free_ char *src = m->source[0] == '/'
                                                           ? xstrdup(m->source)
                                                           : xasprintf("%s/%s", s->bundle, m->source);
                        argf(a, "--ext-mount-map=%s:%s", m->destination, restore ? src : m->destination);
                        continue;
                }
                /* The v1 layout binds each hierarchy's directory into a tmpfs. */
                bool v1 = m->type && strcmp(m->type, "cgroup") == 0 && cg && !(cg->n == 1 && cg->dirs[0].v2);
                for (size_t k = 0; v1 && k < cg->n; k++) {
                        _cleanup_free_ char *key =
                                xasprintf("%s/%s", m->destination, base_name(cg->dirs[k].mount));
                        _cleanup_free_ char *host = cgroup_dir_path(&cg->dirs[k]);
                        argf(a, "--ext-mount-map=%s:%s", key, restore ? host : key);
                }
        }
        /* Masked files carry a bind of the host's /dev/null; directories an empty tmpfs CRIU keeps. */
        for (size_t i = 0; s->masked_paths && s->masked_paths[i]; i++) {
                struct stat st;
                if (stat(s->masked_paths[i], &st) == 0 && !S_ISDIR(st.st_mode))
                        argf(a, "--ext-mount-map=%s:%s", s->masked_paths[i],
                             restore ? "/dev/null" : s->masked_paths[i]);
        }
        /* In a user namespace device nodes are the host's, bound. */
        for (size_t i = 0; s->namespaces[NS_USER].present && i < s->n_devices; i++)
                argf(a, "--ext-mount-map=%s:%s", s->devices[i].path, s->devices[i].path);
}

/* ---- running criu -------------------------------------------------------------------- */

/* The last error lines of a CRIU log ("Error (criu/…): …"), joined. */
static char *log_errors(const char *log)
{
        _cleanup_free_ char *text = read_file_at(AT_FDCWD, log, NULL);
        char *out = NULL;
        size_t n = 0;
        for (char *save = NULL, *l = text ? strtok_r(text, "\n", &save) : NULL; l;
             l = strtok_r(NULL, "\n", &save)) {
                const char *e = strstr(l, "Error (");
                if (!e || n++ >= 4)
                        continue;
                char *t = out ? xasprintf("%s; %s", out, e) : xstrdup(e);
                free(out);
                out = t;
        }
        return out;
}

/* Run criu `a` and wait for it.  `private_root`: in a mount namespace of its
 * own, bind the rootfs there first (restore), so the host's mounts are never
 * touched.  `keep` fds stay open for it (--inherit-fd). */
static int criu_run(struct argv *a, const char *cmd, const char *log, const char *rootfs,
                    const char *private_root, const int *keep, size_t n_keep, berth_error **err)
{
        pid_t pid = fork();
        if (pid < 0)
                return error_set(err, errno, "criu %s: fork", cmd);
        if (pid == 0) {
                for (size_t i = 0; i < n_keep; i++)
                        fcntl(keep[i], F_SETFD, 0);
                if (private_root &&
                    (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
                     mount(rootfs, private_root, NULL, MS_BIND | MS_REC, NULL) < 0))
                        _exit(126);
                execve(a->v[0], a->v, environ);
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        _cleanup_free_ char *why = log_errors(log);
        if (WIFEXITED(status) && WEXITSTATUS(status) >= 126)
                return error_set(err, 0, "criu %s: could not run `%s`%s", cmd, a->v[0],
                                 WEXITSTATUS(status) == 126 ? " (bind the rootfs for it)" : "");
        return error_set(err, 0, "criu %s failed (%s %d)%s%s (log: %s)", cmd,
                         WIFEXITED(status) ? "exit status" : "signal",
                         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), why ? ": " : "",
                         why ? why : "", log);
}

static int make_dir(const char *path, const char *what, berth_error **err)
{
        int r = mkdir_p(path, 0700);
        if (r < 0)
                return error_set(err, -r, "%s `%s`", what, path);
        return 0;
}

/* ---- checkpoint ------------------------------------------------------------------------ */

/* Where CRIU freezes the container: the v1 freezer, else the cgroup2 directory. */
static char *freezer_dir(const struct cgroup *cg)
{
        for (size_t i = 0; cg && i < cg->n; i++)
                if (cgroup_dir_has_controller(&cg->dirs[i], "freezer"))
                        return cgroup_dir_path(&cg->dirs[i]);
        for (size_t i = 0; cg && i < cg->n; i++)
                if (cg->dirs[i].v2)
                        return cgroup_dir_path(&cg->dirs[i]);
        return NULL;
}

/* fds 0-2 of the init, as /proc shows them (`pipe:[123]`, a path). */
static int save_descriptors(pid_t pid, const char *images, berth_error **err)
{
        json_t *a = json_array();
        for (int fd = 0; fd < 3; fd++) {
                char link[64], target[4096];
                snprintf(link, sizeof link, "/proc/%d/fd/%d", pid, fd);
                ssize_t n = readlink(link, target, sizeof target - 1);
                target[n < 0 ? 0 : n] = '\0';
                json_array_append_new(a, json_string(n < 0 ? "/dev/null" : target));
        }
        _cleanup_free_ char *text = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        _cleanup_free_ char *path = xasprintf("%s/" DESCRIPTORS, images);
        int r = text ? write_file_atomic(AT_FDCWD, path, text, strlen(text), 0600) : -EINVAL;
        return r < 0 ? error_set(err, -r, "write `%s`", path) : 0;
}

/* Namespaces joined by path are not the container's to dump: named external. */
static void external_namespaces(struct argv *a, const struct spec *s)
{
        const char *const keys[NS_COUNT] = {[NS_NET] = EXT_NETNS, [NS_PID] = EXT_PIDNS};
        for (int t = 0; t < NS_COUNT; t++) {
                struct stat st;
                if (keys[t] && s->namespaces[t].path && stat(s->namespaces[t].path, &st) == 0)
                        argf(a, "--external=%s[%lu]:%s", ns_proc_name(t), (unsigned long)st.st_ino, keys[t]);
        }
}

static int checkpoint(struct handle *h, const struct spec *s, const struct berth_checkpoint_options *o,
                      berth_error **err)
{
        _cleanup_free_ char *criu = criu_find(o->criu, err);
        if (!criu)
                return -1;
        const char *images = o->image_path, *work = o->work_path ? o->work_path : o->image_path;
        if (!images)
                return error_set(err, 0, "--image-path: required");
        if (make_dir(images, "create the image directory", err) < 0 ||
            make_dir(work, "create the work directory", err) < 0 ||
            save_descriptors(h->st.pid, images, err) < 0)
                return -1;
        _cleanup_free_ char *log = xasprintf("%s/dump.log", work);
        _cleanup_free_ char *freezer = freezer_dir(h->st.cgroup);
        struct argv a = {0};
        arg(&a, criu);
        arg(&a, o->pre_dump ? "pre-dump" : "dump");
        argf(&a, "--tree=%d", h->st.pid);
        argf(&a, "--root=%s", h->st.rootfs);
        common_args(&a, o, images, work, log);
        if (o->leave_running && !o->pre_dump)
                arg(&a, "--leave-running");
        if (o->pre_dump)
                arg(&a, "--track-mem");
        if (o->parent_path)
                argf(&a, "--prev-images-dir=%s", o->parent_path);
        if (o->page_server)
                argf(&a, "--page-server=%s", o->page_server);
        if (freezer)
                argf(&a, "--freeze-cgroup=%s", freezer);
        external_mounts(&a, s, h->st.cgroup, false);
        external_namespaces(&a, s);
        int r = criu_run(&a, o->pre_dump ? "pre-dump" : "dump", log, NULL, NULL, NULL, 0, err);
        strv_free(a.v);
        return r;
}

int berth_checkpoint(berth_context *ctx, const char *id, const struct berth_checkpoint_options *opts,
                     berth_error **err)
{
        struct berth_checkpoint_options none = {.status_fd = -1};
        const struct berth_checkpoint_options *o = opts ? opts : &none;
        struct handle h;
        if (handle_open(ctx, id, true, &h, err) < 0)
                return -1;
        struct spec *s = NULL;
        int r = 0;
        if (h.status != BERTH_RUNNING && h.status != BERTH_PAUSED)
                r = error_set(err, 0, "cannot checkpoint container `%s`: it is %s", id,
                              berth_status_name(h.status));
        _cleanup_free_ char *text = r == 0 ? read_file_at(h.dirfd, SAVED_CONFIG, NULL) : NULL;
        if (r == 0 && !text)
                r = error_set(err, errno, "read the saved config of container `%s`", id);
        if (r == 0 && !(s = spec_parse(text, h.st.bundle, SAVED_CONFIG, err)))
                r = -1;
        if (r == 0 && checkpoint(&h, s, o, err) < 0) {
                error_wrap(err, "checkpoint container `%s`", id);
                r = -1;
        }
        /* As runc: once dumped (CRIU has ended its processes), the container is gone. */
        if (r == 0 && !o->leave_running && !o->pre_dump)
                r = handle_destroy(&h, err);
        if (r == 0)
                ctx_debug(ctx, "container %s: checkpointed to %s", id, o->image_path);
        spec_free(s);
        handle_close(&h);
        return r;
}

/* ---- restore ----------------------------------------------------------------------------- */

struct restore {
        berth_context *ctx;
        const char *id;
        const struct spec *s;
        const struct berth_restore_options *o;
        int rootfd, dirfd;
        struct cgroup *cg;
        pid_t pid;
        int pidfd;
        int ns_fds[2]; /* joined net and pid namespaces, handed to CRIU */
};

/* Every mount point CRIU will mount on must be in the rootfs, as create makes them. */
static int make_mount_points(const struct spec *s, berth_error **err)
{
        _cleanup_close_ int root = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return error_set(err, errno, "open rootfs `%s`", s->root_path);
        for (size_t i = 0; i < s->n_mounts; i++) {
                struct stat st;
                const struct spec_mount *m = &s->mounts[i];
                bool file = false;
                if (is_bind(m) && m->source && stat(m->source, &st) == 0)
                        file = !S_ISDIR(st.st_mode);
                _cleanup_close_ int fd = rootfs_mkpath(root, m->destination, file, err);
                if (fd < 0)
                        return -1;
        }
        return 0;
}

/* stdio of the dumped init (pipes, sockets) reconnected to ours. */
static void inherit_stdio(struct argv *a, const char *images, int *keep, size_t *n_keep)
{
        _cleanup_free_ char *path = xasprintf("%s/" DESCRIPTORS, images);
        _cleanup_free_ char *text = read_file_at(AT_FDCWD, path, NULL);
        json_t *d = text ? json_loads(text, 0, NULL) : NULL;
        for (int fd = 0; fd < 3 && json_is_array(d); fd++) {
                const char *what = json_string_value(json_array_get(d, (size_t)fd));
                if (what && what[0] != '/' && fcntl(fd, F_GETFD) >= 0) {
                        argf(a, "--inherit-fd=fd[%d]:%s", fd, what);
                        keep[(*n_keep)++] = fd;
                }
        }
        json_decref(d);
}

static void restore_args(struct restore *x, struct argv *a, const char *log, const char *pidfile,
                         const char *root, int *keep, size_t *n_keep)
{
        const struct berth_checkpoint_options *o = &x->o->criu;
        const char *images = o->image_path, *work = o->work_path ? o->work_path : o->image_path;
        arg(a, "restore");
        argf(a, "--root=%s", root);
        arg(a, "--restore-detached");
        arg(a, "--restore-sibling");
        argf(a, "--pidfile=%s", pidfile);
        common_args(a, o, images, work, log);
        if (x->o->lsm_profile)
                argf(a, "--lsm-profile=%s", x->o->lsm_profile);
        if (x->o->lsm_mount_context)
                argf(a, "--lsm-mount-context=%s", x->o->lsm_mount_context);
        /* The container's new cgroup: the default root, and each v1 hierarchy's. */
        for (size_t i = 0; x->cg && i < x->cg->n; i++) {
                const struct cgroup_dir *d = &x->cg->dirs[i];
                if (d->v2)
                        argf(a, "--cgroup-root=%s", d->path);
                else
                        argf(a, "--cgroup-root=%s:%s", d->controllers, d->path);
        }
        external_mounts(a, x->s, x->cg, true);
        static const char *const keys[2] = {EXT_NETNS, EXT_PIDNS};
        for (int i = 0; i < 2; i++)
                if (x->ns_fds[i] >= 0) {
                        argf(a, "--inherit-fd=fd[%d]:%s", x->ns_fds[i], keys[i]);
                        keep[(*n_keep)++] = x->ns_fds[i];
                }
        inherit_stdio(a, images, keep, n_keep);
}

static int restore_prepare(struct restore *x, berth_error **err)
{
        const struct spec *s = x->s;
        const enum ns_type kinds[2] = {NS_NET, NS_PID};
        for (int i = 0; i < 2; i++) {
                const char *path = s->namespaces[kinds[i]].path;
                if (path && (x->ns_fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                        return error_set(err, errno, "open %s namespace `%s`", ns_spec_name(kinds[i]), path);
        }
        if (make_mount_points(s, err) < 0)
                return -1;
        if ((x->rootfd = state_root_open(x->ctx->root, err)) < 0 ||
            (x->dirfd = state_dir_create(x->rootfd, x->id, err)) < 0)
                return -1;
        if (!(x->cg = cgroup_create(x->id, s->cgroups_path, err)) || control_apply_spec(s, x->cg, err) < 0)
                return -1;
        int r = write_file_atomic(x->dirfd, SAVED_CONFIG, s->config_text, strlen(s->config_text), 0600);
        if (r < 0)
                return error_set(err, -r, "save the config of container `%s`", x->id);
        if (mkdirat(x->dirfd, CRIU_ROOT, 0700) < 0)
                return error_set(err, errno, "create `%s/%s/" CRIU_ROOT "`", x->ctx->root, x->id);
        return 0;
}

static int restore_state(struct restore *x, const char *pidfile, berth_error **err)
{
        _cleanup_free_ char *text = read_file_at(AT_FDCWD, pidfile, NULL);
        long pid = 0;
        if (!text || parse_long(strtok(text, "\n"), 1, INT32_MAX, &pid) < 0)
                return error_set(err, text ? EINVAL : errno, "read CRIU's pid file `%s`", pidfile);
        x->pid = (pid_t)pid;
        x->pidfd = pidfd_open_pid(x->pid);
        _cleanup_free_ char *created = now_rfc3339();
        struct saved_state st = {
                .id = (char *)x->id,
                .bundle = x->s->bundle,
                .rootfs = x->s->root_path,
                .created = created,
                .annotations = x->s->annotations,
                .pid = x->pid,
                .start_time = proc_start_time(x->pid),
                .cgroup = x->cg,
                .hooks = x->s->hooks ? x->s->hooks->saved : NULL,
        };
        if (state_write(x->dirfd, &st, err) < 0)
                return -1;
        if (x->o->pid_file) {
                char buf[16];
                int n = snprintf(buf, sizeof buf, "%d", x->pid);
                int r = write_file_atomic(AT_FDCWD, x->o->pid_file, buf, (size_t)n, 0644);
                if (r < 0)
                        return error_set(err, -r, "write pid file `%s`", x->o->pid_file);
        }
        return 0;
}

static int restore_run(struct restore *x, berth_error **err)
{
        const struct berth_checkpoint_options *o = &x->o->criu;
        if (!o->image_path)
                return error_set(err, 0, "--image-path: required");
        _cleanup_free_ char *criu = criu_find(o->criu, err);
        if (!criu || berth_id_check(x->id, err) < 0 ||
            console_check(x->s->process.terminal, x->o->detach, x->o->console_socket, err) < 0)
                return -1;
        if (x->s->process.terminal)
                return error_set(err, 0, "restore: a container with a terminal: not supported yet");
        _cleanup_free_ char *inventory = xasprintf("%s/inventory.img", o->image_path);
        if (access(inventory, F_OK) < 0)
                return error_set(err, errno, "--image-path `%s`: no checkpoint there (no inventory.img)",
                                 o->image_path);
        const char *work = o->work_path ? o->work_path : o->image_path;
        if (make_dir(work, "create the work directory", err) < 0 || restore_prepare(x, err) < 0)
                return -1;
        _cleanup_free_ char *log = xasprintf("%s/restore.log", work);
        _cleanup_free_ char *pidfile = xasprintf("%s/%s/restore.pid", x->ctx->root, x->id);
        _cleanup_free_ char *root = xasprintf("%s/%s/" CRIU_ROOT, x->ctx->root, x->id);
        struct argv a = {0};
        int keep[8];
        size_t n_keep = 0;
        arg(&a, criu);
        restore_args(x, &a, log, pidfile, root, keep, &n_keep);
        int r = criu_run(&a, "restore", log, x->s->root_path, root, keep, n_keep, err);
        strv_free(a.v);
        if (r < 0)
                return -1;
        return restore_state(x, pidfile, err);
}

static void restore_undo(struct restore *x)
{
        if (x->pidfd >= 0) {
                pidfd_signal(x->pidfd, SIGKILL);
                waitpid(x->pid, NULL, 0);
        }
        if (x->cg)
                cgroup_destroy(x->cg, NULL);
        if (x->dirfd >= 0)
                state_dir_remove(x->rootfd, x->id, NULL);
}

/* Foreground: relay signals until the restored init ends, then delete it. */
static int restore_wait(struct restore *x, int sigfd, struct berth_exit_status *status, berth_error **err)
{
        struct console_wait w = {
                .pidfd = x->pidfd, .pid = x->pid, .sigfd = sigfd, .master = -1, .notify_fd = -1};
        int ws;
        cleanup_close_(&x->dirfd); /* unlocked while it runs */
        x->dirfd = -1;
        if (console_wait(&w, &ws, err) < 0)
                return -1;
        exit_code_of(ws, status);
        struct handle h;
        if (handle_open(x->ctx, x->id, true, &h, err) < 0)
                return -1;
        int r = handle_destroy(&h, err);
        handle_close(&h);
        return r;
}

int berth_restore(berth_context *ctx, const char *id, const berth_bundle *bundle,
                  const struct berth_restore_options *opts, struct berth_exit_status *status,
                  berth_error **err)
{
        struct berth_restore_options none = {.criu.status_fd = -1, .detach = true};
        struct restore x = {.ctx = ctx,
                            .id = id,
                            .s = bundle->spec,
                            .o = opts ? opts : &none,
                            .rootfd = -1,
                            .dirfd = -1,
                            .pidfd = -1,
                            .ns_fds = {-1, -1}};
        struct berth_exit_status ignored;
        sigset_t all, old;
        int sigfd = -1;
        if (!x.o->detach) {
                sigfillset(&all);
                sigprocmask(SIG_BLOCK, &all, &old);
                sigfd = signalfd(-1, &all, SFD_CLOEXEC);
        }
        int r = restore_run(&x, err);
        if (r < 0) {
                restore_undo(&x);
                error_wrap(err, "restore container `%s`", id);
        } else if (!x.o->detach) {
                r = restore_wait(&x, sigfd, status ? status : &ignored, err);
        }
        if (sigfd >= 0) {
                close(sigfd);
                sigprocmask(SIG_SETMASK, &old, NULL);
        }
        cleanup_close_(&x.dirfd);
        cleanup_close_(&x.rootfd);
        cleanup_close_(&x.pidfd);
        cleanup_close_(&x.ns_fds[0]);
        cleanup_close_(&x.ns_fds[1]);
        cgroup_free(x.cg);
        if (r == 0)
                ctx_debug(ctx, "container %s: restored from %s", id, x.o->criu.image_path);
        return r;
}
