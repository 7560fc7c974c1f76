/* exec: a new process in a running container.  The pure parts live here so
 * unit tests reach them; berth_exec() itself is in berth.h. */
#ifndef BERTH_EXEC_H
#define BERTH_EXEC_H

#include "cgroups.h"
#include "spec.h"

/* Apply the options of `o` that are set to `p` (tty, cwd, env, user, groups,
 * capabilities, no_new_privs); errors name the option (`--env: …`). */
int exec_override(struct spec_process *p, const struct berth_exec_options *o, berth_error **err);

/* The container's cgroup `cg` moved into the sub-cgroups `specs` names
 * (`--cgroup`): "path" for every hierarchy, "ctrl[,ctrl]:path" for the v1
 * hierarchies holding those controllers; a later entry wins.  Paths are
 * relative to the container's cgroup and may not leave it.  Returns a new
 * cgroup (cgroup_free), or NULL with *err set. */
struct cgroup *exec_sub_cgroup(const struct cgroup *cg, char *const *specs, berth_error **err);

#endif
