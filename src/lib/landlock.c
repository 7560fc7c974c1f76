#define _GNU_SOURCE
#include "landlock.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "container.h"
#include "syscalls.h"

/* The filesystem access rights, by the ABI version that brought them
 * (include/uapi/linux/landlock.h). */
#define LL_EXECUTE (1ULL << 0)
#define LL_WRITE_FILE (1ULL << 1)
#define LL_READ_FILE (1ULL << 2)
#define LL_READ_DIR (1ULL << 3)
#define LL_ABI1_ALL ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define LL_REFER (1ULL << 13)          /* ABI 2 */
#define LL_TRUNCATE (1ULL << 14)       /* ABI 3 */
#define LL_IOCTL_DEV (1ULL << 15)      /* ABI 5 */
/* What a rule on a file (not a directory) may grant. */
#define LL_FILE_RIGHTS (LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV)

uint64_t landlock_fs_rights(int abi)
{
        uint64_t r = 0;
        if (abi >= 1)
                r |= LL_ABI1_ALL;
        if (abi >= 2)
                r |= LL_REFER;
        if (abi >= 3)
                r |= LL_TRUNCATE;
        if (abi >= 5)
                r |= LL_IOCTL_DEV;
        return r;
}

uint64_t landlock_ro_rights(void)
{
        return LL_EXECUTE | LL_READ_FILE | LL_READ_DIR;
}

/* ---- annotations ----------------------------------------------------------- */

static int parse_paths(const char *key, const char *value, char ***out, berth_error **err)
{
        char **v = xzalloc(sizeof *v);
        size_t n = 0;
        _cleanup_free_ char *copy = xstrdup(value);
        /* Empty entries (a trailing `:`) are skipped, as in $PATH-like lists. */
        for (char *save, *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
                if (p[0] != '/') {
                        strv_free(v);
                        return error_set(err, 0, "%s: expected absolute paths separated by `:`, got `%s`",
                                         key, p);
                }
                strv_push(&v, &n, p);
        }
        strv_free(*out);
        *out = v;
        return 0;
}

int landlock_config_parse(char *const *annotations, struct landlock_config **out, berth_error **err)
{
        *out = NULL;
        struct landlock_config *c = NULL;
        for (size_t i = 0; annotations && annotations[i] && annotations[i + 1]; i += 2) {
                const char *key = annotations[i];
                if (!str_has_prefix(key, LANDLOCK_ANN_PREFIX))
                        continue;
                if (!c)
                        c = xzalloc(sizeof *c);
                char ***slot = strcmp(key, LANDLOCK_ANN_RO) == 0   ? &c->ro
                               : strcmp(key, LANDLOCK_ANN_RW) == 0 ? &c->rw
                                                                   : NULL;
                int r = slot ? parse_paths(key, annotations[i + 1], slot, err)
                             : error_set(err, 0, "%s: unknown setting (known: %s, %s)", key, LANDLOCK_ANN_RO,
                                         LANDLOCK_ANN_RW);
                if (r < 0) {
                        landlock_config_free(c);
                        return -1;
                }
        }
        if (c) {
                if (!c->ro)
                        c->ro = xzalloc(sizeof *c->ro);
                if (!c->rw)
                        c->rw = xzalloc(sizeof *c->rw);
        }
        *out = c;
        return 0;
}

void landlock_config_free(struct landlock_config *c)
{
        if (!c)
                return;
        strv_free(c->ro);
        strv_free(c->rw);
        free(c);
}

/* ---- the kernel -------------------------------------------------------------- */

int landlock_abi(void)
{
        int v = sys_landlock_create_ruleset(NULL, 0, BERTH_LANDLOCK_CREATE_RULESET_VERSION);
        return v < 0 ? -errno : v;
}

int landlock_check(berth_context *ctx, const struct landlock_config *c, bool ignore_unsupported,
                   berth_error **err)
{
        if (!c)
                return 0;
        int abi = landlock_abi();
        if (abi > 0) {
                ctx_debug(ctx, "landlock: ABI version %d", abi);
                return 0;
        }
        if (!ignore_unsupported)
                return error_set(
                        err, -abi,
                        "berth.landlock: this kernel cannot apply Landlock rules (--ignore-unsupported "
                        "runs the container without them)");
        ctx_warn(ctx, "berth.landlock: this kernel cannot apply Landlock rules (%s): running without them",
                 strerror(-abi));
        return 0;
}

/* One path: read (and execute) or every right beneath it, limited to what
 * the kernel allows on a file when it is not a directory. */
static int add_path(int ruleset, const char *key, const char *path, uint64_t rights, berth_error **err)
{
        /* O_PATH: the process needs no read permission on it, only to reach it. */
        _cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "%s: open `%s`", key, path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return error_set(err, errno, "%s: stat `%s`", key, path);
        if (!S_ISDIR(st.st_mode))
                rights &= LL_FILE_RIGHTS;
        struct berth_landlock_path_beneath_attr rule = {.allowed_access = rights, .parent_fd = fd};
        if (sys_landlock_add_rule(ruleset, BERTH_LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
                return error_set(err, errno, "%s: add a Landlock rule for `%s`", key, path);
        return 0;
}

/* The ruleset landlock_build made, until landlock_restrict enforces it. */
static int ruleset_fd = -1;

int landlock_build(const struct landlock_config *c, berth_error **err)
{
        if (!c)
                return 0;
        int abi = landlock_abi();
        if (abi <= 0)
                return 0;
        uint64_t all = landlock_fs_rights(abi);
        struct berth_landlock_ruleset_attr attr = {.handled_access_fs = all};
        _cleanup_close_ int ruleset = sys_landlock_create_ruleset(&attr, sizeof attr, 0);
        if (ruleset < 0)
                return error_set(err, errno, "berth.landlock: create a Landlock ruleset");
        for (size_t i = 0; c->ro[i]; i++)
                if (add_path(ruleset, LANDLOCK_ANN_RO, c->ro[i], landlock_ro_rights(), err) < 0)
                        return -1;
        for (size_t i = 0; c->rw[i]; i++)
                if (add_path(ruleset, LANDLOCK_ANN_RW, c->rw[i], all, err) < 0)
                        return -1;
        cleanup_close_(&ruleset_fd);
        ruleset_fd = steal_fd(&ruleset);
        return 0;
}

int landlock_restrict(berth_error **err)
{
        if (ruleset_fd < 0)
                return 0;
        /* The caller has no_new_privs or CAP_SYS_ADMIN here (process.c orders it). */
        int r = sys_landlock_restrict_self(ruleset_fd, 0);
        int e = errno;
        close(ruleset_fd);
        ruleset_fd = -1;
        return r < 0 ? error_set(err, e, "berth.landlock: restrict the process") : 0;
}
