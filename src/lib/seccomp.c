/* linux.seccomp: parse, compile (libseccomp, in the parent), cache the
 * compiled program under the berth root, load it in the init, and hand a
 * user-notification listener to the agent at listenerPath.
 *
 * Compiling a large profile costs milliseconds on every start, so the BPF
 * program libseccomp produces is kept in <root>/@seccomp-cache/<hash>.bpf.
 * The cache must never give a wrong filter: an entry stores the whole key
 * (berth and libseccomp versions, the kernel API level libseccomp saw, the
 * native architecture and the section as canonical JSON) and a checksum,
 * and is used only when both match exactly; the hash only names the file. */
#define _GNU_SOURCE
#include "seccomp_filter.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "sync.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif

#define SECTION "linux.seccomp"
#define ERRNO_MAX 4095 /* the kernel clamps larger values to MAX_ERRNO */
#define CACHE_FORMAT 1
#define CACHE_MAGIC "BRTHSCF1"

/* ---- names ------------------------------------------------------------- */

static const struct {
        const char *name;
        uint32_t action;
        bool takes_errno; /* the spec's errnoRet: the errno, or the tracer's message */
} actions[] = {
        {"SCMP_ACT_KILL", SCMP_ACT_KILL, false},
        {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
        {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
        {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
        {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
        {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
        {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
        {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
        {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},
};

static const struct {
        const char *name;
        uint32_t arch;
} arches[] = {
        {"SCMP_ARCH_X86", SCMP_ARCH_X86},
        {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
        {"SCMP_ARCH_X32", SCMP_ARCH_X32},
        {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
        {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
        {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
        {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
        {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
        {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
        {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
        {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
        {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
        {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
        {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
        {"SCMP_ARCH_S390", SCMP_ARCH_S390},
        {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
        {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
        {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
        {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

static const struct {
        const char *name;
        int op;
} ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct {
        const char *name;
        unsigned flag;
} flag_names[] = {
        {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
        {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
        {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
        {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

/* ---- parsing ----------------------------------------------------------- */

static json_t *member(json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);
        return json_is_null(v) ? NULL : v;
}

/* `path`: `what`, always returning -1. */
PRINTF(3, 4)
static int path_error(berth_error **err, const char *path, const char *fmt, ...)
{
        va_list ap;
        char *what;
        va_start(ap, fmt);
        if (vasprintf(&what, fmt, ap) < 0)
                what = NULL;
        va_end(ap);
        error_set(err, 0, "%s: %s", path, what ? what : fmt);
        free(what);
        return -1;
}

/* 0 absent, 1 present and valid (*out set), -1 with *err set. */
static int get_uint(json_t *v, const char *path, uint64_t max, uint64_t *out, berth_error **err)
{
        if (!v)
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return path_error(err, path, "expected a non-negative integer");
        if ((uint64_t)json_integer_value(v) > max)
                return path_error(err, path, "expected an integer between 0 and %llu",
                                  (unsigned long long)max);
        *out = (uint64_t)json_integer_value(v);
        return 1;
}

static int get_string(json_t *v, const char *path, const char **out, berth_error **err)
{
        if (!v)
                return 0;
        if (!json_is_string(v))
                return path_error(err, path, "expected a string");
        *out = json_string_value(v);
        return 1;
}

/* An action and its errno field (`defaultAction` + `defaultErrnoRet`, or
 * `action` + `errnoRet`), into one SCMP_ACT_* value. */
static int parse_action(json_t *obj, const char *parent, const char *akey, const char *ekey, uint32_t *out,
                        berth_error **err)
{
        _cleanup_free_ char *apath = xasprintf("%s.%s", parent, akey);
        _cleanup_free_ char *epath = xasprintf("%s.%s", parent, ekey);
        const char *name = "";
        uint64_t ret = EPERM;
        int r = get_string(member(obj, akey), apath, &name, err);
        if (r <= 0)
                return r < 0 ? -1 : path_error(err, apath, "required");
        size_t i = 0;
        while (i < ARRAY_SIZE(actions) && strcmp(actions[i].name, name) != 0)
                i++;
        if (i == ARRAY_SIZE(actions))
                return path_error(err, apath, "unknown action `%s`", name);
        r = get_uint(member(obj, ekey), epath, ERRNO_MAX, &ret, err);
        if (r < 0)
                return -1;
        /* runtime-spec: an errno for an action that has none is an error. */
        if (r > 0 && !actions[i].takes_errno)
                return path_error(err, epath, "not allowed with action `%s`", name);
        *out = actions[i].action | (actions[i].takes_errno ? (uint32_t)ret : 0);
        return 0;
}

static int parse_arg(struct seccomp_arg *a, json_t *item, const char *p, berth_error **err)
{
        _cleanup_free_ char *ip = xasprintf("%s.index", p);
        _cleanup_free_ char *vp = xasprintf("%s.value", p);
        _cleanup_free_ char *v2p = xasprintf("%s.valueTwo", p);
        _cleanup_free_ char *op = xasprintf("%s.op", p);
        uint64_t index = 0;
        const char *name = "";
        int r;
        if (!json_is_object(item))
                return path_error(err, p, "expected an object");
        if ((r = get_uint(member(item, "index"), ip, 5, &index, err)) <= 0)
                return r < 0 ? -1 : path_error(err, ip, "required");
        a->index = (unsigned)index;
        if ((r = get_uint(member(item, "value"), vp, UINT64_MAX, &a->value, err)) <= 0)
                return r < 0 ? -1 : path_error(err, vp, "required");
        if (get_uint(member(item, "valueTwo"), v2p, UINT64_MAX, &a->value_two, err) < 0)
                return -1;
        if ((r = get_string(member(item, "op"), op, &name, err)) <= 0)
                return r < 0 ? -1 : path_error(err, op, "required");
        for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
                if (strcmp(ops[i].name, name) == 0) {
                        a->op = ops[i].op;
                        return 0;
                }
        return path_error(err, op, "unknown operator `%s`", name);
}

static int parse_names(struct seccomp_rule *rule, json_t *names, const char *p, berth_error **err)
{
        size_t i, n = 0;
        json_t *item;
        if (!json_is_array(names) || json_array_size(names) == 0)
                return path_error(err, p, "expected a non-empty array of strings");
        rule->names = xzalloc(sizeof *rule->names);
        json_array_foreach(names, i, item)
        {
                if (!json_is_string(item) || json_string_length(item) == 0)
                        return path_error(err, p, "expected a non-empty array of strings");
                strv_push(&rule->names, &n, json_string_value(item));
        }
        return 0;
}

static int parse_rule(struct seccomp_rule *rule, json_t *item, const char *p, berth_error **err)
{
        _cleanup_free_ char *np = xasprintf("%s.names", p);
        _cleanup_free_ char *ap = xasprintf("%s.args", p);
        json_t *args = member(item, "args"), *arg;
        size_t i;
        if (!json_is_object(item))
                return path_error(err, p, "expected an object");
        if (parse_names(rule, member(item, "names"), np, err) < 0 ||
            parse_action(item, p, "action", "errnoRet", &rule->action, err) < 0)
                return -1;
        if (args && !json_is_array(args))
                return path_error(err, ap, "expected an array");
        rule->args = xzalloc(json_array_size(args) * sizeof *rule->args);
        json_array_foreach(args, i, arg)
        {
                _cleanup_free_ char *p2 = xasprintf("%s[%zu]", ap, i);
                if (parse_arg(&rule->args[i], arg, p2, err) < 0)
                        return -1;
                rule->n_args = i + 1;
        }
        return 0;
}

static int parse_rules(struct spec_seccomp *sc, json_t *syscalls, berth_error **err)
{
        size_t i;
        json_t *item;
        if (syscalls && !json_is_array(syscalls))
                return path_error(err, SECTION ".syscalls", "expected an array");
        sc->rules = xzalloc(json_array_size(syscalls) * sizeof *sc->rules);
        json_array_foreach(syscalls, i, item)
        {
                _cleanup_free_ char *p = xasprintf(SECTION ".syscalls[%zu]", i);
                sc->n_rules = i + 1;
                if (parse_rule(&sc->rules[i], item, p, err) < 0)
                        return -1;
                if (sc->rules[i].action != SCMP_ACT_NOTIFY)
                        continue;
                sc->notify = true;
                /* The init hands the listener over with sendmsg(2) right after
                 * loading the filter: notifying it would wait on a listener
                 * nobody holds yet. */
                for (char **n = sc->rules[i].names; *n; n++)
                        if (strcmp(*n, "sendmsg") == 0)
                                return path_error(err, p,
                                                  "SCMP_ACT_NOTIFY cannot be used for `sendmsg`: "
                                                  "berth hands the listener over with it");
        }
        return 0;
}

static int parse_arches_flags(struct spec_seccomp *sc, json_t *v, berth_error **err)
{
        json_t *list = member(v, "architectures"), *item;
        size_t i, j;
        if (list && !json_is_array(list))
                return path_error(err, SECTION ".architectures", "expected an array");
        sc->arches = xzalloc(json_array_size(list) * sizeof *sc->arches);
        json_array_foreach(list, i, item)
        {
                _cleanup_free_ char *p = xasprintf(SECTION ".architectures[%zu]", i);
                const char *name = json_string_value(item);
                if (!name)
                        return path_error(err, p, "expected a string");
                for (j = 0; j < ARRAY_SIZE(arches) && strcmp(arches[j].name, name) != 0; j++)
                        ;
                if (j == ARRAY_SIZE(arches))
                        return path_error(err, p, "unknown architecture `%s`", name);
                sc->arches[sc->n_arches++] = arches[j].arch;
        }
        list = member(v, "flags");
        if (list && !json_is_array(list))
                return path_error(err, SECTION ".flags", "expected an array");
        json_array_foreach(list, i, item)
        {
                _cleanup_free_ char *p = xasprintf(SECTION ".flags[%zu]", i);
                const char *name = json_string_value(item);
                if (!name)
                        return path_error(err, p, "expected a string");
                for (j = 0; j < ARRAY_SIZE(flag_names) && strcmp(flag_names[j].name, name) != 0; j++)
                        ;
                if (j == ARRAY_SIZE(flag_names))
                        return path_error(err, p, "unknown flag `%s`", name);
                sc->flags |= flag_names[j].flag;
        }
        return 0;
}

static int parse_listener(struct spec_seccomp *sc, json_t *v, berth_error **err)
{
        const char *path = NULL, *meta = NULL;
        struct sockaddr_un sun;
        if (get_string(member(v, "listenerPath"), SECTION ".listenerPath", &path, err) < 0 ||
            get_string(member(v, "listenerMetadata"), SECTION ".listenerMetadata", &meta, err) < 0)
                return -1;
        if (path && *path) {
                if (strlen(path) >= sizeof sun.sun_path)
                        return path_error(err, SECTION ".listenerPath", "longer than %zu bytes",
                                          sizeof sun.sun_path - 1);
                sc->listener_path = xstrdup(path);
        }
        if (meta && *meta) {
                if (!sc->listener_path)
                        return path_error(err, SECTION ".listenerMetadata", "requires listenerPath");
                sc->listener_metadata = xstrdup(meta);
        }
        if (sc->notify && !sc->listener_path)
                return path_error(err, SECTION ".listenerPath", "required with SCMP_ACT_NOTIFY");
        return 0;
}

static inline void cleanup_seccomp_(struct spec_seccomp **sc)
{
        seccomp_spec_free(*sc);
}

int seccomp_spec_parse(json_t *v, struct spec_seccomp **out, berth_error **err)
{
        *out = NULL;
        if (!v)
                return 0;
        if (!json_is_object(v))
                return path_error(err, SECTION, "expected an object");
        /* Tools written in Go may write an empty object for "no seccomp". */
        if (json_object_size(v) == 0)
                return 0;
        __attribute__((cleanup(cleanup_seccomp_))) struct spec_seccomp *sc = xzalloc(sizeof *sc);
        sc->channel = -1;
        if (parse_action(v, SECTION, "defaultAction", "defaultErrnoRet", &sc->default_action, err) < 0 ||
            parse_arches_flags(sc, v, err) < 0 || parse_rules(sc, member(v, "syscalls"), err) < 0 ||
            parse_listener(sc, v, err) < 0)
                return -1;
        if (sc->default_action == SCMP_ACT_NOTIFY)
                return path_error(err, SECTION ".defaultAction",
                                  "SCMP_ACT_NOTIFY cannot be the default action: berth hands the "
                                  "listener over with a system call of its own");
        sc->section = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        if (!sc->section)
                return error_set(err, ENOMEM, SECTION ": serialise");
        *out = steal_pointer(&sc);
        return 0;
}

void seccomp_spec_free(struct spec_seccomp *sc)
{
        if (!sc)
                return;
        for (size_t i = 0; i < sc->n_rules; i++) {
                strv_free(sc->rules[i].names);
                free(sc->rules[i].args);
        }
        free(sc->rules);
        free(sc->arches);
        free(sc->listener_path);
        free(sc->listener_metadata);
        free(sc->section);
        free(sc->prog);
        free(sc);
}

/* ---- compiling --------------------------------------------------------- */

static inline void cleanup_scmp_(scmp_filter_ctx *f)
{
        if (*f)
                seccomp_release(*f);
}

/* One rule for one syscall.  Several conditions on the same argument would
 * be refused by libseccomp (it ANDs distinct arguments only); like runc,
 * they then become one rule each, so any of them matches. */
static int add_rule(scmp_filter_ctx f, const struct seccomp_rule *rule, int nr)
{
        struct scmp_arg_cmp cmp[6];
        unsigned seen = 0;
        bool repeated = false;
        size_t n = rule->n_args < 6 ? rule->n_args : 6;
        for (size_t i = 0; i < rule->n_args; i++) {
                const struct seccomp_arg *a = &rule->args[i];
                repeated |= (seen >> a->index) & 1;
                seen |= 1u << a->index;
                if (i < 6)
                        cmp[i] = (struct scmp_arg_cmp){a->index, (enum scmp_compare)a->op, a->value,
                                                       a->value_two};
        }
        if (!repeated && rule->n_args <= 6)
                return seccomp_rule_add_array(f, rule->action, nr, (unsigned)n, cmp);
        for (size_t i = 0; i < rule->n_args; i++) {
                const struct seccomp_arg *a = &rule->args[i];
                struct scmp_arg_cmp one = {a->index, (enum scmp_compare)a->op, a->value, a->value_two};
                int r = seccomp_rule_add_array(f, rule->action, nr, 1, &one);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_rules(scmp_filter_ctx f, const struct spec_seccomp *sc, size_t *unknown, berth_error **err)
{
        for (size_t i = 0; i < sc->n_rules; i++) {
                const struct seccomp_rule *rule = &sc->rules[i];
                /* libseccomp refuses a rule that repeats the default action; it changes nothing. */
                if (rule->action == sc->default_action)
                        continue;
                for (char **name = rule->names; *name; name++) {
                        int nr = seccomp_syscall_resolve_name(*name);
                        /* As runc: a name this libseccomp does not know is skipped,
                         * so one profile serves older and newer systems. */
                        if (nr == __NR_SCMP_ERROR) {
                                (*unknown)++;
                                continue;
                        }
                        int r = add_rule(f, rule, nr);
                        if (r < 0)
                                return error_set(err, -r, SECTION ".syscalls[%zu]: add rule for `%s`", i,
                                                 *name);
                }
        }
        return 0;
}

/* libseccomp's BPF for the section, read back from a memfd. */
static int compile(struct spec_seccomp *sc, size_t *unknown, berth_error **err)
{
        __attribute__((cleanup(cleanup_scmp_))) scmp_filter_ctx f = seccomp_init(sc->default_action);
        if (!f)
                return error_set(err, EINVAL,
                                 SECTION ".defaultAction: not supported by libseccomp or the kernel");
        for (size_t i = 0; i < sc->n_arches; i++) {
                int r = seccomp_arch_add(f, sc->arches[i]);
                if (r < 0 && r != -EEXIST)
                        return error_set(err, -r, SECTION ".architectures[%zu]: add architecture", i);
        }
        if (add_rules(f, sc, unknown, err) < 0)
                return -1;
        _cleanup_close_ int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, SECTION ": create a memfd for the filter");
        int r = seccomp_export_bpf(f, fd);
        if (r < 0)
                return error_set(err, -r, SECTION ": export the filter");
        struct stat st;
        if (fstat(fd, &st) < 0)
                return error_set(err, errno, SECTION ": export the filter");
        size_t len = (size_t)st.st_size / sizeof(struct sock_filter);
        if (len == 0 || len > BPF_MAXINSNS)
                return error_set(err, E2BIG, SECTION ": the filter has %zu instructions (at most %d)", len,
                                 BPF_MAXINSNS);
        struct sock_filter *prog = xmalloc(len * sizeof *prog);
        if (pread(fd, prog, len * sizeof *prog, 0) != (ssize_t)(len * sizeof *prog)) {
                free(prog);
                return error_set(err, EIO, SECTION ": read back the filter");
        }
        free(sc->prog);
        sc->prog = prog;
        sc->prog_len = len;
        return 0;
}

/* ---- the cache --------------------------------------------------------- */

struct cache_header {
        char magic[8];
        uint64_t key_len;
        uint64_t prog_len; /* instructions */
        uint64_t checksum; /* FNV-1a over the key and the program */
};

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
        const unsigned char *p = data;
        for (size_t i = 0; i < n; i++) {
                h ^= p[i];
                h *= FNV_PRIME;
        }
        return h;
}

/* Everything the compiled program depends on. */
static char *cache_key(const struct spec_seccomp *sc)
{
        const struct scmp_version *v = seccomp_version();
        return xasprintf("berth %s cache %d\nlibseccomp %u.%u.%u api %u\narch %#x\n%s", BERTH_VERSION,
                         CACHE_FORMAT, v->major, v->minor, v->micro, seccomp_api_get(), seccomp_arch_native(),
                         sc->section);
}

static char *name_for_key(const char *key)
{
        return xasprintf("%016llx.bpf", (unsigned long long)fnv1a(FNV_OFFSET, key, strlen(key)));
}

char *seccomp_filter_cache_name(const struct spec_seccomp *sc)
{
        _cleanup_free_ char *key = cache_key(sc);
        return name_for_key(key);
}

/* The cache directory, made if missing; used only when it is ours and
 * nobody else can write to it.  -1 with *why set otherwise. */
static int cache_dir_open(const char *root, const char **why)
{
        /* Made as state_root_open() would: the first container may come next. */
        int r = mkdir_p(root, 0700);
        if (r < 0) {
                *why = strerror(-r);
                return -1;
        }
        _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                *why = strerror(errno);
                return -1;
        }
        if (mkdirat(rootfd, SECCOMP_CACHE_DIR, 0700) < 0 && errno != EEXIST) {
                *why = strerror(errno);
                return -1;
        }
        int fd = openat(rootfd, SECCOMP_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                *why = strerror(errno);
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        if (st.st_uid != geteuid() || (st.st_mode & 022)) {
                *why = "not owned by us or writable by others";
                close(fd);
                return -1;
        }
        return fd;
}

/* 1: a valid entry for exactly `key` was loaded into sc; 0: none (*why says
 * what was wrong with the file, NULL when there was no file). */
static int cache_read(int dirfd, const char *name, const char *key, struct spec_seccomp *sc, const char **why)
{
        size_t len, key_len = strlen(key);
        _cleanup_free_ char *data = read_file_at(dirfd, name, &len);
        struct cache_header h;
        *why = NULL;
        if (!data) {
                if (errno != ENOENT)
                        *why = "is unreadable";
                return 0;
        }
        *why = "is corrupt (truncated or bad header)";
        if (len < sizeof h)
                return 0;
        memcpy(&h, data, sizeof h);
        if (memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) != 0 || h.prog_len == 0 ||
            h.prog_len > BPF_MAXINSNS || h.key_len > len ||
            len != sizeof h + h.key_len + h.prog_len * sizeof(struct sock_filter))
                return 0;
        const char *body = data + sizeof h;
        uint64_t sum = fnv1a(fnv1a(FNV_OFFSET, body, h.key_len), body + h.key_len,
                             h.prog_len * sizeof(struct sock_filter));
        if (sum != h.checksum) {
                *why = "is corrupt (checksum mismatch)";
                return 0;
        }
        if (h.key_len != key_len || memcmp(body, key, key_len) != 0) {
                *why = "is stale (made for another profile, libseccomp or kernel)";
                return 0;
        }
        free(sc->prog);
        sc->prog_len = h.prog_len;
        sc->prog = xmalloc(sc->prog_len * sizeof *sc->prog);
        memcpy(sc->prog, body + h.key_len, sc->prog_len * sizeof *sc->prog);
        return 1;
}

static int cache_write(int dirfd, const char *name, const char *key, const struct spec_seccomp *sc)
{
        size_t key_len = strlen(key), prog_bytes = sc->prog_len * sizeof *sc->prog;
        struct cache_header h = {.key_len = key_len, .prog_len = sc->prog_len};
        memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
        h.checksum = fnv1a(fnv1a(FNV_OFFSET, key, key_len), sc->prog, prog_bytes);
        size_t len = sizeof h + key_len + prog_bytes;
        _cleanup_free_ char *buf = xmalloc(len);
        memcpy(buf, &h, sizeof h);
        memcpy(buf + sizeof h, key, key_len);
        memcpy(buf + sizeof h + key_len, sc->prog, prog_bytes);
        return write_file_atomic(dirfd, name, buf, len, 0600);
}

PRINTF(3, 4)
static void debug_log(berth_log_fn debug, void *data, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_vcall(debug, data, fmt, ap);
        va_end(ap);
}

int seccomp_filter_prepare(struct spec_seccomp *sc, const char *root, berth_log_fn debug, void *data,
                           berth_error **err)
{
        if (sc->prog)
                return 0;
        _cleanup_free_ char *key = cache_key(sc);
        _cleanup_free_ char *name = name_for_key(key);
        const char *why = NULL;
        _cleanup_close_ int dirfd = cache_dir_open(root, &why);
        if (dirfd < 0)
                debug_log(debug, data, "seccomp: cache `%s/%s` unusable (%s): compiling without it", root,
                          SECCOMP_CACHE_DIR, why);
        if (dirfd >= 0 && cache_read(dirfd, name, key, sc, &why) == 1) {
                debug_log(debug, data, "seccomp: filter loaded from cache `%s/%s/%s` (%zu instructions)",
                          root, SECCOMP_CACHE_DIR, name, sc->prog_len);
                return 0;
        }
        if (dirfd >= 0 && why)
                debug_log(debug, data, "seccomp: cache entry `%s/%s/%s` %s: rebuilding", root,
                          SECCOMP_CACHE_DIR, name, why);
        size_t unknown = 0;
        if (compile(sc, &unknown, err) < 0)
                return -1;
        debug_log(debug, data,
                  "seccomp: compiled filter (%zu instructions, %zu unknown syscall names skipped)",
                  sc->prog_len, unknown);
        if (dirfd >= 0) {
                int r = cache_write(dirfd, name, key, sc);
                if (r < 0)
                        debug_log(debug, data, "seccomp: could not cache the filter: %s", strerror(-r));
                else
                        debug_log(debug, data, "seccomp: filter cached as `%s/%s/%s`", root,
                                  SECCOMP_CACHE_DIR, name);
        }
        return 0;
}

/* ---- the init: loading ------------------------------------------------- */

void seccomp_filter_set_channel(struct spec_seccomp *sc, int fd)
{
        sc->channel = fd;
}

int seccomp_filter_load(struct spec_seccomp *sc, berth_error **err)
{
        if (sc->loaded)
                return 0;
        if (!sc->prog)
                return error_set(err, EINVAL, SECTION ": the filter was not prepared before clone");
        unsigned flags = sc->flags;
        if (sc->notify) {
                if (sc->channel < 0)
                        return error_set(err, EINVAL, SECTION ": no channel to hand the listener over");
                flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
                /* The kernel refuses TSYNC with a listener unless told to report
                 * a failed sync as ESRCH (the init has one thread anyway). */
                if (flags & SECCOMP_FILTER_FLAG_TSYNC)
                        flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        } else {
                /* Only meaningful, and only accepted, with a listener. */
                flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        }
        struct sock_fprog prog = {.len = (unsigned short)sc->prog_len, .filter = sc->prog};
        long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
        if (fd < 0) {
                if (errno == EACCES)
                        return error_set(err, errno,
                                         "load the seccomp filter (it needs no_new_privs or "
                                         "CAP_SYS_ADMIN)");
                return error_set(err, errno, "load the seccomp filter");
        }
        sc->loaded = true;
        if (!sc->notify)
                return 0;
        int r = sync_send_fd(sc->channel, SYNC_SECCOMP_LISTENER, (int)fd);
        close((int)fd);
        return r < 0 ? error_set(err, -r, "hand over the seccomp listener") : 0;
}

/* ---- the parent: the listener ------------------------------------------ */

static json_t *process_state_json(const struct spec_seccomp *sc, const struct seccomp_state *st)
{
        json_t *state =
                json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion", BERTH_OCI_VERSION, "id", st->id,
                          "status", st->status, "pid", st->pid, "bundle", st->bundle ? st->bundle : "");
        json_t *ann = json_object();
        for (size_t i = 0; st->annotations && st->annotations[i] && st->annotations[i + 1]; i += 2)
                json_object_set_new(ann, st->annotations[i], json_string(st->annotations[i + 1]));
        if (json_object_size(ann) > 0)
                json_object_set(state, "annotations", ann);
        json_decref(ann);
        json_t *doc = json_pack("{s:s, s:[s], s:i, s:o}", "ociVersion", BERTH_OCI_VERSION, "fds", "seccompFd",
                                "pid", st->pid, "state", state);
        if (sc->listener_metadata)
                json_object_set_new(doc, "metadata", json_string(sc->listener_metadata));
        return doc;
}

static int send_with_fd(int sock, const char *data, size_t len, int fd)
{
        /* The fd goes with the first part only, as runtime-spec requires. */
        ssize_t n = send_fd(sock, data, len, fd);
        if (n < 0)
                return (int)n;
        for (size_t off = (size_t)n; off < len; off += (size_t)n)
                while ((n = send(sock, data + off, len - off, MSG_NOSIGNAL)) < 0)
                        if (errno != EINTR)
                                return -errno;
        return 0;
}

int seccomp_listener_send(const struct spec_seccomp *sc, int listener, const struct seccomp_state *st,
                          berth_error **err)
{
        json_t *doc = process_state_json(sc, st);
        _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sc->listener_path);
        _cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0 || connect(sock, (struct sockaddr *)&sun, sizeof sun) < 0)
                return error_set(err, errno, SECTION ".listenerPath: connect to `%s`", sc->listener_path);
        int r = send_with_fd(sock, text, strlen(text), listener);
        if (r < 0)
                return error_set(err, -r, SECTION ".listenerPath: send the seccomp listener to `%s`",
                                 sc->listener_path);
        return 0;
}

/* ---- without the cache: create --dry-run, check -------------------------- */

int seccomp_filter_compile(struct spec_seccomp *sc, size_t *unknown, berth_error **err)
{
        *unknown = 0;
        return compile(sc, unknown, err);
}

const char *seccomp_action_name(uint32_t action)
{
        for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
                if ((action & SECCOMP_RET_ACTION_FULL) == (actions[i].action & SECCOMP_RET_ACTION_FULL))
                        return actions[i].name;
        return "unknown";
}

const char *seccomp_arch_name(uint32_t arch)
{
        for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
                if (arches[i].arch == arch)
                        return arches[i].name;
        return "unknown";
}

const char *seccomp_flag_name(unsigned flag)
{
        for (size_t i = 0; i < ARRAY_SIZE(flag_names); i++)
                if (flag_names[i].flag == flag)
                        return flag_names[i].name;
        return "unknown";
}
