/* config.json: parse, validate, and turn into struct spec.
 *
 * The whole document is checked here, before anything touches the host, so a
 * bad config never leaves half a container behind.  Errors name the field
 * path the way a user would write it (`mounts[2].destination`).  Keys the
 * OCI runtime-spec does not define are ignored, as the spec requires; keys it
 * defines but berth does not implement fail with "not supported yet" as soon
 * as they ask for anything, rather than being dropped silently. */
#define _GNU_SOURCE
#include "spec.h"

#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "hooks.h"
#include "landlock.h"
#include "lsm.h"
#include "net.h"
#include "seccomp_filter.h"
#include "sysctl.h"

/* jansson seeds its hash tables from /dev/urandom at the first object (an
 * open, a read, a close in every berth process); one getrandom does. */
__attribute__((constructor)) static void seed_json(void)
{
        uint32_t seed;
        if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed && seed)
                json_object_seed(seed);
}

/* Kernel ABI values, for headers older than the features. */
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#define MOUNT_ATTR__ATIME 0x00000070
#define MOUNT_ATTR_RELATIME 0x00000000
#define MOUNT_ATTR_NOATIME 0x00000010
#define MOUNT_ATTR_STRICTATIME 0x00000020
#define MOUNT_ATTR_NODIRATIME 0x00000080
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

/* uid_t/gid_t -1 means "unchanged" to the kernel, so it is not a valid id. */
#define ID_MAX ((uint64_t)UINT32_MAX - 1)

/* ---- names ------------------------------------------------------------- */

