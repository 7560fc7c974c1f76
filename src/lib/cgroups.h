/* A container's cgroup: one directory in every mounted hierarchy (v1
 * controllers, named v1 hierarchies, and the cgroup2 hierarchy), on v1, v2
 * and hybrid hosts.  Callers never check the cgroup version themselves. */
#ifndef BERTH_CGROUPS_H
#define BERTH_CGROUPS_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "spec_resources.h"
#include "utils.h"

struct cgroup_dir {
        char *controllers; /* "memory", "cpu,cpuacct", "name=systemd"; "" for cgroup2 */
        char *mount;       /* where the hierarchy is mounted on the host, e.g. /sys/fs/cgroup/memory */
        /* The container's cgroup below `mount`, e.g. /process_api/x/berth/id.  This is
         * the path in the hierarchy (as /proc/PID/cgroup shows it) minus the mount's
         * root, which is "/" on ordinary hosts, so both are the same there. */
        char *path;
        char *top; /* the highest directory berth created for it (removed on destroy), or NULL;
                    * like `path`, relative to `mount` */
        /* Where the container's path hangs off, relative to `mount`: the
         * caller's own cgroup for a relative cgroupsPath, "/" for an absolute
         * one.  Known only at create (NULL when read from state.json). */
        char *base;
        bool v2;
};

struct cgroup {
        struct cgroup_dir *dirs;
        size_t n;
        /* The default `<caller>/berth/<id>`: `berth` is the runtime's own
         * parent, made once and kept (but in a v1 cpuset hierarchy), so only
         * the leaf is made and removed per container (set by cgroup_plan,
         * not saved). */
        bool keep_parents;
};

/* Where a container's cgroup goes in one hierarchy: `caller` is the caller's
 * own cgroup there (from /proc/self/cgroup).  An absolute `cgroups_path` is
 * used as is; a relative one is taken below `caller`; NULL (or "") means
 * `caller`/berth/`id`.  Returns a normalised absolute path ("/a/b"), or NULL
 * with *err set when the path is invalid (contains "..", names the root or
 * the caller's own cgroup, empty id). */
char *cgroup_compute_path(const char *caller, const char *cgroups_path, const char *id, berth_error **err);

/* Make the container's cgroup in every hierarchy the caller belongs to and
 * that is mounted (cpuset v1: cpus/mems copied from the parent so tasks can
 * join).  On failure nothing berth made remains. */
struct cgroup *cgroup_create(const char *id, const char *cgroups_path, berth_error **err);
/* cgroup_create() in two steps, so that create can record in state.json
 * where the cgroup goes before making it (a create killed in between is
 * then still removed by delete).  cgroup_plan() makes nothing; its `top`s
 * are what a destroy may remove: the container's own directory for the
 * default path (`berth` above it stays, but for cpuset), else nothing.  cgroup_make() makes the
 * directories and sets each `top` to the highest one it made; on failure
 * nothing it made remains. */
struct cgroup *cgroup_plan(const char *id, const char *cgroups_path, berth_error **err);
int cgroup_make(struct cgroup *cg, berth_error **err);
/* The calling (single-threaded) process joins the cgroup in every
 * hierarchy, without the grace-period wait of moving another process;
 * `skip_v2` when it was born in the v2 directory (CLONE_INTO_CGROUP).
 * With `memory_late` the v1 memory cgroup is left for cgroup_enter_late(),
 * its `tasks` opened into *memory_late (or -1): the init joins it once its
 * mounts are made, so that they are not charged to the container. */
int cgroup_enter_self(const struct cgroup *cg, bool skip_v2, int *memory_late, berth_error **err);
/* Join through the fd cgroup_enter_self() left, and close it. */
int cgroup_enter_late(const struct cgroup *cg, int *memory_late, berth_error **err);
struct berth_clone_args;
/* clone3(2) straight into the cgroup2 directory of `cg` where possible;
 * *born_in_v2 says whether that happened (see cgroup_enter_self). */
long cgroup_clone3(struct berth_clone_args *args, const struct cgroup *cg, bool *born_in_v2);
/* An O_RDONLY fd of the container's cgroup2 directory, or -1 when it has none. */
int cgroup_v2_fd(const struct cgroup *cg);
/* Every pid in the container's cgroup and the sub-cgroups the container made
 * (union over hierarchies, sorted, unique).  *pids is malloc'd for the caller
 * (NULL when *n is 0). */
int cgroup_pids(const struct cgroup *cg, pid_t **pids, size_t *n, berth_error **err);
/* Send `sig` to every process in the cgroup (SIGKILL through cgroup.kill
 * where the kernel has it, which also catches processes forked meanwhile). */
int cgroup_kill(const struct cgroup *cg, int sig, berth_error **err);
/* True when the cgroup is frozen (v1 freezer.state FROZEN or FREEZING / v2 cgroup.freeze 1). */
bool cgroup_frozen(const struct cgroup *cg);
/* Freeze or thaw every task, and wait until the kernel says it is done. */
int cgroup_freeze(const struct cgroup *cg, bool frozen, berth_error **err);

