/* Raw system calls libc does not wrap (or did not in Debian 12's glibc).
 * Each returns -1 with errno ENOSYS when the headers lack the number. */
#ifndef BERTH_SYSCALLS_H
#define BERTH_SYSCALLS_H

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef RESOLVE_NO_MAGICLINKS
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#endif

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

struct berth_clone_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
                set_tid_size, cgroup;
};

struct berth_open_how {
        uint64_t flags, mode, resolve;
};

static inline long sys_clone3(struct berth_clone_args *args)
{
#ifdef SYS_clone3
        return syscall(SYS_clone3, args, sizeof *args);
#else
        (void)args;
        errno = ENOSYS;
        return -1;
#endif
}

static inline int sys_openat2(int dirfd, const char *path, struct berth_open_how *how)
{
#ifdef SYS_openat2
        return (int)syscall(SYS_openat2, dirfd, path, how, sizeof *how);
#else
        (void)dirfd, (void)path, (void)how;
        errno = ENOSYS;
        return -1;
#endif
}

static inline int sys_pidfd_open(pid_t pid, unsigned flags)
{
#ifdef SYS_pidfd_open
        return (int)syscall(SYS_pidfd_open, pid, flags);
#else
        (void)pid, (void)flags;
        errno = ENOSYS;
        return -1;
#endif
}

static inline int sys_pidfd_send_signal(int pidfd, int sig)
{
#ifdef SYS_pidfd_send_signal
        return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#else
        (void)pidfd, (void)sig;
        errno = ENOSYS;
        return -1;
#endif
}

static inline int sys_close_range(unsigned first, unsigned last, unsigned flags)
{
#ifdef SYS_close_range
        return (int)syscall(SYS_close_range, first, last, flags);
#else
        (void)first, (void)last, (void)flags;
        errno = ENOSYS;
        return -1;
#endif
}

/* struct mount_attr of mount_setattr(2). */
struct berth_mount_attr {
        uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static inline int sys_mount_setattr(int dirfd, const char *path, unsigned flags,
                                    struct berth_mount_attr *attr)
{
#ifdef SYS_mount_setattr
        return (int)syscall(SYS_mount_setattr, dirfd, path, flags, attr, sizeof *attr);
#else
        (void)dirfd, (void)path, (void)flags, (void)attr;
        errno = ENOSYS;
        return -1;
#endif
}

static inline int sys_open_tree(int dirfd, const char *path, unsigned flags)
{
#ifdef SYS_open_tree
        return (int)syscall(SYS_open_tree, dirfd, path, flags);
#else
        (void)dirfd, (void)path, (void)flags;
        errno = ENOSYS;
        return -1;
#endif
}

static inline int sys_move_mount(int from_dirfd, const char *from, int to_dirfd, const char *to,
                                 unsigned flags)
{
#ifdef SYS_move_mount
        return (int)syscall(SYS_move_mount, from_dirfd, from, to_dirfd, to, flags);
#else
        (void)from_dirfd, (void)from, (void)to_dirfd, (void)to, (void)flags;
        errno = ENOSYS;
        return -1;
#endif
}

static inline int sys_pivot_root(const char *new_root, const char *put_old)
{
        return (int)syscall(SYS_pivot_root, new_root, put_old);
}

static inline int sys_capset(void *hdr, void *data)
{
        return (int)syscall(SYS_capset, hdr, data);
}

/* Landlock (Linux 5.13), with berth's own names: <linux/landlock.h> of
 * older headers lacks the later access rights, and its rule type is an enum. */
#define BERTH_LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#define BERTH_LANDLOCK_RULE_PATH_BENEATH 1

struct berth_landlock_ruleset_attr {
        uint64_t handled_access_fs; /* the first member is all ABIs 1-3 have; berth passes only it */
};

struct berth_landlock_path_beneath_attr {
        uint64_t allowed_access;
        int32_t parent_fd;
} __attribute__((packed));

static inline int sys_landlock_create_ruleset(const struct berth_landlock_ruleset_attr *attr, size_t size,
                                              uint32_t flags)
{
#ifdef SYS_landlock_create_ruleset
        return (int)syscall(SYS_landlock_create_ruleset, attr, size, flags);
#else
        (void)attr, (void)size, (void)flags;
        errno = ENOSYS;
        return -1;
#endif
}

static inline int sys_landlock_add_rule(int ruleset_fd, int type, const void *attr, uint32_t flags)
{
#ifdef SYS_landlock_add_rule
        return (int)syscall(SYS_landlock_add_rule, ruleset_fd, type, attr, flags);
#else
        (void)ruleset_fd, (void)type, (void)attr, (void)flags;
        errno = ENOSYS;
        return -1;
#endif
}

static inline int sys_landlock_restrict_self(int ruleset_fd, uint32_t flags)
{
#ifdef SYS_landlock_restrict_self
        return (int)syscall(SYS_landlock_restrict_self, ruleset_fd, flags);
#else
        (void)ruleset_fd, (void)flags;
        errno = ENOSYS;
        return -1;
#endif
}

/* bpf(2): `attr` is a union bpf_attr, kept opaque here. */
static inline long sys_bpf(int cmd, void *attr, unsigned size)
{
#ifdef SYS_bpf
        return syscall(SYS_bpf, cmd, attr, size);
#else
        (void)cmd, (void)attr, (void)size;
        errno = ENOSYS;
        return -1;
#endif
}

#endif
