/* linux.sysctl: which kernel settings a container may change (only those
 * that belong to a namespace the container has of its own) and writing
 * them from inside the container's namespaces. */
#ifndef BERTH_SYSCTL_H
#define BERTH_SYSCTL_H

#include "spec.h"

/* The namespace a sysctl key belongs to (NS_NET, NS_IPC, NS_UTS), or -1
 * when the setting is global to the host. */
int sysctl_namespace(const char *key);
/* Pure check of every key: its syntax (dot-separated names, no `/`, no
 * empty component) and that the spec has the namespace it belongs to. */
int sysctl_validate(const struct spec *s, berth_error **err);
/* Parent, before anything exists: a namespace joined by path must not be the caller's own. */
int sysctl_check_host(const struct spec *s, berth_error **err);
/* Init, in its namespaces and before pivot_root: write every setting
 * through /proc/sys, which shows the writer's namespaces. */
int sysctl_apply(const struct spec *s, berth_error **err);

#endif