/* Apply `r`, each resource through the hierarchy holding its controller.
 * `update`: a change to a live container (memory.checkBeforeUpdate, and a
 * swap value measured against the limit in force).  Errors name the field:
 * `linux.resources.blockIO.weight: the blkio controller has no
 * \`blkio.weight\` on this host`. */
int cgroup_set(const struct cgroup *cg, const struct res_resources *r, bool update, berth_error **err);
/* The allowed-device list: v1 devices.allow/deny in order, or on cgroup2 an
 * eBPF filter attached to the container's directory. */
int cgroup_set_devices(const struct cgroup *cg, const struct res_device_rule *rules, size_t n,
                       berth_error **err);
/* Plan mode (cgroup_backend.h): what cgroup_set / cgroup_set_devices would
 * write at create, handed to `plan` instead of written.  The directories of
 * `cg` are where the writers read (existing ones standing in for the
 * container's, which does not exist yet). */
struct cg_plan;
int cgroup_plan_set(const struct cgroup *cg, const struct res_resources *r, const struct cg_plan *plan,
                    berth_error **err);
int cgroup_plan_devices(const struct cgroup *cg, const struct res_device_rule *rules, size_t n,
                        const struct cg_plan *plan, berth_error **err);
/* Usage as runc's `events --stats` data object (cpu, cpuset, memory, pids,
 * blkio, hugetlb, ...); cgroup_stats_text() prints it, unlimited values as
 * 2^64-1 the way runc does. */
json_t *cgroup_stats(const struct cgroup *cg);
char *cgroup_stats_text(const json_t *stats);
/* OOM kills the memory controller has counted (0 without one). */
uint64_t cgroup_oom_kills(const struct cgroup *cg);

/* A pollable fd that becomes readable when the container's memory cgroup
 * meets the OOM killer (v1: eventfd on memory.oom_control; v2: inotify on
 * memory.events). */
struct cgroup_oom_watch {
        int fd, aux_fd;
        bool v2;
        char *dir;
        uint64_t seen; /* the OOMs accounted for, in the kernel's counting */
};
int cgroup_oom_watch_open(const struct cgroup *cg, struct cgroup_oom_watch *w, berth_error **err);
/* After fd polled readable: how many OOM events happened (0: none, or the
 * cgroup is gone). */
int cgroup_oom_watch_read(struct cgroup_oom_watch *w);
void cgroup_oom_watch_close(struct cgroup_oom_watch *w);
/* Remove the container's directories (waiting briefly for dying tasks) and
 * the empty parents berth created.  Missing directories are not an error. */
int cgroup_destroy(const struct cgroup *cg, berth_error **err);
/* As cgroup_destroy, but without waiting: fails at once when a directory is busy. */
int cgroup_try_destroy(const struct cgroup *cg);
void cgroup_free(struct cgroup *cg);

/* Whether a v1 hierarchy carries `controller`. */
bool cgroup_dir_has_controller(const struct cgroup_dir *d, const char *controller);
/* The directory on the host: mount + path.  Caller frees. */
char *cgroup_dir_path(const struct cgroup_dir *d);

/* Persist in / restore from state.json: an array of
 * {controllers, mount, path, top (null or string), v2}.  Strings that are
 * not valid UTF-8 are left out (and then refused by cgroup_from_json). */
json_t *cgroup_to_json(const struct cgroup *cg);
struct cgroup *cgroup_from_json(const json_t *j, berth_error **err);

/* ---- discovery, as pure functions over the text of /proc files ---------- */

/* One line of /proc/self/cgroup: "N:controllers:/path". */
struct cgroup_membership {
        char *controllers; /* "cpu,cpuacct", "name=systemd"; "" for cgroup2 */
        char *path;        /* the process's cgroup in that hierarchy */
        bool v2;           /* the "0::" line */
};

/* One cgroup or cgroup2 mount of /proc/self/mountinfo. */
struct cgroup_mount {
        char *mountpoint; /* unescaped */
        char *root;       /* the cgroup mounted there; "/" for the whole hierarchy */
        char *options;    /* super options, e.g. "rw,cpu,cpuacct" */
        bool v2;
};

/* Parse the text of /proc/self/cgroup; EINVAL on a malformed line. */
int cgroup_parse_self(const char *text, struct cgroup_membership **out, size_t *n, berth_error **err);
void cgroup_memberships_free(struct cgroup_membership *m, size_t n);
/* The cgroup and cgroup2 mounts in the text of /proc/self/mountinfo, in
 * order; EINVAL on a malformed line. */
int cgroup_parse_mounts(const char *text, struct cgroup_mount **out, size_t *n, berth_error **err);
void cgroup_mounts_free(struct cgroup_mount *m, size_t n);
/* Where the container's cgroup goes in each hierarchy of the caller that is
 * mounted (the first mount whose root contains the cgroup), from the text of
 * /proc/self/cgroup and /proc/self/mountinfo.  Creates nothing; every `top`
 * is NULL.  ENOENT when no hierarchy is mounted. */
struct cgroup *cgroup_resolve(const char *self_text, const char *mountinfo_text, const char *id,
                              const char *cgroups_path, berth_error **err);

#endif
