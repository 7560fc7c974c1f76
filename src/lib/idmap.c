/* idmap / ridmap mounts.  The kernel only id-maps a mount for a caller
 * privileged over the filesystem's owner (the host's user namespace for a
 * host filesystem), so the container init cannot do it from inside its user
 * namespace: the parent clones the source tree detached (open_tree), maps
 * it with the container's user namespace, or with one made for the mount's
 * own uidMappings/gidMappings, and hands the tree over; the init attaches it
 * with move_mount() onto the resolved destination. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "namespaces.h"
#include "pidfd.h"
#include "rootfs.h"
#include "sync.h"
#include "syscalls.h"

/* A user namespace holding only `m`'s own mappings: a short-lived child
 * made in it, mapped, and its namespace kept by fd. */
static int userns_for_mount(const struct spec_mount *m, berth_error **err)
{
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return error_set(err, errno, "create pipe");
        struct berth_clone_args args = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
        long pid = pidfd_clone(&args);
        if (pid == 0) {
                char c;
                close(pipefd[1]);
                /* Only waits to be mapped and looked at; EOF ends it. */
                (void)!read(pipefd[0], &c, 1);
                _exit(0);
        }
        int e = errno;
        close(pipefd[0]);
        if (pid < 0) {
                close(pipefd[1]);
                return error_set(err, e, "create a user namespace");
        }
        int fd = -1;
        if (ns_write_map((pid_t)pid, "uid_map", m->uid_mappings, m->n_uid_mappings, err) == 0 &&
            ns_write_map((pid_t)pid, "gid_map", m->gid_mappings, m->n_gid_mappings, err) == 0) {
                char path[64];
                snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        error_set(err, errno, "open `%s`", path);
        }
        close(pipefd[1]);
        waitpid((pid_t)pid, NULL, 0);
        return fd;
}

/* The user namespace a mount is id-mapped with. */
static int mount_userns(const struct spec *s, const struct spec_mount *m, pid_t pid, berth_error **err)
{
        if (m->n_uid_mappings)
                return userns_for_mount(m, err);
        _cleanup_free_ char *own = xasprintf("/proc/%d/ns/user", pid);
        const char *path = s->namespaces[NS_USER].path ? s->namespaces[NS_USER].path : own;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "open user namespace `%s`", path);
        return fd;
}

/* The detached, id-mapped clone of mount `i`'s source. */
static int idmap_tree_in(const struct spec *s, size_t i, int userns, berth_error **err)
{
        const struct spec_mount *m = &s->mounts[i];
        const char *opt = m->recursive_idmap ? "ridmap" : "idmap";
        _cleanup_free_ char *src =
                m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", s->bundle, m->source);
        unsigned tree_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((m->flags & MS_REC) ? AT_RECURSIVE : 0);
        _cleanup_close_ int tree = sys_open_tree(AT_FDCWD, src, tree_flags);
        if (tree < 0)
                return error_set(err, errno, "mounts[%zu]: `%s`: clone `%s`", i, opt, src);
        struct berth_mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
        unsigned flags = AT_EMPTY_PATH | (m->recursive_idmap ? AT_RECURSIVE : 0);
        if (sys_mount_setattr(tree, "", flags, &attr) < 0) {
                if (errno == EINVAL)
                        return error_set(err, errno,
                                         "mounts[%zu]: `%s`: the filesystem of `%s` cannot be id-mapped", i,
                                         opt, src);
                return error_set(err, errno, "mounts[%zu]: `%s`: id-map `%s`", i, opt, src);
        }
        return steal_fd(&tree);
}

static int idmap_tree(const struct spec *s, size_t i, pid_t pid, berth_error **err)
{
        _cleanup_close_ int userns = mount_userns(s, &s->mounts[i], pid, err);
        if (userns < 0)
                return -1;
        return idmap_tree_in(s, i, userns, err);
}

int idmap_probe(const struct spec *s, size_t i, berth_error **err)
{
        struct spec_mount m = s->mounts[i];
        if (!m.source)
                return error_set(err, EINVAL, "mount `%s`: bind mount without a source", m.destination);
        _cleanup_close_ int userns = -1;
        if (!m.n_uid_mappings && s->namespaces[NS_USER].path) {
                userns = open(s->namespaces[NS_USER].path, O_RDONLY | O_CLOEXEC);
                if (userns < 0)
                        return error_set(err, errno, "open user namespace `%s`", s->namespaces[NS_USER].path);
        } else {
                /* No init yet: a namespace of the container's own mappings stands in for its. */
                if (!m.n_uid_mappings) {
                        m.uid_mappings = s->uid_mappings, m.n_uid_mappings = s->n_uid_mappings;
                        m.gid_mappings = s->gid_mappings, m.n_gid_mappings = s->n_gid_mappings;
                }
                if ((userns = userns_for_mount(&m, err)) < 0)
                        return -1;
        }
        _cleanup_close_ int tree = idmap_tree_in(s, i, userns, err);
        return tree < 0 ? -1 : 0;
}

int idmap_send_mounts(const struct spec *s, pid_t pid, int sock, berth_error **err)
{
        for (size_t i = 0; i < s->n_mounts; i++) {
                if (!s->mounts[i].idmap)
                        continue;
                if (!s->mounts[i].source)
                        return error_set(err, EINVAL, "mount `%s`: bind mount without a source",
                                         s->mounts[i].destination);
                _cleanup_close_ int tree = idmap_tree(s, i, pid, err);
                if (tree < 0)
                        return -1;
                int r = sync_send_fd(sock, SYNC_MOUNT_FD, tree);
                if (r < 0)
                        return error_set(err, -r, "send id-mapped mount to the container init");
        }
        return 0;
}

int idmap_receive_mounts(const struct spec *s, int sock, int **out, berth_error **err)
{
        *out = NULL;
        int *fds = NULL;
        for (size_t i = 0; i < s->n_mounts; i++) {
                if (!s->mounts[i].idmap)
                        continue;
                if (!fds) {
                        fds = xmalloc(s->n_mounts * sizeof *fds);
                        for (size_t j = 0; j < s->n_mounts; j++)
                                fds[j] = -1;
                }
                if (sync_expect_fd(sock, SYNC_MOUNT_FD, &fds[i], err) < 0) {
                        idmap_fds_free(fds, s->n_mounts);
                        return -1;
                }
        }
        *out = fds;
        return 0;
}

void idmap_fds_free(int *fds, size_t n)
{
        for (size_t i = 0; fds && i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        free(fds);
}
