/* The container's filesystem view: safe resolution of paths inside the
 * rootfs, the spec's mounts (made through resolved fds), /dev, pivot_root,
 * masked and read-only paths. */
#ifndef BERTH_ROOTFS_H
#define BERTH_ROOTFS_H

#include "cgroups.h"
#include "spec.h"

/* Open `path` as O_PATH (plus `flags`, e.g. O_DIRECTORY) inside the tree
 * at `rootfd`, resolving symlinks and ".." as if `rootfd` were "/", and
 * refusing magic links (/proc/PID/root and the like). */
int rootfs_open(int rootfd, const char *path, int flags);
/* The same resolution done one component at a time (what rootfs_open uses
 * when the kernel has no openat2); exposed for the unit tests. */
int rootfs_walk_open(int rootfd, const char *path, int flags);
/* As rootfs_open, creating what is missing: directories, and the last
 * component as an empty file when `file`. */
int rootfs_mkpath(int rootfd, const char *path, bool file, berth_error **err);
/* "/proc/self/fd/N" for mounting onto a resolved fd. */
#define FD_PATH_MAX 32
const char *fd_path(int fd, char buf[FD_PATH_MAX]);

/* In the init's new mount namespace: mounts, devices, pivot, masks,
 * read-only root.  `idmap_fds` (NULL, or one per mount with -1 where the
 * mount is not id-mapped) are the detached trees the parent made.
 * `before_pivot` (or NULL) runs once the mounts are made, before pivot_root:
 * the createRuntime/createContainer hooks' moment. */
int rootfs_prepare(const struct spec *s, const struct cgroup *cg, bool no_pivot, const int *idmap_fds,
                   int (*before_pivot)(void *data, berth_error **err), void *data, berth_error **err);

/* devices.c: default devices and /dev symlinks (when /dev is fresh), and linux.devices. */
int devices_create(const struct spec *s, int rootfd, bool defaults, berth_error **err);

/* copyup.c: copy the tree below directory `from` into directory `to`
 * (tmpcopyup), keeping modes, owners and times; symlinks are copied, never
 * followed.  `what` names the mount in errors. */
int copyup_tree(int from, int to, const char *what, berth_error **err);

/* idmap.c, parent side: after the init's id maps are written, send it one
 * detached id-mapped clone of the source of every idmap/ridmap mount, in
 * mount order (SYNC_MOUNT_FD records). */
int idmap_send_mounts(const struct spec *s, pid_t pid, int sock, berth_error **err);
/* Init side: receive them.  Returns an array of s->n_mounts fds (-1 where a
 * mount is not id-mapped; NULL when none is), freed by idmap_fds_free. */
int idmap_receive_mounts(const struct spec *s, int sock, int **fds, berth_error **err);
/* Preflight (check): make mount `i`'s id-mapped tree as create would, with a
 * user namespace of the container's mappings standing in for the init's, and
 * drop it: 0 when the kernel and the source's filesystem allow it. */
int idmap_probe(const struct spec *s, size_t i, berth_error **err);
void idmap_fds_free(int *fds, size_t n);

#endif
