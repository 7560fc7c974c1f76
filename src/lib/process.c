#define _GNU_SOURCE
#include "process.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "syscalls.h"

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

int process_setup(const struct spec *s, bool new_keyring, const char *id, berth_error **err)
{
        if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
                return error_set(err, errno, "set hostname `%s`", s->hostname);
        if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
                return error_set(err, errno, "set domainname `%s`", s->domainname);
        for (size_t i = 0; i < s->process.n_rlimits; i++) {
                const struct spec_rlimit *r = &s->process.rlimits[i];
                struct rlimit rl = {.rlim_cur = r->soft, .rlim_max = r->hard};
                if (setrlimit(r->resource, &rl) < 0)
                        return error_set(err, errno, "process.rlimits[%zu]: set limit %llu/%llu", i,
                                         (unsigned long long)r->soft, (unsigned long long)r->hard);
        }
        if (s->process.has_oom_score_adj) {
                char buf[16];
                int n = snprintf(buf, sizeof buf, "%d", s->process.oom_score_adj);
                int r = write_file_at(AT_FDCWD, "/proc/self/oom_score_adj", buf, (size_t)n, 0);
                if (r < 0)
                        return error_set(err, -r, "process.oomScoreAdj: write %s", buf);
        }
        if (new_keyring) {
                _cleanup_free_ char *name = xasprintf("_ses.%s", id);
                if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0 && errno != ENOSYS)
                        return error_set(err, errno, "join a new session keyring");
        }
        return 0;
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
        if (setgroups(u->n_additional_gids, u->additional_gids) < 0)
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

char *process_lookup(const char *name, char *const *env, berth_error **err)
{
        if (strchr(name, '/')) {
                if (access(name, X_OK) < 0) {
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

char *process_finalize(const struct spec *s, berth_error **err)
{
        const struct spec_process *p = &s->process;
        int r = mkdir_p(p->cwd, 0755);
        if (r < 0 || chdir(p->cwd) < 0) {
                error_set(err, r < 0 ? -r : errno, "process.cwd: `%s`", p->cwd);
                return NULL;
        }
        if (p->caps.present && drop_bounding(p->caps.bounding, err) < 0)
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
        execve(path, s->process.args, s->process.env);
        int e = errno;
        if (e == ENOEXEC)
                return error_set(err, e, "exec `%s`: not an executable for this architecture", path);
        return error_set(err, e, "exec `%s`", path);
}
