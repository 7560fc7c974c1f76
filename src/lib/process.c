#define _GNU_SOURCE
#include "process.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "landlock.h"
#include "lsm.h"
#include "rootfs.h"
#include "seccomp_filter.h"
#include "syscalls.h"
#include "sysctl.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define KEYCTL_JOIN_SESSION_KEYRING 1

static int last_cap = -1;

void process_probe(void)
{
        if (last_cap >= 0)
                return;
        _cleanup_free_ char *text = read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", NULL);
        long v;
        last_cap = CAP_LAST_CAP;
        if (text) {
                text[strcspn(text, "\n")] = '\0';
                if (parse_long(text, 0, 63, &v) == 0)
                        last_cap = (int)v;
        }
}

int process_set_limits(const struct spec_process *p, berth_error **err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                const struct spec_rlimit *r = &p->rlimits[i];
                struct rlimit rl = {.rlim_cur = r->soft, .rlim_max = r->hard};
                if (setrlimit(r->resource, &rl) < 0)
                        return error_set(err, errno, "process.rlimits[%zu]: set limit %llu/%llu", i,
                                         (unsigned long long)r->soft, (unsigned long long)r->hard);
        }
        if (p->has_oom_score_adj) {
                char buf[16];
                int n = snprintf(buf, sizeof buf, "%d", p->oom_score_adj);
                int r = write_file_at(AT_FDCWD, "/proc/self/oom_score_adj", buf, (size_t)n, 0);
                if (r < 0)
                        return error_set(err, -r, "process.oomScoreAdj: write %s", buf);
        }
        return 0;
}

int process_join_keyring(const char *id, berth_error **err)
{
        _cleanup_free_ char *name = xasprintf("_ses.%s", id);
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0 && errno != ENOSYS)
                return error_set(err, errno, "join a new session keyring");
        return 0;
}

int process_setup(const struct spec *s, bool new_keyring, const char *id, berth_error **err)
{
        if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
                return error_set(err, errno, "set hostname `%s`", s->hostname);
        if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
                return error_set(err, errno, "set domainname `%s`", s->domainname);
        if (sysctl_apply(s, err) < 0)
                return -1;
        /* Inherited across execve, so setting it here is enough. */
        if (s->has_personality && personality(s->personality) < 0)
                return error_set(err, errno, "linux.personality: set domain %#lx", s->personality);
        if (process_set_limits(&s->process, err) < 0)
                return -1;
        return new_keyring ? process_join_keyring(id, err) : 0;
}

/* A rootless parent wrote `deny` to setgroups (ns_write_idmaps): there is
 * nothing to drop then, and nothing may be added. */
static bool setgroups_denied(void)
{
        _cleanup_free_ char *text = read_file_at(AT_FDCWD, "/proc/self/setgroups", NULL);
        return text && str_has_prefix(text, "deny");
}

static int drop_bounding(uint64_t keep, berth_error **err)
{
        for (int c = 0; c <= last_cap; c++) {
                if (keep & (1ULL << c))
                        continue;
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return error_set(err, errno, "drop capability %d from the bounding set", c);
        }
        return 0;
}

