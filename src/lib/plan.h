/* What create would do, worked out without doing it: the plan of
 * `create --dry-run` (plan.c) and the preflight of `check` (preflight.c).
 * Nothing here creates, mounts or writes anything on the host. */
#ifndef BERTH_PLAN_H
#define BERTH_PLAN_H

#include "cgroup_backend.h"
#include "spec.h"

/* The container's cgroup as create would make it, and for each of its
 * directories the nearest one that exists now: the plan-mode writers
 * (cgroup_backend.h) read there what they would read in the new one. */
struct cgroup_forecast {
        struct cgroup *real;  /* the directories create would use */
        struct cgroup *probe; /* the same hierarchies, at existing directories */
        char **real_dirs;     /* full host paths, `n` of each */
        char **probe_dirs;
        bool *probe_is_root; /* the probe is the root of its hierarchy */
        size_t n;
        bool usable; /* the caller may create them (else: rootless, no cgroup) */
};

/* From /proc/self/cgroup and /proc/self/mountinfo, as cgroup_create() would. */
int cgroup_forecast_make(const char *id, const char *cgroups_path, struct cgroup_forecast *f,
                         berth_error **err);
void cgroup_forecast_clear(struct cgroup_forecast *f);
/* The container's directory that `probe_dir` stands in for (itself when unknown). */
const char *cgroup_forecast_real(const struct cgroup_forecast *f, const char *probe_dir);
/* Whether the container's directory would have `file`, judged at `probe_dir`.
 * A hierarchy's root lacks the limit files (pids.max, memory.max, ...) that
 * every other cgroup has, so there a child directory is asked as well. */
bool cgroup_forecast_has(const struct cgroup_forecast *f, const char *probe_dir, const char *file);
/* The directories create would make for hierarchy `i`, top first (NULL-terminated). */
char **cgroup_forecast_new_dirs(const struct cgroup_forecast *f, size_t i);

/* MS_* flags as the option names of config.json ("ro,nosuid,rbind"), and
 * the cleared ones ("rw,suid"); caller frees. */
char *plan_mount_flags(unsigned long set, unsigned long clear);
/* MOUNT_ATTR_* of the recursive options ("rro,rnosuid"); caller frees. */
char *plan_mount_attrs(unsigned long set, unsigned long clear);
/* MS_PRIVATE|MS_REC as "rprivate"; NULL for none. */
const char *plan_propagation_name(unsigned long propagation);

/* preflight.c: a field path as berth's messages write it
 * (`linux.seccomp.syscalls[3].action`, `linux.resources.unified.memory.max`,
 * `berth.net.mtu`) as a JSON pointer into config.json; and the pointer of the
 * field a message starts with ("" when it starts with none).  Caller frees. */
char *preflight_pointer(const char *field);
char *preflight_pointer_of_message(const char *msg);

#endif
