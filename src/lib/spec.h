/* config.json as typed structs.  spec_load() reads and validates the whole
 * document before anything touches the host; every error names the field
 * path (`process.user.uid: expected a non-negative integer`) or, for a
 * syntax error, the file, line and column. */
#ifndef BERTH_SPEC_H
#define BERTH_SPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec_resources.h"
#include "utils.h"

enum ns_type { NS_PID, NS_NET, NS_MNT, NS_IPC, NS_UTS, NS_USER, NS_CGROUP, NS_TIME, NS_COUNT };

struct spec_namespace {
        bool present; /* listed in linux.namespaces */
        char *path;   /* join this namespace (NULL = create a new one) */
};

struct spec_idmap {
        uint32_t container_id, host_id, size;
};

struct spec_mount {
        char *destination; /* absolute */
        char *type;        /* NULL when absent (bind mounts) */
        char *source;      /* NULL when absent */
        char **options;    /* NULL-terminated, may be empty */
        /* derived from options by the parser: */
        unsigned long flags;       /* MS_* to set (MS_BIND, MS_REC, MS_RDONLY, MS_NOSUID, ...) */
        unsigned long clear_flags; /* MS_* explicitly cleared (rw, suid, dev, exec, atime...) */
        unsigned long propagation; /* MS_PRIVATE|MS_SHARED|MS_SLAVE|MS_UNBINDABLE (+MS_REC), 0 = none */
        char *data;                /* remaining options joined by ',' (filesystem data), or NULL */
        /* Recognised but not acted on by the parser; the mount code must honour
         * these or refuse the mount, never drop them silently (`rro` asks for a
         * read-only tree). */
        unsigned long rec_attr_set, rec_attr_clear; /* MOUNT_ATTR_* for mount_setattr(AT_RECURSIVE) */
        bool tmpcopyup;                             /* `tmpcopyup` */
        bool idmap, recursive_idmap;                /* `idmap` / `ridmap` */
        /* The mount's own id mapping (with idmap/ridmap); none = the container's. */
        struct spec_idmap *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
};

struct spec_rlimit {
        int resource; /* RLIMIT_* */
        uint64_t soft, hard;
};

/* Capability sets as bitmasks of CAP_* numbers (bit n = capability n). */
struct spec_caps {
        bool present; /* process.capabilities given */
        uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct spec_user {
        uid_t uid;
        gid_t gid;
        bool has_umask;
        mode_t umask;
        gid_t *additional_gids;
        size_t n_additional_gids;
};

struct spec_process {
        bool terminal;
        unsigned console_height, console_width; /* 0 = not given */
        char **args;                            /* at least one element */
        char **env;                             /* NULL-terminated, may be empty */
        char *cwd;                              /* absolute */
        struct spec_user user;
        struct spec_rlimit *rlimits;
        size_t n_rlimits;
        struct spec_caps caps;
        bool no_new_privileges;
        bool has_oom_score_adj;
        int oom_score_adj;
        char *apparmor_profile; /* NULL when absent or empty */
        char *selinux_label;    /* NULL when absent or empty */
};

struct spec_device {
        char *path;
        char type; /* 'c', 'b', 'u', 'p' */
        int64_t major, minor;
        bool has_mode;
        mode_t file_mode;
        bool has_uid, has_gid;
        uid_t uid;
        gid_t gid;
};

/* linux.timeOffsets for one clock of a new time namespace. */
struct spec_time_offset {
        bool present;
        int64_t secs;
        uint32_t nanosecs;
};

struct spec {
        char *oci_version;
        char *bundle;    /* absolute, canonical path of the bundle */
        char *root_path; /* absolute, canonical path of root.path */
        bool root_readonly;
        char *hostname;   /* NULL when absent */
        char *domainname; /* NULL when absent */
        struct spec_process process;
        struct spec_mount *mounts;
        size_t n_mounts;
        char **annotations; /* key, value, ..., NULL */
        struct hooks *hooks;      /* hooks.h; NULL when none */
        struct net_config *net;   /* net.h: the berth.net.* / berth.ipc.* annotations; NULL when none */
        struct landlock_config *landlock; /* landlock.h: the berth.landlock.* annotations; NULL when none */
        /* linux */
        struct spec_namespace namespaces[NS_COUNT];
        struct spec_idmap *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        char *cgroups_path; /* NULL when absent */
        char **masked_paths;
        char **readonly_paths;
        unsigned long rootfs_propagation; /* MS_* (+MS_REC); 0 = default */
        struct spec_device *devices;
        size_t n_devices;
        char **sysctl; /* linux.sysctl: key, value, ..., NULL (keys checked by sysctl_validate) */
        struct spec_time_offset time_monotonic, time_boottime; /* linux.timeOffsets */
        bool has_personality;
        unsigned long personality; /* linux.personality.domain as PER_* */
        struct res_resources resources; /* linux.resources (spec_resources.h) */
        char *config_text;         /* the raw config.json */
        struct spec_seccomp *seccomp; /* linux.seccomp (seccomp_filter.h), NULL when absent */
        char *mount_label;            /* linux.mountLabel, NULL when absent; already in the mounts' data */
};

/* Read `bundle`/config.json, validate it, and resolve root.path. */
struct spec *spec_load(const char *bundle, berth_error **err);
/* Parse a config from a string; `bundle` is used to resolve root.path and
 * `name` to name the document in syntax errors.  With `bundle` NULL, root.path
 * is kept as written and not checked (spec->bundle is then NULL too). */
struct spec *spec_parse(const char *text, const char *bundle, const char *name, berth_error **err);
void spec_free(struct spec *spec);
/* Parse an OCI process object alone (`exec --process FILE`); errors name the
 * fields as in config.json (`process.args: …`), `name` names the document in
 * syntax errors.  On failure *out is left empty. */
int spec_parse_process(const char *text, const char *name, struct spec_process *out, berth_error **err);
void spec_process_clear(struct spec_process *p);

/* The CLONE_NEW* flag of a namespace kind, and its name in the spec / in /proc/PID/ns. */
int ns_clone_flag(enum ns_type t);
const char *ns_spec_name(enum ns_type t);
const char *ns_proc_name(enum ns_type t);

/* Capability name (`CAP_SYS_ADMIN`) to number, -1 when unknown. */
int cap_from_name(const char *name);
/* Capability number to name, NULL when unknown. */
const char *cap_to_name(int cap);
/* Rlimit name (`RLIMIT_NOFILE`) to RLIMIT_* number, -1 when unknown. */
int rlimit_from_name(const char *name);

/* The default config.json for `berth spec`. */
char *spec_default_json(void);

#endif