static int set_caps(const struct spec_caps *c, berth_error **err)
{
        uint64_t mask = last_cap >= 63 ? ~0ULL : (1ULL << (last_cap + 1)) - 1;
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[2] = {
                {(uint32_t)(c->effective & mask), (uint32_t)(c->permitted & mask),
                 (uint32_t)(c->inheritable & mask)},
                {(uint32_t)((c->effective & mask) >> 32), (uint32_t)((c->permitted & mask) >> 32),
                 (uint32_t)((c->inheritable & mask) >> 32)},
        };
        if (sys_capset(&hdr, data) < 0)
                return error_set(err, errno, "set capabilities");
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return error_set(err, errno, "clear ambient capabilities");
        /* The kernel only raises an ambient capability that is also permitted
         * and inheritable; like runc, the others are skipped (runc's default
         * spec lists ambient capabilities without inheritable ones). */
        uint64_t ambient = c->ambient & c->permitted & c->inheritable & mask;
        for (int i = 0; i <= last_cap; i++)
                if ((ambient & (1ULL << i)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
                        return error_set(err, errno, "raise ambient capability %d", i);
        return 0;
}

static int set_user(const struct spec_user *u, bool keep_caps, berth_error **err)
{
        if (setgroups(u->n_additional_gids, u->additional_gids) < 0 &&
            (errno != EPERM || u->n_additional_gids > 0 || !setgroups_denied()))
                return error_set(err, errno, "process.user.additionalGids: setgroups");
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return error_set(err, errno, "process.user.gid: setgid %u", (unsigned)u->gid);
        /* Keep the permitted set across the uid change; capset picks from it after. */
        if (keep_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return error_set(err, errno, "keep capabilities");
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return error_set(err, errno, "process.user.uid: setuid %u", (unsigned)u->uid);
        if (keep_caps)
                prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        return 0;
}

static bool same_key(const char *a, const char *b)
{
        size_t n = strcspn(a, "=");
        return strncmp(a, b, n) == 0 && (b[n] == '=' || b[n] == '\0');
}

char **process_env_merge(char *const *env, char *const *add)
{
        char **out = xzalloc(sizeof *out);
        size_t n = 0;
        for (size_t i = 0; env && env[i]; i++) {
                bool replaced = false;
                for (size_t j = 0; add && add[j]; j++)
                        replaced = replaced || same_key(env[i], add[j]);
                if (!replaced)
                        strv_push(&out, &n, env[i]);
        }
        /* Of two additions with one key, the last wins. */
        for (size_t j = 0; add && add[j]; j++) {
                bool later = false;
                for (size_t k = j + 1; add[k]; k++)
                        later = later || same_key(add[j], add[k]);
                if (!later)
                        strv_push(&out, &n, add[j]);
        }
        return out;
}

char *process_lookup(const char *name, char *const *env, berth_error **err)
{
        if (strchr(name, '/')) {
                /* Lower-case reasons as runc words them: Docker maps exactly these
                 * texts to exit codes 127 and 126 (docs/engines.md). */
                struct stat st;
                if (stat(name, &st) < 0 && (errno == ENOENT || errno == ENOTDIR)) {
                        error_set(err, 0, "exec `%s`: no such file or directory", name);
                        return NULL;
                }
                if (S_ISDIR(st.st_mode)) {
                        error_set(err, 0, "exec `%s`: is a directory: permission denied", name);
                        return NULL;
                }
                if (access(name, X_OK) < 0) {
                        if (errno == EACCES)
                                error_set(err, 0, "exec `%s`: permission denied", name);
                        else
                                error_set(err, errno, "exec `%s`", name);
                        return NULL;
                }
                return xstrdup(name);
        }
        const char *path = DEFAULT_PATH;
        for (size_t i = 0; env && env[i]; i++)
                if (str_has_prefix(env[i], "PATH="))
                        path = env[i] + 5;
        _cleanup_free_ char *dirs = xstrdup(path);
        for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                char *candidate = xasprintf("%s/%s", d, name);
                struct stat st;
                if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode) && access(candidate, X_OK) == 0)
                        return candidate;
                free(candidate);
        }
        error_set(err, 0, "exec `%s`: executable file not found in $PATH", name);
        return NULL;
}

char *process_caps_unknown(const struct spec_caps *c)
{
        uint64_t all = c->bounding | c->effective | c->inheritable | c->permitted | c->ambient;
        char *out = NULL;
        for (int i = last_cap + 1; c->present && i < 64; i++) {
                if (!(all & (UINT64_C(1) << i)))
                        continue;
                const char *name = cap_to_name(i);
                char *more = out ? xasprintf("%s, %s", out, name) : xstrdup(name);
                free(out);
                out = more;
        }
        return out;
}

/* The cwd: resolved inside the container's root without following /proc
 * magic links (`/proc/self/fd/N` naming a directory fd inherited from the
 * host is the CVE-2024-21626 escape), made if missing, and checked to be
 * inside the root once entered. */
