/* What the lifecycle needs from the control operations (control.c). */
#ifndef BERTH_CONTROL_H
#define BERTH_CONTROL_H

#include "cgroups.h"
#include "spec.h"

/* Apply the spec's linux.resources to a new container's cgroup, before any
 * process is in it: the limits, then the allowed-device list (the spec's
 * rules, then the devices every container needs, as runc adds them, then
 * linux.devices). */
int control_apply_spec(const struct spec *s, const struct cgroup *cg, berth_error **err);
/* The device list part of it in plan mode (cgroup_plan_devices): the same
 * rules, handed to `plan`. */
int control_plan_devices(const struct spec *s, const struct cgroup *cg, const struct cg_plan *plan,
                         berth_error **err);

#endif