static const struct {
        const char *spec_name, *proc_name;
        int clone_flag;
} ns_info[NS_COUNT] = {
        [NS_PID] = {"pid", "pid", CLONE_NEWPID},
        [NS_NET] = {"network", "net", CLONE_NEWNET},
        [NS_MNT] = {"mount", "mnt", CLONE_NEWNS},
        [NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
        [NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
        [NS_USER] = {"user", "user", CLONE_NEWUSER},
        [NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
        [NS_TIME] = {"time", "time", CLONE_NEWTIME},
};

int ns_clone_flag(enum ns_type t)
{
        return (unsigned)t < NS_COUNT ? ns_info[t].clone_flag : 0;
}

const char *ns_spec_name(enum ns_type t)
{
        return (unsigned)t < NS_COUNT ? ns_info[t].spec_name : NULL;
}

const char *ns_proc_name(enum ns_type t)
{
        return (unsigned)t < NS_COUNT ? ns_info[t].proc_name : NULL;
}

static int ns_from_spec_name(const char *name)
{
        for (int t = 0; t < NS_COUNT; t++)
                if (strcmp(ns_info[t].spec_name, name) == 0)
                        return t;
        return -1;
}

#define CAP_NAME(c) [c] = #c
static const char *const cap_names[] = {
        CAP_NAME(CAP_CHOWN),
        CAP_NAME(CAP_DAC_OVERRIDE),
        CAP_NAME(CAP_DAC_READ_SEARCH),
        CAP_NAME(CAP_FOWNER),
        CAP_NAME(CAP_FSETID),
        CAP_NAME(CAP_KILL),
        CAP_NAME(CAP_SETGID),
        CAP_NAME(CAP_SETUID),
        CAP_NAME(CAP_SETPCAP),
        CAP_NAME(CAP_LINUX_IMMUTABLE),
        CAP_NAME(CAP_NET_BIND_SERVICE),
        CAP_NAME(CAP_NET_BROADCAST),
        CAP_NAME(CAP_NET_ADMIN),
        CAP_NAME(CAP_NET_RAW),
        CAP_NAME(CAP_IPC_LOCK),
        CAP_NAME(CAP_IPC_OWNER),
        CAP_NAME(CAP_SYS_MODULE),
        CAP_NAME(CAP_SYS_RAWIO),
        CAP_NAME(CAP_SYS_CHROOT),
        CAP_NAME(CAP_SYS_PTRACE),
        CAP_NAME(CAP_SYS_PACCT),
        CAP_NAME(CAP_SYS_ADMIN),
        CAP_NAME(CAP_SYS_BOOT),
        CAP_NAME(CAP_SYS_NICE),
        CAP_NAME(CAP_SYS_RESOURCE),
        CAP_NAME(CAP_SYS_TIME),
        CAP_NAME(CAP_SYS_TTY_CONFIG),
        CAP_NAME(CAP_MKNOD),
        CAP_NAME(CAP_LEASE),
        CAP_NAME(CAP_AUDIT_WRITE),
        CAP_NAME(CAP_AUDIT_CONTROL),
        CAP_NAME(CAP_SETFCAP),
        CAP_NAME(CAP_MAC_OVERRIDE),
        CAP_NAME(CAP_MAC_ADMIN),
        CAP_NAME(CAP_SYSLOG),
        CAP_NAME(CAP_WAKE_ALARM),
        CAP_NAME(CAP_BLOCK_SUSPEND),
        CAP_NAME(CAP_AUDIT_READ),
        CAP_NAME(CAP_PERFMON),
        CAP_NAME(CAP_BPF),
        CAP_NAME(CAP_CHECKPOINT_RESTORE),
};
_Static_assert(ARRAY_SIZE(cap_names) == CAP_CHECKPOINT_RESTORE + 1, "a capability is missing");

int cap_from_name(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
                if (cap_names[i] && strcmp(cap_names[i], name) == 0)
                        return (int)i;
        return -1;
}

const char *cap_to_name(int cap)
{
        return cap >= 0 && (size_t)cap < ARRAY_SIZE(cap_names) ? cap_names[cap] : NULL;
}

static const struct {
        const char *name;
        int resource;
} rlimit_names[] = {
        {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
        {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

int rlimit_from_name(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
                if (strcmp(rlimit_names[i].name, name) == 0)
                        return rlimit_names[i].resource;
        return -1;
}

/* ---- mount options ----------------------------------------------------- */

/* An option sets some bits and clears others; the later option wins. */
struct opt {
        const char *name;
        unsigned long set, clear;
};

static const struct opt mount_flag_opts[] = {
        {"defaults", 0, 0},
        {"ro", MS_RDONLY, 0},
        {"rw", 0, MS_RDONLY},
        {"nosuid", MS_NOSUID, 0},
        {"suid", 0, MS_NOSUID},
        {"nodev", MS_NODEV, 0},
        {"dev", 0, MS_NODEV},
        {"noexec", MS_NOEXEC, 0},
        {"exec", 0, MS_NOEXEC},
        {"sync", MS_SYNCHRONOUS, 0},
        {"async", 0, MS_SYNCHRONOUS},
        {"dirsync", MS_DIRSYNC, 0},
        {"remount", MS_REMOUNT, 0},
        {"mand", MS_MANDLOCK, 0},
        {"nomand", 0, MS_MANDLOCK},
        {"noatime", MS_NOATIME, 0},
        {"atime", 0, MS_NOATIME},
        {"nodiratime", MS_NODIRATIME, 0},
        {"diratime", 0, MS_NODIRATIME},
        {"relatime", MS_RELATIME, 0},
        {"norelatime", 0, MS_RELATIME},
        {"strictatime", MS_STRICTATIME, 0},
        {"nostrictatime", 0, MS_STRICTATIME},
        {"lazytime", MS_LAZYTIME, 0},
        {"nolazytime", 0, MS_LAZYTIME},
        {"iversion", MS_I_VERSION, 0},
        {"noiversion", 0, MS_I_VERSION},
        {"silent", MS_SILENT, 0},
        {"loud", 0, MS_SILENT},
        {"nosymfollow", MS_NOSYMFOLLOW, 0},
        {"bind", MS_BIND, 0},
        {"rbind", MS_BIND | MS_REC, 0},
};

/* Shared by mounts[].options and linux.rootfsPropagation. */
static const struct opt propagation_opts[] = {
        {"private", MS_PRIVATE, 0},       {"rprivate", MS_PRIVATE | MS_REC, 0},
        {"shared", MS_SHARED, 0},         {"rshared", MS_SHARED | MS_REC, 0},
        {"slave", MS_SLAVE, 0},           {"rslave", MS_SLAVE | MS_REC, 0},
        {"unbindable", MS_UNBINDABLE, 0}, {"runbindable", MS_UNBINDABLE | MS_REC, 0},
};

/* The recursive variants (runtime-spec 1.1), applied with mount_setattr(2).
 * The atime mode is a field rather than a bit: choosing one means clearing
 * the whole field, as the kernel requires. */
static const struct opt rec_attr_opts[] = {
        {"rro", MOUNT_ATTR_RDONLY, 0},
        {"rrw", 0, MOUNT_ATTR_RDONLY},
        {"rnosuid", MOUNT_ATTR_NOSUID, 0},
        {"rsuid", 0, MOUNT_ATTR_NOSUID},
        {"rnodev", MOUNT_ATTR_NODEV, 0},
        {"rdev", 0, MOUNT_ATTR_NODEV},
        {"rnoexec", MOUNT_ATTR_NOEXEC, 0},
        {"rexec", 0, MOUNT_ATTR_NOEXEC},
        {"rnodiratime", MOUNT_ATTR_NODIRATIME, 0},
        {"rdiratime", 0, MOUNT_ATTR_NODIRATIME},
        {"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0},
        {"rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW},
        {"rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
        {"rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
        {"rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
};

static const struct opt *opt_find(const struct opt *table, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(table[i].name, name) == 0)
                        return &table[i];
        return NULL;
}
#define OPT_FIND(table, name) opt_find(table, ARRAY_SIZE(table), name)

static void opt_apply(const struct opt *o, unsigned long *set, unsigned long *clear)
{
        *set = (*set & ~o->clear) | o->set;
        *clear = (*clear & ~o->set) | o->clear;
}

static void mount_add_option(struct spec_mount *m, const char *name)
{
        const struct opt *o;
        if ((o = OPT_FIND(mount_flag_opts, name))) {
                opt_apply(o, &m->flags, &m->clear_flags);
        } else if ((o = OPT_FIND(propagation_opts, name))) {
                m->propagation = o->set;
        } else if ((o = OPT_FIND(rec_attr_opts, name))) {
                opt_apply(o, &m->rec_attr_set, &m->rec_attr_clear);
        } else if (strcmp(name, "tmpcopyup") == 0) {
                m->tmpcopyup = true;
        } else if (strcmp(name, "idmap") == 0) {
                m->idmap = true;
        } else if (strcmp(name, "ridmap") == 0) {
                m->idmap = m->recursive_idmap = true;
        } else if (*name) {
                char *data = m->data ? xasprintf("%s,%s", m->data, name) : xstrdup(name);
                free(m->data);
                m->data = data;
        }
}

/* ---- typed access with field paths ------------------------------------- */

static inline void cleanup_json_(json_t **j)
{
        json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_json_)))

static inline void cleanup_spec_(struct spec **s)
{
        spec_free(*s);
}
#define _cleanup_spec_ __attribute__((cleanup(cleanup_spec_)))

/* `parent.key`, or just one of them when the other is empty/NULL. */
static char *field_path(const char *parent, const char *key)
{
        if (!key)
                return xstrdup(parent);
        if (!*parent)
                return xstrdup(key);
        return xasprintf("%s.%s", parent, key);
}

static char *elem_path(const char *parent, const char *key, size_t i)
{
        _cleanup_free_ char *p = field_path(parent, key);
        return xasprintf("%s[%zu]", p, i);
}

PRINTF(4, 5)
static int field_error(berth_error **err, const char *parent, const char *key, const char *fmt, ...)
{
        _cleanup_free_ char *path = field_path(parent, key);
        _cleanup_free_ char *problem = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&problem, fmt, ap) < 0)
                problem = NULL;
        va_end(ap);
        error_set(err, 0, "%s: %s", path, problem ? problem : fmt);
        return -1;
}

/* A member of an object; JSON null counts as absent, since Go-based tools
 * write null for fields they leave unset. */
static json_t *member(json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);
        return json_is_null(v) ? NULL : v;
}

/* The as_* checkers return 0 when `v` is NULL (absent), 1 when it is present
 * and valid (filling *out), and < 0 with *err set otherwise. */

static int required(int r, berth_error **err, const char *parent, const char *key)
{
        return r == 0 ? field_error(err, parent, key, "required") : r;
}

static int as_string(json_t *v, const char *parent, const char *key, const char **out, berth_error **err)
{
        const char *str = json_string_value(v); /* NULL unless a string */
        if (!v)
                return 0;
        if (!str)
                return field_error(err, parent, key, "expected a string");
        *out = str;
        return 1;
}

static int as_dup_string(json_t *v, const char *parent, const char *key, char **out, berth_error **err)
{
        const char *s = NULL;
        int r = as_string(v, parent, key, &s, err);
        if (r > 0) {
                free(*out);
                *out = xstrdup(s);
        }
        return r;
}

static int as_bool(json_t *v, const char *parent, const char *key, bool *out, berth_error **err)
{
        if (!v)
                return 0;
        if (!json_is_boolean(v))
                return field_error(err, parent, key, "expected a boolean");
        *out = json_is_true(v);
        return 1;
}

static int as_uint(json_t *v, const char *parent, const char *key, uint64_t max, uint64_t *out,
                   berth_error **err)
{
        if (!v)
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return field_error(err, parent, key, "expected a non-negative integer");
        if ((uint64_t)json_integer_value(v) > max)
                return field_error(err, parent, key, "expected an integer between 0 and %" PRIu64, max);
        *out = (uint64_t)json_integer_value(v);
        return 1;
}

static int as_u32(json_t *v, const char *parent, const char *key, uint32_t *out, berth_error **err)
{
        uint64_t u;
        int r = as_uint(v, parent, key, UINT32_MAX, &u, err);
        if (r > 0)
                *out = (uint32_t)u;
        return r;
}

static int as_id(json_t *v, const char *parent, const char *key, uint32_t *out, berth_error **err)
{
        uint64_t u = 0;
        int r = as_uint(v, parent, key, ID_MAX, &u, err);
        if (r > 0)
                *out = (uint32_t)u;
        return r;
}

static int as_object(json_t *v, const char *parent, const char *key, json_t **out, berth_error **err)
{
        *out = NULL;
        if (!v)
                return 0;
        if (!json_is_object(v))
                return field_error(err, parent, key, "expected an object");
        *out = v;
        return 1;
}

static int as_array(json_t *v, const char *parent, const char *key, json_t **out, berth_error **err)
{
        *out = NULL;
        if (!v)
                return 0;
        if (!json_is_array(v))
                return field_error(err, parent, key, "expected an array");
        *out = v;
        return 1;
}

static bool is_absolute(const char *s)
{
        return s[0] == '/';
}

static int as_abs_path(json_t *v, const char *parent, const char *key, char **out, berth_error **err)
{
        const char *str = json_string_value(v);
        if (!v)
                return 0;
        if (!str || !is_absolute(str))
                return field_error(err, parent, key, "expected an absolute path");
        free(*out);
        *out = xstrdup(str);
        return 1;
}

static bool is_string_array(json_t *v)
{
        size_t i;
        json_t *item;
        if (!json_is_array(v))
                return false;
        json_array_foreach(v, i, item)
        {
                if (!json_is_string(item))
                        return false;
        }
        return true;
}

/* A NULL-terminated copy of an array of strings (NULL → empty). */
static char **strv_from_json(json_t *v)
{
        char **strv = xzalloc(sizeof *strv);
        size_t n = 0, i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
                strv_push(&strv, &n, json_string_value(item));
        }
        return strv;
}

static int as_strv(json_t *v, const char *parent, const char *key, char ***out, berth_error **err)
{
        if (!v)
                return 0;
        if (!is_string_array(v))
                return field_error(err, parent, key, "expected an array of strings");
        strv_free(*out);
        *out = strv_from_json(v);
        return 1;
}

static int as_abs_path_strv(json_t *v, const char *parent, const char *key, char ***out, berth_error **err)
{
        int r = as_strv(v, parent, key, out, err);
        for (size_t i = 0; r > 0 && (*out)[i]; i++)
                if (!is_absolute((*out)[i])) {
                        _cleanup_free_ char *p = elem_path(parent, key, i);
                        return field_error(err, p, NULL, "expected an absolute path");
                }
        return r;
}

/* Whether a value asks for anything.  Tools written in Go emit zero values
 * (0, "", false, {}, []) for what they leave unset; those request nothing. */
static bool requests(json_t *v)
{
        const char *key;
        json_t *m;
        if (!v)
                return false;
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                json_object_foreach(v, key, m)
                {
                        if (requests(m))
                                return true;
                }
                return false;
        case JSON_ARRAY:
                return json_array_size(v) > 0;
        case JSON_STRING:
                return json_string_length(v) > 0;
        case JSON_INTEGER:
                return json_integer_value(v) != 0;
        case JSON_REAL:
                return json_real_value(v) != 0.0;
        case JSON_TRUE:
                return true;
        case JSON_FALSE:
        case JSON_NULL:
                return false;
        }
        return false;
}

static int check_unsupported(json_t *obj, const char *parent, const char *const *keys, size_t n,
                             berth_error **err)
{
        for (size_t i = 0; i < n; i++)
                if (requests(member(obj, keys[i])))
                        return field_error(err, parent, keys[i], "not supported yet");
        return 0;
}

/* ---- process ----------------------------------------------------------- */

static int parse_user(struct spec_user *u, json_t *proc, berth_error **err)
{
        json_t *user, *gids, *item;
        uint64_t umask = 0;
        size_t i;
        int r;

        /* runtime-spec makes `user` required on Linux; a missing one means root. */
        if (as_object(member(proc, "user"), "process", "user", &user, err) < 0)
                return -1;
        if (!user)
                return 0;
        if (as_id(member(user, "uid"), "process.user", "uid", &u->uid, err) < 0 ||
            as_id(member(user, "gid"), "process.user", "gid", &u->gid, err) < 0)
                return -1;
        r = as_uint(member(user, "umask"), "process.user", "umask", 0777, &umask, err);
        if (r < 0)
                return -1;
        u->has_umask = r > 0;
        u->umask = r > 0 ? (mode_t)umask : 0;
        if (as_array(member(user, "additionalGids"), "process.user", "additionalGids", &gids, err) < 0)
                return -1;
        u->additional_gids = xzalloc(json_array_size(gids) * sizeof *u->additional_gids);
        json_array_foreach(gids, i, item)
        {
                _cleanup_free_ char *p = elem_path("process.user", "additionalGids", i);
                uint32_t gid = 0;
                if (as_id(item, p, NULL, &gid, err) < 0)
                        return -1;
                u->additional_gids[u->n_additional_gids++] = gid;
        }
        return 0;
}

static int parse_rlimit(struct spec_rlimit *rl, json_t *item, const char *p, uint32_t *seen,
                        berth_error **err)
{
        const char *type = "";
        if (!json_is_object(item))
                return field_error(err, p, NULL, "expected an object");
        if (required(as_string(member(item, "type"), p, "type", &type, err), err, p, "type") < 0)
                return -1;
        rl->resource = rlimit_from_name(type);
        if (rl->resource < 0)
                return field_error(err, p, "type", "unknown rlimit `%s`", type);
        /* runtime-spec: "a single entry per type". */
        if (*seen & (1u << rl->resource))
                return field_error(err, p, "type", "duplicate rlimit `%s`", type);
        *seen |= 1u << rl->resource;
        int r = as_uint(member(item, "soft"), p, "soft", UINT64_MAX, &rl->soft, err);
        if (required(r, err, p, "soft") < 0)
                return -1;
        r = as_uint(member(item, "hard"), p, "hard", UINT64_MAX, &rl->hard, err);
        if (required(r, err, p, "hard") < 0)
                return -1;
        if (rl->soft > rl->hard)
                return field_error(err, p, "soft", "exceeds hard");
        return 0;
}

static int parse_rlimits(struct spec_process *proc, json_t *jproc, berth_error **err)
{
        json_t *arr, *item;
        uint32_t seen = 0;
        size_t i;
        if (as_array(member(jproc, "rlimits"), "process", "rlimits", &arr, err) < 0)
                return -1;
        proc->rlimits = xzalloc(json_array_size(arr) * sizeof *proc->rlimits);
        json_array_foreach(arr, i, item)
        {
                _cleanup_free_ char *p = elem_path("process", "rlimits", i);
                if (parse_rlimit(&proc->rlimits[i], item, p, &seen, err) < 0)
                        return -1;
                proc->n_rlimits = i + 1;
        }
        return 0;
}

static int parse_caps(struct spec_caps *caps, json_t *proc, berth_error **err)
{
        static const char *const sets[] = {"bounding", "effective", "inheritable", "permitted", "ambient"};
        uint64_t *masks[] = {&caps->bounding, &caps->effective, &caps->inheritable, &caps->permitted,
                             &caps->ambient};
        json_t *obj, *arr, *item;
        size_t i;

        if (as_object(member(proc, "capabilities"), "process", "capabilities", &obj, err) < 0)
                return -1;
        caps->present = obj != NULL;
        for (size_t s = 0; obj && s < ARRAY_SIZE(sets); s++) {
                if (as_array(member(obj, sets[s]), "process.capabilities", sets[s], &arr, err) < 0)
                        return -1;
                json_array_foreach(arr, i, item)
                {
                        _cleanup_free_ char *p = elem_path("process.capabilities", sets[s], i);
                        if (!json_is_string(item))
                                return field_error(err, p, NULL, "expected a string");
                        int cap = cap_from_name(json_string_value(item));
                        if (cap < 0)
                                return field_error(err, p, NULL, "unknown capability `%s`",
                                                   json_string_value(item));
                        *masks[s] |= UINT64_C(1) << cap;
                }
        }
        return 0;
}

static int parse_args_env(struct spec_process *proc, json_t *jproc, berth_error **err)
{
        json_t *args = member(jproc, "args");
        if (!is_string_array(args) || json_array_size(args) == 0)
                return field_error(err, "process", "args", "expected a non-empty array of strings");
        proc->args = strv_from_json(args);
        if (!*proc->args[0])
                return field_error(err, "process", "args[0]", "expected a non-empty string");

        proc->env = xzalloc(sizeof *proc->env);
        if (as_strv(member(jproc, "env"), "process", "env", &proc->env, err) < 0)
                return -1;
        for (size_t i = 0; proc->env[i]; i++) {
                const char *eq = strchr(proc->env[i], '=');
                if (!eq || eq == proc->env[i]) {
                        _cleanup_free_ char *p = elem_path("process", "env", i);
                        return field_error(err, p, NULL, "expected `KEY=value`");
                }
        }
        return 0;
}

static int parse_console_size(struct spec_process *proc, json_t *jproc, berth_error **err)
{
        json_t *size;
        uint64_t h = 0, w = 0;
        if (as_object(member(jproc, "consoleSize"), "process", "consoleSize", &size, err) < 0 ||
            as_uint(member(size, "height"), "process.consoleSize", "height", USHRT_MAX, &h, err) < 0 ||
            as_uint(member(size, "width"), "process.consoleSize", "width", USHRT_MAX, &w, err) < 0)
                return -1;
        proc->console_height = (unsigned)h;
        proc->console_width = (unsigned)w;
        return 0;
}

static int parse_process_security(struct spec_process *proc, json_t *jproc, berth_error **err)
{
        static const char *const labels[] = {"apparmorProfile", "selinuxLabel"};
        static const char *const unsupported[] = {"ioPriority", "scheduler", "execCPUAffinity"};
        json_t *v;

        if (as_bool(member(jproc, "noNewPrivileges"), "process", "noNewPrivileges", &proc->no_new_privileges,
                    err) < 0)
                return -1;
        v = member(jproc, "oomScoreAdj");
        if (v) {
                if (!json_is_integer(v) || json_integer_value(v) < -1000 || json_integer_value(v) > 1000)
                        return field_error(err, "process", "oomScoreAdj",
                                           "expected an integer between -1000 and 1000");
                proc->has_oom_score_adj = true;
                proc->oom_score_adj = (int)json_integer_value(v);
        }
        /* Applied (or refused, when the host lacks the LSM) by lsm.c. */
        char **dst[] = {&proc->apparmor_profile, &proc->selinux_label};
        for (size_t i = 0; i < ARRAY_SIZE(labels); i++) {
                const char *label = "";
                if (as_string(member(jproc, labels[i]), "process", labels[i], &label, err) < 0)
                        return -1;
                if (*label)
                        *dst[i] = xstrdup(label);
        }
        return check_unsupported(jproc, "process", unsupported, ARRAY_SIZE(unsupported), err);
}

static int parse_process(struct spec_process *proc, json_t *doc, berth_error **err)
{
        json_t *jproc;
        /* Optional in runtime-spec (for `create` with a later `exec`), but
         * berth always starts the container's process. */
        if (required(as_object(member(doc, "process"), "", "process", &jproc, err), err, "", "process") < 0)
                return -1;
        if (as_bool(member(jproc, "terminal"), "process", "terminal", &proc->terminal, err) < 0 ||
            parse_console_size(proc, jproc, err) < 0 || parse_args_env(proc, jproc, err) < 0 ||
            required(as_abs_path(member(jproc, "cwd"), "process", "cwd", &proc->cwd, err), err, "process",
                     "cwd") < 0 ||
            parse_user(&proc->user, jproc, err) < 0 || parse_rlimits(proc, jproc, err) < 0 ||
            parse_caps(&proc->caps, jproc, err) < 0 || parse_process_security(proc, jproc, err) < 0)
                return -1;
        return 0;
}

/* ---- top level: root, hostname, mounts, annotations, hooks ------------- */

/* One dot-separated identifier of a SemVer pre-release or build part. */
static const char *semver_ident(const char *p, bool numeric_rule)
{
        size_t n = strspn(p, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-");
        bool digits = n > 0 && strspn(p, "0123456789") == n;
        if (n == 0 || (numeric_rule && digits && n > 1 && p[0] == '0'))
                return NULL;
        return p + n;
}

/* config.md: ociVersion MUST be SemVer 2.0.0 (MAJOR.MINOR.PATCH, no leading
 * zeros, then an optional -pre.release and +build). */
static bool semver_valid(const char *v)
{
        const char *p = v;
        for (int i = 0; i < 3; i++) {
                size_t n = strspn(p, "0123456789");
                if (n == 0 || (n > 1 && p[0] == '0') || (i < 2 && p[n] != '.'))
                        return false;
                p += n + (i < 2);
        }
        for (char part = '-'; *p && part; part = part == '-' ? '+' : 0) {
                if (*p != part)
                        continue;
                do
                        p = semver_ident(p + 1, part == '-');
                while (p && *p == '.');
                if (!p)
                        return false;
        }
        return *p == '\0';
}

static int parse_root(struct spec *s, json_t *doc, berth_error **err)
{
        json_t *root;
        if (required(as_dup_string(member(doc, "ociVersion"), "", "ociVersion", &s->oci_version, err), err,
                     "", "ociVersion") < 0 ||
            required(as_object(member(doc, "root"), "", "root", &root, err), err, "", "root") < 0 ||
            required(as_dup_string(member(root, "path"), "root", "path", &s->root_path, err), err, "root",
                     "path") < 0 ||
            as_bool(member(root, "readonly"), "root", "readonly", &s->root_readonly, err) < 0)
                return -1;
        if (!s->root_path || !*s->root_path)
                return field_error(err, "root", "path", "expected a non-empty string");
        if (!semver_valid(s->oci_version))
                return field_error(err, "", "ociVersion", "expected a SemVer 2.0.0 version like `1.2.0`, got `%s`",
                                   s->oci_version);
        return 0;
}

static int parse_idmaps(json_t *obj, const char *parent, const char *key, struct spec_idmap **maps, size_t *n,
                        berth_error **err);

/* tmpcopyup: tmpfs only.  idmap/ridmap: bind mounts only, with both of the
 * mount's own mappings or neither (then the container's user namespace is
 * used, checked in check_consistency). */
static int check_mount_options(const struct spec_mount *m, const char *p, berth_error **err)
{
        bool maps = m->n_uid_mappings || m->n_gid_mappings;
        if (m->tmpcopyup && !(m->type && strcmp(m->type, "tmpfs") == 0))
                return field_error(err, p, "options", "`tmpcopyup` requires a tmpfs mount");
        if (!m->idmap && maps)
                return field_error(err, p, m->n_uid_mappings ? "uidMappings" : "gidMappings",
                                   "requires the `idmap` or `ridmap` option");
        if (!m->idmap)
                return 0;
        if (!(m->flags & MS_BIND) && !(m->type && strcmp(m->type, "bind") == 0))
                return field_error(err, p, "options", "`%s` requires a bind mount",
                                   m->recursive_idmap ? "ridmap" : "idmap");
        if (maps && !m->n_uid_mappings)
                return field_error(err, p, "uidMappings", "required with %s.gidMappings", p);
        if (maps && !m->n_gid_mappings)
                return field_error(err, p, "gidMappings", "required with %s.uidMappings", p);
        return 0;
}

/* runtime-spec 1.2: on Linux a relative destination is taken from `/`. */
static int as_destination(json_t *v, const char *p, char **out, berth_error **err)
{
        int r = as_dup_string(v, p, "destination", out, err);
        if (r > 0 && !**out)
                return field_error(err, p, "destination", "expected a path");
        if (r > 0 && **out != '/') {
                char *abs = xasprintf("/%s", *out);
                free(*out);
                *out = abs;
        }
        return r;
}

static int parse_mount(struct spec_mount *m, json_t *item, const char *p, berth_error **err)
{
        if (!json_is_object(item))
                return field_error(err, p, NULL, "expected an object");
        m->options = xzalloc(sizeof *m->options);
        if (required(as_destination(member(item, "destination"), p, &m->destination, err), err, p,
                     "destination") < 0 ||
            as_dup_string(member(item, "type"), p, "type", &m->type, err) < 0 ||
            as_dup_string(member(item, "source"), p, "source", &m->source, err) < 0 ||
            as_strv(member(item, "options"), p, "options", &m->options, err) < 0 ||
            parse_idmaps(item, p, "uidMappings", &m->uid_mappings, &m->n_uid_mappings, err) < 0 ||
            parse_idmaps(item, p, "gidMappings", &m->gid_mappings, &m->n_gid_mappings, err) < 0)
                return -1;
        for (char **o = m->options; *o; o++)
                mount_add_option(m, *o);
        return check_mount_options(m, p, err);
}

static int parse_mounts(struct spec *s, json_t *doc, berth_error **err)
{
        json_t *arr, *item;
        size_t i;
        if (as_array(member(doc, "mounts"), "", "mounts", &arr, err) < 0)
                return -1;
        s->mounts = xzalloc(json_array_size(arr) * sizeof *s->mounts);
        json_array_foreach(arr, i, item)
        {
                _cleanup_free_ char *p = elem_path("", "mounts", i);
                s->n_mounts = i + 1;
                if (parse_mount(&s->mounts[i], item, p, err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_annotations(struct spec *s, json_t *doc, berth_error **err)
{
        json_t *obj, *v;
        const char *key;
        size_t n = 0;
        if (as_object(member(doc, "annotations"), "", "annotations", &obj, err) < 0)
                return -1;
        s->annotations = xzalloc(sizeof *s->annotations);
        json_object_foreach(obj, key, v)
        {
                if (!*key) /* config.md: keys MUST NOT be empty */
                        return field_error(err, "", "annotations", "a key must not be empty");
                if (!json_is_string(v))
                        return field_error(err, "annotations", key, "expected a string");
                strv_push(&s->annotations, &n, key);
                strv_push(&s->annotations, &n, json_string_value(v));
        }
        return 0;
}

static int parse_top(struct spec *s, json_t *doc, berth_error **err)
{
        if (as_dup_string(member(doc, "hostname"), "", "hostname", &s->hostname, err) < 0 ||
            as_dup_string(member(doc, "domainname"), "", "domainname", &s->domainname, err) < 0 ||
            parse_mounts(s, doc, err) < 0 || parse_annotations(s, doc, err) < 0 ||
            net_config_parse(s->annotations, &s->net, err) < 0 ||
            landlock_config_parse(s->annotations, &s->landlock, err) < 0)
                return -1;
        return hooks_parse(member(doc, "hooks"), &s->hooks, err);
}

/* ---- linux ------------------------------------------------------------- */

static int parse_namespaces(struct spec *s, json_t *lnx, berth_error **err)
{
        json_t *arr, *item;
        size_t i;
        if (as_array(member(lnx, "namespaces"), "linux", "namespaces", &arr, err) < 0)
                return -1;
        json_array_foreach(arr, i, item)
        {
                _cleanup_free_ char *p = elem_path("linux", "namespaces", i);
                const char *type = "";
                if (!json_is_object(item))
                        return field_error(err, p, NULL, "expected an object");
                if (required(as_string(member(item, "type"), p, "type", &type, err), err, p, "type") < 0)
                        return -1;
                int t = ns_from_spec_name(type);
                if (t < 0)
                        return field_error(err, p, "type", "unknown namespace type `%s`", type);
                if (s->namespaces[t].present)
                        return field_error(err, p, "type", "duplicate namespace `%s`", type);
                s->namespaces[t].present = true;
                if (as_abs_path(member(item, "path"), p, "path", &s->namespaces[t].path, err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_idmaps(json_t *obj, const char *parent, const char *key, struct spec_idmap **maps, size_t *n,
                        berth_error **err)
{
        static const char *const fields[] = {"containerID", "hostID", "size"};
        json_t *arr, *item;
        size_t i;
        if (as_array(member(obj, key), parent, key, &arr, err) < 0)
                return -1;
        *maps = xzalloc(json_array_size(arr) * sizeof **maps);
        json_array_foreach(arr, i, item)
        {
                _cleanup_free_ char *p = elem_path(parent, key, i);
                struct spec_idmap *m = &(*maps)[i];
                uint32_t *dst[] = {&m->container_id, &m->host_id, &m->size};
                if (!json_is_object(item))
                        return field_error(err, p, NULL, "expected an object");
                for (size_t f = 0; f < ARRAY_SIZE(fields); f++)
                        if (required(as_u32(member(item, fields[f]), p, fields[f], dst[f], err), err, p,
                                     fields[f]) < 0)
                                return -1;
                if (m->size == 0)
                        return field_error(err, p, "size", "expected a positive integer");
                *n = i + 1;
        }
        return 0;
}

static int parse_device(struct spec_device *d, json_t *item, const char *p, berth_error **err)
{
        const char *type = "";
        uint64_t major = 0, minor = 0, mode = 0;
        int r;
        if (!json_is_object(item))
                return field_error(err, p, NULL, "expected an object");
        if (required(as_string(member(item, "type"), p, "type", &type, err), err, p, "type") < 0)
                return -1;
        if (strlen(type) != 1 || !strchr("cbup", type[0]))
                return field_error(err, p, "type", "expected one of `c`, `b`, `u`, `p`");
        d->type = type[0];
        if (required(as_abs_path(member(item, "path"), p, "path", &d->path, err), err, p, "path") < 0)
                return -1;
        /* A FIFO has no device number; every other kind needs both. */
        r = as_uint(member(item, "major"), p, "major", INT64_MAX, &major, err);
        if (r < 0 || (d->type != 'p' && required(r, err, p, "major") < 0))
                return -1;
        r = as_uint(member(item, "minor"), p, "minor", INT64_MAX, &minor, err);
        if (r < 0 || (d->type != 'p' && required(r, err, p, "minor") < 0))
                return -1;
        d->major = (int64_t)major;
        d->minor = (int64_t)minor;
        r = as_uint(member(item, "fileMode"), p, "fileMode", 07777, &mode, err);
        if (r < 0)
                return -1;
        d->has_mode = r > 0;
        d->file_mode = (mode_t)mode;
        if ((r = as_id(member(item, "uid"), p, "uid", &d->uid, err)) < 0)
                return -1;
        d->has_uid = r > 0;
        if ((r = as_id(member(item, "gid"), p, "gid", &d->gid, err)) < 0)
                return -1;
        d->has_gid = r > 0;
        return 0;
}

static int parse_devices(struct spec *s, json_t *lnx, berth_error **err)
{
        json_t *arr, *item;
        size_t i;
        if (as_array(member(lnx, "devices"), "linux", "devices", &arr, err) < 0)
                return -1;
        s->devices = xzalloc(json_array_size(arr) * sizeof *s->devices);
        json_array_foreach(arr, i, item)
        {
                _cleanup_free_ char *p = elem_path("linux", "devices", i);
                s->n_devices = i + 1;
                if (parse_device(&s->devices[i], item, p, err) < 0)
                        return -1;
        }
        return 0;
}

/* linux.resources: spec_resources.c. */
static int parse_resources(struct spec *s, json_t *lnx, berth_error **err)
{
        return res_parse(member(lnx, "resources"), "linux.resources", &s->resources, err);
}

static int parse_linux_unsupported(json_t *lnx, berth_error **err)
{
        static const char *const unsupported[] = {"intelRdt", "memoryPolicy"};
        /* Maps whose keys alone are requests (`"eth1": {}` moves eth1). */
        static const char *const maps[] = {"netDevices"};
        json_t *obj;
        for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
                if (as_object(member(lnx, maps[i]), "linux", maps[i], &obj, err) < 0)
                        return -1;
                if (json_object_size(obj) > 0)
                        return field_error(err, "linux", maps[i], "not supported yet");
        }
        return check_unsupported(lnx, "linux", unsupported, ARRAY_SIZE(unsupported), err);
}

/* linux.sysctl: string values; the keys are checked with the namespaces in check_consistency. */
static int parse_sysctl(struct spec *s, json_t *lnx, berth_error **err)
{
        json_t *obj, *v;
        const char *key;
        size_t n = 0;
        s->sysctl = xzalloc(sizeof *s->sysctl);
        if (as_object(member(lnx, "sysctl"), "linux", "sysctl", &obj, err) < 0)
                return -1;
        json_object_foreach(obj, key, v)
        {
                if (!json_is_string(v))
                        return field_error(err, "linux.sysctl", key, "expected a string");
                strv_push(&s->sysctl, &n, key);
                strv_push(&s->sysctl, &n, json_string_value(v));
        }
        return 0;
}

static int parse_time_offset(json_t *clock, const char *p, struct spec_time_offset *t, berth_error **err)
{
        json_t *secs = member(clock, "secs");
        uint64_t ns = 0;
        if (!json_is_object(clock))
                return field_error(err, p, NULL, "expected an object");
        if (secs && !json_is_integer(secs))
                return field_error(err, p, "secs", "expected an integer");
        if (as_uint(member(clock, "nanosecs"), p, "nanosecs", 999999999, &ns, err) < 0)
                return -1;
        *t = (struct spec_time_offset){
                .present = true,
                .secs = secs ? (int64_t)json_integer_value(secs) : 0,
                .nanosecs = (uint32_t)ns,
        };
        return 0;
}

static int parse_time_offsets(struct spec *s, json_t *lnx, berth_error **err)
{
        json_t *obj, *v;
        const char *key;
        if (as_object(member(lnx, "timeOffsets"), "linux", "timeOffsets", &obj, err) < 0)
                return -1;
        json_object_foreach(obj, key, v)
        {
                _cleanup_free_ char *p = field_path("linux.timeOffsets", key);
                struct spec_time_offset *t = strcmp(key, "monotonic") == 0  ? &s->time_monotonic
                                             : strcmp(key, "boottime") == 0 ? &s->time_boottime
                                                                            : NULL;
                if (!t)
                        return field_error(err, "linux.timeOffsets", key,
                                           "unknown clock (expected `monotonic` or `boottime`)");
                if (parse_time_offset(v, p, t, err) < 0)
                        return -1;
        }
        return 0;
}

/* runtime-spec defines no personality flags yet, so any flag is refused. */
static int parse_personality(struct spec *s, json_t *lnx, berth_error **err)
{
        json_t *obj;
        const char *domain = NULL;
        _cleanup_strv_ char **flags = NULL;
        if (as_object(member(lnx, "personality"), "linux", "personality", &obj, err) < 0)
                return -1;
        if (!obj)
                return 0;
        if (required(as_string(member(obj, "domain"), "linux.personality", "domain", &domain, err), err,
                     "linux.personality", "domain") < 0 ||
            as_strv(member(obj, "flags"), "linux.personality", "flags", &flags, err) < 0)
                return -1;
        if (strcmp(domain, "LINUX") == 0)
                s->personality = PER_LINUX;
        else if (strcmp(domain, "LINUX32") == 0)
                s->personality = PER_LINUX32;
        else
                return field_error(err, "linux.personality", "domain",
                                   "unknown domain `%s` (expected `LINUX` or `LINUX32`)", domain);
        if (flags && flags[0])
                return field_error(err, "linux.personality", "flags", "unknown flag `%s`", flags[0]);
        s->has_personality = true;
        return 0;
}

/* linux.seccomp (seccomp.c) and linux.mountLabel, given to the mounts that
 * take a context= option: the SELinux label of what the container creates
 * there (bind mounts keep their source's labels). */
static int parse_linux_security(struct spec *s, json_t *lnx, berth_error **err)
{
        static const char *const labelled[] = {"tmpfs", "devpts", "mqueue"};
        const char *label = "";
        if (seccomp_spec_parse(member(lnx, "seccomp"), &s->seccomp, err) < 0 ||
            as_string(member(lnx, "mountLabel"), "linux", "mountLabel", &label, err) < 0)
                return -1;
        if (!*label)
                return 0;
        s->mount_label = xstrdup(label);
        for (size_t i = 0; i < s->n_mounts; i++)
                for (size_t t = 0; t < ARRAY_SIZE(labelled); t++)
                        if (s->mounts[i].type && strcmp(s->mounts[i].type, labelled[t]) == 0) {
                                char *data = lsm_mount_data(s->mounts[i].data, label);
                                free(s->mounts[i].data);
                                s->mounts[i].data = data;
                        }
        return 0;
}

static int parse_linux(struct spec *s, json_t *doc, berth_error **err)
{
        json_t *lnx;
        const char *prop = NULL;
        if (as_object(member(doc, "linux"), "", "linux", &lnx, err) < 0)
                return -1;
        s->masked_paths = xzalloc(sizeof *s->masked_paths);
        s->readonly_paths = xzalloc(sizeof *s->readonly_paths);
        if (parse_namespaces(s, lnx, err) < 0 ||
            parse_idmaps(lnx, "linux", "uidMappings", &s->uid_mappings, &s->n_uid_mappings, err) < 0 ||
            parse_idmaps(lnx, "linux", "gidMappings", &s->gid_mappings, &s->n_gid_mappings, err) < 0 ||
            as_dup_string(member(lnx, "cgroupsPath"), "linux", "cgroupsPath", &s->cgroups_path, err) < 0 ||
            as_abs_path_strv(member(lnx, "maskedPaths"), "linux", "maskedPaths", &s->masked_paths, err) < 0 ||
            as_abs_path_strv(member(lnx, "readonlyPaths"), "linux", "readonlyPaths", &s->readonly_paths,
                             err) < 0 ||
            as_string(member(lnx, "rootfsPropagation"), "linux", "rootfsPropagation", &prop, err) < 0 ||
            parse_devices(s, lnx, err) < 0 || parse_resources(s, lnx, err) < 0 ||
            parse_sysctl(s, lnx, err) < 0 || parse_time_offsets(s, lnx, err) < 0 ||
            parse_personality(s, lnx, err) < 0 || parse_linux_unsupported(lnx, err) < 0 ||
            parse_linux_security(s, lnx, err) < 0)
                return -1;
        if (prop && *prop) {
                const struct opt *o = OPT_FIND(propagation_opts, prop);
                if (!o)
                        return field_error(err, "linux", "rootfsPropagation", "unknown propagation `%s`",
                                           prop);
                s->rootfs_propagation = o->set;
        }
        return 0;
}

/* ---- whole document ---------------------------------------------------- */

/* Rules that span fields; each one guards against touching the host. */
static int check_consistency(const struct spec *s, berth_error **err)
{
        const struct spec_namespace *user = &s->namespaces[NS_USER];
        bool new_userns = user->present && !user->path;
        if (new_userns && s->n_uid_mappings == 0)
                return error_set(err, 0, "linux.uidMappings: required with a new user namespace");
        if (new_userns && s->n_gid_mappings == 0)
                return error_set(err, 0, "linux.gidMappings: required with a new user namespace");
        if (!user->present && s->n_uid_mappings > 0)
                return error_set(err, 0, "linux.uidMappings: requires a user namespace");
        if (!user->present && s->n_gid_mappings > 0)
                return error_set(err, 0, "linux.gidMappings: requires a user namespace");
        /* Without a UTS namespace these would rename the host. */
        if (s->hostname && *s->hostname && !s->namespaces[NS_UTS].present)
                return error_set(err, 0, "hostname: requires a UTS namespace");
        if (s->domainname && *s->domainname && !s->namespaces[NS_UTS].present)
                return error_set(err, 0, "domainname: requires a UTS namespace");
        /* The offsets can only be written into a time namespace nobody has entered yet. */
        bool new_timens = s->namespaces[NS_TIME].present && !s->namespaces[NS_TIME].path;
        if ((s->time_monotonic.present || s->time_boottime.present) && !new_timens)
                return error_set(err, 0, "linux.timeOffsets: requires a new time namespace");
        for (size_t i = 0; i < s->n_mounts; i++)
                if (s->mounts[i].idmap && !s->mounts[i].n_uid_mappings && !user->present)
                        return error_set(err, 0,
                                         "mounts[%zu].options: `%s` requires mounts[%zu].uidMappings and "
                                         "gidMappings or a user namespace",
                                         i, s->mounts[i].recursive_idmap ? "ridmap" : "idmap", i);
        return sysctl_validate(s, err);
}

/* root.path is relative to the bundle unless absolute; replaced by its
 * canonical form, which must be a directory. */
static int resolve_root(struct spec *s, const char *bundle, berth_error **err)
{
        const char *path = s->root_path;
        bool slash = bundle[0] && bundle[strlen(bundle) - 1] == '/';
        _cleanup_free_ char *joined =
                is_absolute(path) ? xstrdup(path) : xasprintf("%s%s%s", bundle, slash ? "" : "/", path);
        _cleanup_free_ char *real = realpath(joined, NULL);
        struct stat st;
        if (!real || stat(real, &st) < 0)
                return error_set(err, errno, "root.path `%s`", joined);
        if (!S_ISDIR(st.st_mode))
                return error_set(err, ENOTDIR, "root.path `%s`", joined);
        free(s->root_path);
        s->root_path = steal_pointer(&real);
        return 0;
}

struct spec *spec_parse(const char *text, const char *bundle, const char *name, berth_error **err)
{
        json_error_t jerr;
        if (!name)
                name = "config.json";
        _cleanup_json_ json_t *doc = json_loads(text, 0, &jerr);
        if (!doc) {
                error_set(err, 0, "%s: line %d, column %d: %s", name, jerr.line, jerr.column, jerr.text);
                return NULL;
        }
        if (!json_is_object(doc)) {
                error_set(err, 0, "%s: expected a JSON object", name);
                return NULL;
        }

        _cleanup_spec_ struct spec *s = xzalloc(sizeof *s);
        s->config_text = xstrdup(text);
        s->bundle = bundle ? xstrdup(bundle) : NULL;
        if (parse_root(s, doc, err) < 0 || parse_process(&s->process, doc, err) < 0 ||
            parse_top(s, doc, err) < 0 || parse_linux(s, doc, err) < 0 || check_consistency(s, err) < 0)
                return NULL;
        if (bundle && resolve_root(s, bundle, err) < 0)
                return NULL;
        return steal_pointer(&s);
}

struct spec *spec_load(const char *bundle, berth_error **err)
{
        _cleanup_free_ char *canonical = realpath(bundle, NULL);
        int saved = errno;
        _cleanup_free_ char *path = xasprintf("%s/config.json", canonical ? canonical : bundle);
        if (!canonical) {
                error_set(err, saved, "open `%s`", path);
                return NULL;
        }
        _cleanup_free_ char *text = read_file_at(AT_FDCWD, path, NULL);
        if (!text) {
                error_set(err, errno, "open `%s`", path);
                return NULL;
        }
        return spec_parse(text, canonical, path, err);
}

static void process_clear(struct spec_process *p)
{
        strv_free(p->args);
        strv_free(p->env);
        free(p->cwd);
        free(p->user.additional_gids);
        free(p->rlimits);
        free(p->apparmor_profile);
        free(p->selinux_label);
}

void spec_process_clear(struct spec_process *p)
{
        process_clear(p);
        memset(p, 0, sizeof *p);
}

int spec_parse_process(const char *text, const char *name, struct spec_process *out, berth_error **err)
{
        json_error_t jerr;
        memset(out, 0, sizeof *out);
        _cleanup_json_ json_t *proc = json_loads(text, 0, &jerr);
        if (!proc)
                return error_set(err, 0, "%s: line %d, column %d: %s", name, jerr.line, jerr.column, jerr.text);
        if (!json_is_object(proc))
                return error_set(err, 0, "%s: expected a JSON object", name);
        /* Parsed as the `process` member of a document, so errors name the same fields as in config.json. */
        _cleanup_json_ json_t *doc = json_pack("{s:O}", "process", proc);
        if (parse_process(out, doc, err) < 0) {
                spec_process_clear(out);
                return -1;
        }
        return 0;
}

void spec_free(struct spec *s)
{
        if (!s)
                return;
        free(s->oci_version);
        free(s->bundle);
        free(s->root_path);
        free(s->hostname);
        free(s->domainname);
        process_clear(&s->process);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].destination);
                free(s->mounts[i].type);
                free(s->mounts[i].source);
                strv_free(s->mounts[i].options);
                free(s->mounts[i].data);
                free(s->mounts[i].uid_mappings);
                free(s->mounts[i].gid_mappings);
        }
        free(s->mounts);
        strv_free(s->annotations);
        hooks_free(s->hooks);
        net_config_free(s->net);
        landlock_config_free(s->landlock);
        for (int t = 0; t < NS_COUNT; t++)
                free(s->namespaces[t].path);
        free(s->uid_mappings);
        free(s->gid_mappings);
        free(s->cgroups_path);
        strv_free(s->masked_paths);
        strv_free(s->readonly_paths);
        for (size_t i = 0; i < s->n_devices; i++)
                free(s->devices[i].path);
        free(s->devices);
        strv_free(s->sysctl);
        res_clear(&s->resources);
        free(s->config_text);
        seccomp_spec_free(s->seccomp);
        free(s->mount_label);
        free(s);
}

/* ---- the default config ------------------------------------------------ */

/* What `runc spec` writes, with a terminal-less `sh`, berth's hostname and a
 * cgroup namespace added. */
static const char default_config[] =
        "{\n"
        "  \"ociVersion\": \"" BERTH_OCI_VERSION "\",\n"
        "  \"process\": {\n"
        "    \"terminal\": false,\n"
        "    \"user\": {\n"
        "      \"uid\": 0,\n"
        "      \"gid\": 0\n"
        "    },\n"
        "    \"args\": [\n"
        "      \"sh\"\n"
        "    ],\n"
        "    \"env\": [\n"
        "      \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
        "      \"TERM=xterm\"\n"
        "    ],\n"
        "    \"cwd\": \"/\",\n"
        "    \"capabilities\": {\n"
        "      \"bounding\": [\n"
        "        \"CAP_AUDIT_WRITE\",\n"
        "        \"CAP_KILL\",\n"
        "        \"CAP_NET_BIND_SERVICE\"\n"
        "      ],\n"
        "      \"effective\": [\n"
        "        \"CAP_AUDIT_WRITE\",\n"
        "        \"CAP_KILL\",\n"
        "        \"CAP_NET_BIND_SERVICE\"\n"
        "      ],\n"
        "      \"permitted\": [\n"
        "        \"CAP_AUDIT_WRITE\",\n"
        "        \"CAP_KILL\",\n"
        "        \"CAP_NET_BIND_SERVICE\"\n"
        "      ],\n"
        "      \"ambient\": [\n"
        "        \"CAP_AUDIT_WRITE\",\n"
        "        \"CAP_KILL\",\n"
        "        \"CAP_NET_BIND_SERVICE\"\n"
        "      ]\n"
        "    },\n"
        "    \"rlimits\": [\n"
        "      {\n"
        "        \"type\": \"RLIMIT_NOFILE\",\n"
        "        \"hard\": 1024,\n"
        "        \"soft\": 1024\n"
        "      }\n"
        "    ],\n"
        "    \"noNewPrivileges\": true\n"
        "  },\n"
        "  \"root\": {\n"
        "    \"path\": \"rootfs\",\n"
        "    \"readonly\": true\n"
        "  },\n"
        "  \"hostname\": \"berth\",\n"
        "  \"mounts\": [\n"
        "    {\n"
        "      \"destination\": \"/proc\",\n"
        "      \"type\": \"proc\",\n"
        "      \"source\": \"proc\"\n"
        "    },\n"
        "    {\n"
        "      \"destination\": \"/dev\",\n"
        "      \"type\": \"tmpfs\",\n"
        "      \"source\": \"tmpfs\",\n"
        "      \"options\": [\n"
        "        \"nosuid\",\n"
        "        \"strictatime\",\n"
        "        \"mode=755\",\n"
        "        \"size=65536k\"\n"
        "      ]\n"
        "    },\n"
        "    {\n"
        "      \"destination\": \"/dev/pts\",\n"
        "      \"type\": \"devpts\",\n"
        "      \"source\": \"devpts\",\n"
        "      \"options\": [\n"
        "        \"nosuid\",\n"
        "        \"noexec\",\n"
        "        \"newinstance\",\n"
        "        \"ptmxmode=0666\",\n"
        "        \"mode=0620\",\n"
        "        \"gid=5\"\n"
        "      ]\n"
        "    },\n"
        "    {\n"
        "      \"destination\": \"/dev/shm\",\n"
        "      \"type\": \"tmpfs\",\n"
        "      \"source\": \"shm\",\n"
        "      \"options\": [\n"
        "        \"nosuid\",\n"
        "        \"noexec\",\n"
        "        \"nodev\",\n"
        "        \"mode=1777\",\n"
        "        \"size=65536k\"\n"
        "      ]\n"
        "    },\n"
        "    {\n"
        "      \"destination\": \"/dev/mqueue\",\n"
        "      \"type\": \"mqueue\",\n"
        "      \"source\": \"mqueue\",\n"
        "      \"options\": [\n"
        "        \"nosuid\",\n"
        "        \"noexec\",\n"
        "        \"nodev\"\n"
        "      ]\n"
        "    },\n"
        "    {\n"
        "      \"destination\": \"/sys\",\n"
        "      \"type\": \"sysfs\",\n"
        "      \"source\": \"sysfs\",\n"
        "      \"options\": [\n"
        "        \"nosuid\",\n"
        "        \"noexec\",\n"
        "        \"nodev\",\n"
        "        \"ro\"\n"
        "      ]\n"
        "    },\n"
        "    {\n"
        "      \"destination\": \"/sys/fs/cgroup\",\n"
        "      \"type\": \"cgroup\",\n"
        "      \"source\": \"cgroup\",\n"
        "      \"options\": [\n"
        "        \"nosuid\",\n"
        "        \"noexec\",\n"
        "        \"nodev\",\n"
        "        \"relatime\",\n"
        "        \"ro\"\n"
        "      ]\n"
        "    }\n"
        "  ],\n"
        "  \"linux\": {\n"
        "    \"resources\": {\n"
        "      \"devices\": [\n"
        "        {\n"
        "          \"allow\": false,\n"
        "          \"access\": \"rwm\"\n"
        "        }\n"
        "      ]\n"
        "    },\n"
        "    \"namespaces\": [\n"
        "      {\n"
        "        \"type\": \"pid\"\n"
        "      },\n"
        "      {\n"
        "        \"type\": \"network\"\n"
        "      },\n"
        "      {\n"
        "        \"type\": \"ipc\"\n"
        "      },\n"
        "      {\n"
        "        \"type\": \"uts\"\n"
        "      },\n"
        "      {\n"
        "        \"type\": \"mount\"\n"
        "      },\n"
        "      {\n"
        "        \"type\": \"cgroup\"\n"
        "      }\n"
        "    ],\n"
        "    \"maskedPaths\": [\n"
        "      \"/proc/acpi\",\n"
        "      \"/proc/asound\",\n"
        "      \"/proc/kcore\",\n"
        "      \"/proc/keys\",\n"
        "      \"/proc/latency_stats\",\n"
        "      \"/proc/timer_list\",\n"
        "      \"/proc/timer_stats\",\n"
        "      \"/proc/sched_debug\",\n"
        "      \"/sys/firmware\",\n"
        "      \"/proc/scsi\"\n"
        "    ],\n"
        "    \"readonlyPaths\": [\n"
        "      \"/proc/bus\",\n"
        "      \"/proc/fs\",\n"
        "      \"/proc/irq\",\n"
        "      \"/proc/sys\",\n"
        "      \"/proc/sysrq-trigger\"\n"
        "    ]\n"
        "  }\n"
        "}\n";

char *spec_default_json(void)
{
        return xstrdup(default_config);
}

char *berth_spec_default(void)
{
        return spec_default_json();
}
