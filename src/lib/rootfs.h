/* The container's filesystem view: safe resolution of paths inside the
 * rootfs, the spec's mounts (made through resolved fds), /dev, pivot_root,
 * masked and read-only paths. */
#ifndef BERTH_ROOTFS_H
#define BERTH_ROOTFS_H

#include "cgroups.h"
#include "spec.h"

/* Open `path` as O_PATH (plus `flags`, e.g. O_DIRECTORY) inside the tree
 * at `rootfd`, resolving symlinks and ".." as if `rootfd` were "/". */
int rootfs_open(int rootfd, const char *path, int flags);
/* As rootfs_open, creating what is missing: directories, and the last
 * component as an empty file when `file`. */
int rootfs_mkpath(int rootfd, const char *path, bool file, berth_error **err);
/* "/proc/self/fd/N" for mounting onto a resolved fd. */
#define FD_PATH_MAX 32
const char *fd_path(int fd, char buf[FD_PATH_MAX]);

/* In the init's new mount namespace: mounts, devices, pivot, masks, read-only root. */
int rootfs_prepare(const struct spec *s, const struct cgroup *cg, bool no_pivot, berth_error **err);

/* devices.c: default devices and /dev symlinks (when /dev is fresh), and linux.devices. */
int devices_create(const struct spec *s, int rootfd, bool defaults, berth_error **err);

#endif
