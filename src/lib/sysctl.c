#define _GNU_SOURCE
#include "sysctl.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The IPC namespace's settings outside the fs.mqueue.* tree (ipc/ipc_sysctl.c). */
static const char *const ipc_keys[] = {
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
        "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

static const char *const ns_words[NS_COUNT] = {
        [NS_NET] = "network",
        [NS_IPC] = "IPC",
        [NS_UTS] = "UTS",
};

int sysctl_namespace(const char *key)
{
        if (str_has_prefix(key, "net."))
                return NS_NET;
        if (str_has_prefix(key, "fs.mqueue."))
                return NS_IPC;
        for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
                if (strcmp(key, ipc_keys[i]) == 0)
                        return NS_IPC;
        if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
                return NS_UTS;
        return -1;
}

/* Names joined by dots, each made of [A-Za-z0-9_-]: the key becomes a path
 * below /proc/sys, so `/`, `..` and empty names must never get through. */
static bool key_is_valid(const char *key)
{
        static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
        const char *p = key;
        for (;;) {
                size_t n = strspn(p, allowed);
                if (n == 0)
                        return false;
                p += n;
                if (*p == '\0')
                        return true;
                if (*p != '.')
                        return false;
                p++;
        }
}

static int check_key(const struct spec *s, const char *key, berth_error **err)
{
        if (!key_is_valid(key))
                return error_set(err, 0, "linux.sysctl: invalid key `%s`", key);
        int t = sysctl_namespace(key);
        if (t < 0)
                return error_set(err, 0, "linux.sysctl: `%s` is not namespaced: it would change the host",
                                 key);
        if (!s->namespaces[t].present)
                return error_set(err, 0, "linux.sysctl: `%s` requires a new %s namespace", key, ns_words[t]);
        /* Both would set the same thing; which one wins would be an accident of order. */
        if (strcmp(key, "kernel.hostname") == 0 && s->hostname && *s->hostname)
                return error_set(err, 0, "linux.sysctl: `%s` conflicts with `hostname`", key);
        if (strcmp(key, "kernel.domainname") == 0 && s->domainname && *s->domainname)
                return error_set(err, 0, "linux.sysctl: `%s` conflicts with `domainname`", key);
        return 0;
}

int sysctl_validate(const struct spec *s, berth_error **err)
{
        for (size_t i = 0; s->sysctl && s->sysctl[i]; i += 2)
                if (check_key(s, s->sysctl[i], err) < 0)
                        return -1;
        return 0;
}

static bool same_file(const char *a, const char *b)
{
        struct stat sa, sb;
        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int sysctl_check_host(const struct spec *s, berth_error **err)
{
        for (size_t i = 0; s->sysctl && s->sysctl[i]; i += 2) {
                int t = sysctl_namespace(s->sysctl[i]);
                const char *path = t >= 0 ? s->namespaces[t].path : NULL;
                if (!path)
                        continue;
                _cleanup_free_ char *own = xasprintf("/proc/self/ns/%s", ns_proc_name(t));
                if (same_file(path, own))
                        return error_set(err, 0,
                                         "linux.sysctl: `%s` would change the host: the %s namespace `%s` is "
                                         "the caller's own",
                                         s->sysctl[i], ns_words[t], path);
        }
        return 0;
}

/* The UTS names through their system calls: /proc/sys/kernel/hostname
 * belongs to the host's root, so the root of a user namespace could not
 * write it, though the UTS namespace is its own. */
static int set_uts_name(const char *key, const char *value)
{
        size_t len = strlen(value);
        if (strcmp(key, "kernel.hostname") == 0)
                return sethostname(value, len);
        return setdomainname(value, len);
}

int sysctl_apply(const struct spec *s, berth_error **err)
{
        for (size_t i = 0; s->sysctl && s->sysctl[i]; i += 2) {
                const char *key = s->sysctl[i], *value = s->sysctl[i + 1];
                if (sysctl_namespace(key) == NS_UTS) {
                        if (set_uts_name(key, value) < 0)
                                return error_set(err, errno, "linux.sysctl: set `%s` to `%s`", key, value);
                        continue;
                }
                _cleanup_free_ char *path = xasprintf("/proc/sys/%s", key);
                for (char *c = path + strlen("/proc/sys/"); *c; c++)
                        if (*c == '.')
                                *c = '/';
                int r = write_file_at(AT_FDCWD, path, value, strlen(value), 0);
                if (r < 0)
                        return error_set(err, -r, "linux.sysctl: set `%s` to `%s`", key, value);
        }
        return 0;
}