static int enter_cwd(const char *cwd, berth_error **err)
{
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return error_set(err, errno, "process.cwd: open /");
        _cleanup_close_ int fd = rootfs_mkpath(root, cwd, false, err);
        if (fd < 0 && err && *err && (*err)->errnum == ELOOP) {
                berth_error_free(steal_pointer(err));
                return error_set(err, ELOOP,
                                 "process.cwd `%s`: a symlink loop, or a /proc magic link that leads out of "
                                 "the container",
                                 cwd);
        }
        if (fd < 0) {
                error_wrap(err, "process.cwd");
                return -1;
        }
        if (fchdir(fd) < 0)
                return error_set(err, errno, "process.cwd `%s`", cwd);
        /* The kernel prefixes a cwd the root cannot reach with "(unreachable)". */
        char buf[PATH_MAX];
        if (syscall(SYS_getcwd, buf, sizeof buf) < 0 || buf[0] != '/')
                return error_set(err, 0, "process.cwd `%s`: outside the container", cwd);
        return 0;
}

/* seccomp(2) needs no_new_privs or CAP_SYS_ADMIN: whether the process still
 * has one of them at the end, right before execve. */
static bool seccomp_late_ok(const struct spec_process *p)
{
        if (p->no_new_privileges)
                return true;
        if (p->caps.present)
                return p->caps.effective & (UINT64_C(1) << CAP_SYS_ADMIN);
        return p->user.uid == 0;
}

char *process_finalize(const struct spec *s, berth_error **err)
{
        const struct spec_process *p = &s->process;
        if (enter_cwd(p->cwd, err) < 0)
                return NULL;
        if (p->caps.present && drop_bounding(p->caps.bounding, err) < 0)
                return NULL;
        /* Without no_new_privs and without CAP_SYS_ADMIN at the end, the
         * filter goes in now, while the init may still load it; the user and
         * capability changes then run under it (as runc does).  The Landlock
         * ruleset has the same condition, so the same moment; first, so that
         * the filter cannot refuse its calls.  It is built either way now,
         * while the paths can still be opened and a failure fails create. */
        if (s->landlock &&
            (landlock_build(s->landlock, err) < 0 || (!seccomp_late_ok(p) && landlock_restrict(err) < 0)))
                return NULL;
        if (s->seccomp && !seccomp_late_ok(p) && seccomp_filter_load(s->seccomp, err) < 0)
                return NULL;
        if (set_user(&p->user, p->caps.present, err) < 0)
                return NULL;
        if (p->caps.present && set_caps(&p->caps, err) < 0)
                return NULL;
        umask(p->user.has_umask ? p->user.umask : 022);
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                error_set(err, errno, "set no_new_privs");
                return NULL;
        }
        /* A listener must reach the parent before `ready`: after that, a
         * created container's parent is gone. */
        if (s->seccomp && s->seccomp->notify && seccomp_filter_load(s->seccomp, err) < 0)
                return NULL;
        return process_lookup(p->args[0], p->env, err);
}

int process_exec(const struct spec *s, const char *path, int preserve_fds, berth_error **err)
{
        /* Only 0-2 and the preserved fds reach the container's program. */
        for (int fd = 3; fd < 3 + preserve_fds; fd++)
                fcntl(fd, F_SETFD, 0);
        if (sys_close_range((unsigned)(3 + preserve_fds), ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return error_set(err, errno, "mark fds close-on-exec");
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        const struct spec_process *p = &s->process;
        if ((p->apparmor_profile || p->selinux_label) &&
            lsm_set_exec_labels("/proc/thread-self/attr", p->apparmor_profile, p->selinux_label, err) < 0)
                return -1;
        /* After the label writes (Landlock would refuse them), before seccomp. */
        if (landlock_restrict(err) < 0)
                return -1;
        /* Last before execve, so the filter sees as few of berth's own calls as possible. */
        if (s->seccomp && seccomp_filter_load(s->seccomp, err) < 0)
                return -1;
        execve(path, s->process.args, s->process.env);
        int e = errno;
        if (e == ENOEXEC)
                return error_set(err, e, "exec `%s`: not an executable for this architecture", path);
        return error_set(err, e, "exec `%s`", path);
}
