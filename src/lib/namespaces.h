/* Namespaces: which to create, which to join by path, user-namespace id maps. */
#ifndef BERTH_NAMESPACES_H
#define BERTH_NAMESPACES_H

#include "spec.h"

/* Parent, before anything exists: every `path` names a namespace of the right kind. */
int ns_check_paths(const struct spec *s, berth_error **err);
/* CLONE_NEW* flags for the namespaces created at clone time.  The cgroup
 * namespace is left out: the init unshares it once it sits in its cgroup. */
uint64_t ns_clone_flags(const struct spec *s);
/* Parent: make the next child start in the pid/time namespaces given by
 * path, or in a new time namespace holding linux.timeOffsets.  Fills
 * `saved` (fds of the caller's own, -1 when untouched) for ns_restore. */
int ns_enter_for_children(const struct spec *s, int saved[2], berth_error **err);
void ns_restore_for_children(int saved[2]);
/* Child: join the namespaces given by path (user first), except pid and time. */
int ns_join_paths(const struct spec *s, berth_error **err);
/* Parent: write the child's uid_map and gid_map (a non-root caller first
 * writes `deny` to setgroups, as the kernel requires of it). */
int ns_write_idmaps(const struct spec *s, pid_t pid, berth_error **err);
/* Write `file` ("uid_map" or "gid_map") of process `pid`. */
int ns_write_map(pid_t pid, const char *file, const struct spec_idmap *m, size_t n, berth_error **err);

#endif
