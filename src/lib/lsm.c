#define _GNU_SOURCE
#include "lsm.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static bool exists_under(const char *sysroot, const char *path)
{
        _cleanup_free_ char *p = xasprintf("%s%s", sysroot, path);
        return access(p, F_OK) == 0;
}

bool lsm_apparmor_enabled(const char *sysroot)
{
        _cleanup_free_ char *p = xasprintf("%s/sys/module/apparmor/parameters/enabled", sysroot);
        _cleanup_free_ char *text = read_file_at(AT_FDCWD, p, NULL);
        return text && text[0] == 'Y' && exists_under(sysroot, "/sys/kernel/security/apparmor");
}

bool lsm_selinux_enabled(const char *sysroot)
{
        return exists_under(sysroot, "/sys/fs/selinux/enforce");
}

int lsm_check(const struct spec_process *p, const char *mount_label, const char *sysroot, berth_error **err)
{
        if (p->apparmor_profile && !lsm_apparmor_enabled(sysroot))
                return error_set(err, 0, "process.apparmorProfile `%s`: AppArmor is not enabled on this host",
                                 p->apparmor_profile);
        if (p->selinux_label && !lsm_selinux_enabled(sysroot))
                return error_set(err, 0, "process.selinuxLabel `%s`: SELinux is not enabled on this host",
                                 p->selinux_label);
        if (mount_label && !lsm_selinux_enabled(sysroot))
                return error_set(err, 0, "linux.mountLabel `%s`: SELinux is not enabled on this host",
                                 mount_label);
        return 0;
}

/* One write(2): the kernel takes an attr value from a single write. */
static int write_attr(const char *path, const char *value, const char *field, berth_error **err)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        size_t len = strlen(value);
        if (fd < 0)
                return error_set(err, errno, "%s: open `%s`", field, path);
        ssize_t n = write(fd, value, len);
        if (n < 0)
                return error_set(err, errno, "%s: write `%s` to `%s`", field, value, path);
        if ((size_t)n != len)
                return error_set(err, EIO, "%s: short write to `%s`", field, path);
        return 0;
}

int lsm_set_exec_labels(const char *attr_dir, const char *apparmor, const char *selinux, berth_error **err)
{
        if (apparmor) {
                _cleanup_free_ char *stacked = xasprintf("%s/apparmor/exec", attr_dir);
                _cleanup_free_ char *legacy = xasprintf("%s/exec", attr_dir);
                _cleanup_free_ char *value = xasprintf("exec %s", apparmor);
                const char *path = access(stacked, F_OK) == 0 ? stacked : legacy;
                if (write_attr(path, value, "process.apparmorProfile", err) < 0)
                        return -1;
        }
        if (selinux) {
                _cleanup_free_ char *path = xasprintf("%s/exec", attr_dir);
                if (write_attr(path, selinux, "process.selinuxLabel", err) < 0)
                        return -1;
        }
        return 0;
}

char *lsm_mount_data(const char *data, const char *label)
{
        if (data && *data)
                return xasprintf("%s,context=\"%s\"", data, label);
        return xasprintf("context=\"%s\"", label);
}
