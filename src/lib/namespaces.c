#define _GNU_SOURCE
#include "namespaces.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>

#include "syscalls.h"

int ns_check_paths(const struct spec *s, berth_error **err)
{
        for (int t = 0; t < NS_COUNT; t++) {
                const char *path = s->namespaces[t].path;
                if (!path)
                        continue;
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return error_set(err, errno, "linux.namespaces: %s path `%s`", ns_spec_name(t), path);
                int type = ioctl(fd, NS_GET_NSTYPE);
                if (type < 0)
                        return error_set(err, 0, "linux.namespaces: %s path `%s`: not a namespace",
                                         ns_spec_name(t), path);
                if (type != ns_clone_flag(t))
                        return error_set(err, 0,
                                         "linux.namespaces: %s path `%s`: a namespace of another kind",
                                         ns_spec_name(t), path);
        }
        return 0;
}

static bool has_time_offsets(const struct spec *s)
{
        return s->time_monotonic.present || s->time_boottime.present;
}

uint64_t ns_clone_flags(const struct spec *s)
{
        uint64_t flags = 0;
        for (int t = 0; t < NS_COUNT; t++)
                if (t != NS_CGROUP && s->namespaces[t].present && !s->namespaces[t].path)
                        flags |= (uint64_t)ns_clone_flag(t);
        /* With offsets the parent makes the time namespace itself (ns_enter_for_children). */
        if (has_time_offsets(s))
                flags &= ~(uint64_t)CLONE_NEWTIME;
        return flags;
}

/* clone3(CLONE_NEWTIME) puts the child in the new namespace at once, which
 * freezes its offsets; so the parent unshares one for its children only,
 * writes the offsets while nobody is inside, and the child is cloned into
 * it. */
static int new_time_ns_with_offsets(const struct spec *s, berth_error **err)
{
        char buf[128];
        size_t len = 0;
        const struct spec_time_offset *t[2] = {&s->time_monotonic, &s->time_boottime};
        const char *clock[2] = {"monotonic", "boottime"};
        for (int i = 0; i < 2; i++)
                if (t[i]->present)
                        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s %lld %u\n", clock[i],
                                                (long long)t[i]->secs, t[i]->nanosecs);
        if (unshare(CLONE_NEWTIME) < 0)
                return error_set(err, errno, "create time namespace");
        int r = write_file_at(AT_FDCWD, "/proc/self/timens_offsets", buf, len, 0);
        if (r < 0)
                return error_set(err, -r, "linux.timeOffsets: write `%.*s`", (int)len - 1, buf);
        return 0;
}

static int setns_path(enum ns_type t, const char *path, berth_error **err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, ns_clone_flag(t)) < 0)
                return error_set(err, errno, "join %s namespace `%s`", ns_spec_name(t), path);
        return 0;
}

int ns_enter_for_children(const struct spec *s, int saved[2], berth_error **err)
{
        static const enum ns_type kinds[2] = {NS_PID, NS_TIME};
        static const char *const own[2] = {"/proc/self/ns/pid_for_children",
                                           "/proc/self/ns/time_for_children"};
        saved[0] = saved[1] = -1;
        for (int i = 0; i < 2; i++) {
                bool offsets = kinds[i] == NS_TIME && has_time_offsets(s);
                if (!s->namespaces[kinds[i]].path && !offsets)
                        continue;
                saved[i] = open(own[i], O_RDONLY | O_CLOEXEC);
                int r = saved[i] < 0 ? error_set(err, errno, "open `%s`", own[i])
                        : offsets    ? new_time_ns_with_offsets(s, err)
                                     : setns_path(kinds[i], s->namespaces[kinds[i]].path, err);
                if (r < 0) {
                        ns_restore_for_children(saved);
                        return -1;
                }
        }
        return 0;
}

void ns_restore_for_children(int saved[2])
{
        static const int flags[2] = {CLONE_NEWPID, CLONE_NEWTIME};
        for (int i = 0; i < 2; i++) {
                if (saved[i] >= 0) {
                        (void)setns(saved[i], flags[i]);
                        close(saved[i]);
                        saved[i] = -1;
                }
        }
}

int ns_join_paths(const struct spec *s, berth_error **err)
{
        /* The user namespace first: the others are owned by it and need its capabilities. */
        static const enum ns_type order[] = {NS_USER, NS_MNT, NS_NET, NS_IPC, NS_UTS, NS_CGROUP};
        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                const char *path = s->namespaces[order[i]].path;
                if (path && setns_path(order[i], path, err) < 0)
                        return -1;
        }
        return 0;
}

int ns_write_map(pid_t pid, const char *file, const struct spec_idmap *m, size_t n, berth_error **err)
{
        char buf[4096];
        size_t len = 0;
        for (size_t i = 0; i < n && len < sizeof buf; i++)
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%u %u %u\n", m[i].container_id,
                                        m[i].host_id, m[i].size);
        if (len >= sizeof buf)
                return error_set(err, E2BIG, "write %s", file);
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
        int r = write_file_at(AT_FDCWD, path, buf, len, 0);
        if (r < 0)
                return error_set(err, -r, "write %s `%.*s`", file, (int)(len ? len - 1 : 0), buf);
        return 0;
}

int ns_write_idmaps(const struct spec *s, pid_t pid, berth_error **err)
{
        if (!s->namespaces[NS_USER].present || s->namespaces[NS_USER].path)
                return 0;
        if (ns_write_map(pid, "uid_map", s->uid_mappings, s->n_uid_mappings, err) < 0)
                return -1;
        /* Without CAP_SETGID the kernel takes a gid_map only once setgroups(2) is
         * disabled in the namespace, so a rootless container cannot drop its
         * caller's groups to gain access that a negative group entry denies. */
        if (geteuid() != 0) {
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
                int r = write_file_at(AT_FDCWD, path, "deny", 4, 0);
                if (r < 0)
                        return error_set(err, -r, "write `deny` to setgroups");
        }
        return ns_write_map(pid, "gid_map", s->gid_mappings, s->n_gid_mappings, err);
}
