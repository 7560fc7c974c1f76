/* The container's cgroup before it exists (plan.h): where create would make
 * its directories, and the existing directories that stand in for them when
 * create --dry-run and check ask the resource writers what they would do.
 * Only reads. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "plan.h"
#include "syscalls.h"

static bool exists(const char *path)
{
        return access(path, F_OK) == 0;
}

/* The nearest existing directory at or above `full`, not above `mount`. */
static char *nearest_existing(const char *full, const char *mount)
{
        char *p = xstrdup(full);
        size_t mlen = strlen(mount);
        while (strlen(p) > mlen && !exists(p)) {
                char *slash = strrchr(p, '/');
                if (!slash || (size_t)(slash - p) < mlen)
                        break;
                *slash = '\0';
        }
        return p;
}

static void probe_dir_init(struct cgroup_dir *probe, const struct cgroup_dir *d, const char *full)
{
        size_t mlen = strlen(d->mount);
        probe->controllers = xstrdup(d->controllers);
        probe->mount = xstrdup(d->mount);
        probe->path = xstrdup(full[mlen] ? full + mlen : "/");
        probe->base = d->base ? xstrdup(d->base) : NULL;
        probe->v2 = d->v2;
}

int cgroup_forecast_make(const char *id, const char *cgroups_path, struct cgroup_forecast *f,
                         berth_error **err)
{
        *f = (struct cgroup_forecast){0};
        _cleanup_free_ char *self = read_file_at(AT_FDCWD, "/proc/self/cgroup", NULL);
        if (!self)
                return error_set(err, errno, "read `/proc/self/cgroup`");
        _cleanup_free_ char *mountinfo = read_file_at(AT_FDCWD, "/proc/self/mountinfo", NULL);
        if (!mountinfo)
                return error_set(err, errno, "read `/proc/self/mountinfo`");
        f->real = cgroup_resolve(self, mountinfo, id, cgroups_path, err);
        if (!f->real)
                return -1;
        size_t n = f->n = f->real->n;
        f->probe = xzalloc(sizeof *f->probe);
        f->probe->dirs = xzalloc(n * sizeof *f->probe->dirs);
        f->probe->n = n;
        f->real_dirs = xzalloc((n + 1) * sizeof *f->real_dirs);
        f->probe_dirs = xzalloc((n + 1) * sizeof *f->probe_dirs);
        f->probe_is_root = xzalloc(n * sizeof *f->probe_is_root);
        f->usable = true;
        for (size_t i = 0; i < n; i++) {
                const struct cgroup_dir *d = &f->real->dirs[i];
                f->real_dirs[i] = cgroup_dir_path(d);
                f->probe_dirs[i] = nearest_existing(f->real_dirs[i], d->mount);
                f->probe_is_root[i] = strcmp(f->probe_dirs[i], d->mount) == 0;
                probe_dir_init(&f->probe->dirs[i], d, f->probe_dirs[i]);
                /* As cgroup_create finds out by trying: a caller that may not
                 * make the directory runs without a cgroup (rootless). */
                if (geteuid() != 0 && strcmp(f->probe_dirs[i], f->real_dirs[i]) != 0 &&
                    access(f->probe_dirs[i], W_OK) < 0)
                        f->usable = false;
        }
        return 0;
}

void cgroup_forecast_clear(struct cgroup_forecast *f)
{
        cgroup_free(f->real);
        cgroup_free(f->probe);
        strv_free(f->real_dirs);
        strv_free(f->probe_dirs);
        free(f->probe_is_root);
        *f = (struct cgroup_forecast){0};
}

static ssize_t probe_index(const struct cgroup_forecast *f, const char *probe_dir)
{
        for (size_t i = 0; i < f->n; i++)
                if (strcmp(f->probe_dirs[i], probe_dir) == 0)
                        return (ssize_t)i;
        return -1;
}

const char *cgroup_forecast_real(const struct cgroup_forecast *f, const char *probe_dir)
{
        ssize_t i = probe_index(f, probe_dir);
        return i < 0 ? probe_dir : f->real_dirs[i];
}

/* Some child cgroup of the root `dir` has `file`. */
static bool child_has(const char *dir, const char *file)
{
        DIR *d = opendir(dir);
        if (!d)
                return false;
        bool found = false;
        struct dirent *e;
        while (!found && (e = readdir(d))) {
                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s/%s", dir, e->d_name, file);
                found = exists(p);
        }
        closedir(d);
        return found;
}

bool cgroup_forecast_has(const struct cgroup_forecast *f, const char *probe_dir, const char *file)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", probe_dir, file);
        if (exists(p))
                return true;
        ssize_t i = probe_index(f, probe_dir);
        return i >= 0 && f->probe_is_root[i] && child_has(probe_dir, file);
}

char **cgroup_forecast_new_dirs(const struct cgroup_forecast *f, size_t i)
{
        char **v = NULL;
        size_t n = 0;
        const char *real = f->real_dirs[i], *probe = f->probe_dirs[i];
        if (strcmp(real, probe) == 0) {
                strv_push(&v, &n, NULL);
                return v;
        }
        /* Every level below the probe, top first. */
        for (const char *p = real + strlen(probe) + 1;; p++) {
                if (*p == '/' || *p == '\0') {
                        _cleanup_free_ char *dir = xstrndup(real, (size_t)(p - real));
                        strv_push(&v, &n, dir);
                }
                if (!*p)
                        break;
        }
        return v;
}

/* ---- names of mount flags --------------------------------------------------- */

static const struct {
        unsigned long flag;
        const char *set, *clear;
} ms_names[] = {
        {MS_RDONLY, "ro", "rw"},
        {MS_NOSUID, "nosuid", "suid"},
        {MS_NODEV, "nodev", "dev"},
        {MS_NOEXEC, "noexec", "exec"},
        {MS_SYNCHRONOUS, "sync", "async"},
        {MS_DIRSYNC, "dirsync", NULL},
        {MS_MANDLOCK, "mand", "nomand"},
        {MS_NOATIME, "noatime", "atime"},
        {MS_NODIRATIME, "nodiratime", "diratime"},
        {MS_RELATIME, "relatime", "norelatime"},
        {MS_STRICTATIME, "strictatime", "nostrictatime"},
        {MS_LAZYTIME, "lazytime", "nolazytime"},
        {MS_I_VERSION, "iversion", "noiversion"},
        {MS_SILENT, "silent", "loud"},
        {MS_NOSYMFOLLOW, "nosymfollow", NULL},
        {MS_REMOUNT, "remount", NULL},
};

static void append(char **list, const char *name)
{
        char *joined = *list ? xasprintf("%s,%s", *list, name) : xstrdup(name);
        free(*list);
        *list = joined;
}

char *plan_mount_flags(unsigned long set, unsigned long clear)
{
        char *out = NULL;
        if (set & MS_BIND)
                append(&out, (set & MS_REC) ? "rbind" : "bind");
        for (size_t i = 0; i < ARRAY_SIZE(ms_names); i++) {
                if (set & ms_names[i].flag)
                        append(&out, ms_names[i].set);
                else if ((clear & ms_names[i].flag) && ms_names[i].clear)
                        append(&out, ms_names[i].clear);
        }
        return out ? out : xstrdup("");
}

static const struct {
        unsigned long attr;
        const char *set, *clear;
} attr_names[] = {
        {MOUNT_ATTR_RDONLY, "rro", "rrw"},
        {MOUNT_ATTR_NOSUID, "rnosuid", "rsuid"},
        {MOUNT_ATTR_NODEV, "rnodev", "rdev"},
        {MOUNT_ATTR_NOEXEC, "rnoexec", "rexec"},
        {MOUNT_ATTR_NODIRATIME, "rnodiratime", "rdiratime"},
        {MOUNT_ATTR_NOSYMFOLLOW, "rnosymfollow", "rsymfollow"},
        {MOUNT_ATTR_NOATIME, "rnoatime", NULL},
        {MOUNT_ATTR_STRICTATIME, "rstrictatime", NULL},
};

char *plan_mount_attrs(unsigned long set, unsigned long clear)
{
        char *out = NULL;
        /* MOUNT_ATTR_RELATIME is 0: asked for by clearing the atime field alone. */
        bool atime_field = clear & MOUNT_ATTR__ATIME;
        if (atime_field && !(set & (MOUNT_ATTR_NOATIME | MOUNT_ATTR_STRICTATIME)))
                append(&out, "rrelatime");
        for (size_t i = 0; i < ARRAY_SIZE(attr_names); i++) {
                if (set & attr_names[i].attr)
                        append(&out, attr_names[i].set);
                else if ((clear & attr_names[i].attr) && attr_names[i].clear)
                        append(&out, attr_names[i].clear);
        }
        return out ? out : xstrdup("");
}

const char *plan_propagation_name(unsigned long p)
{
        bool rec = p & MS_REC;
        if (p & MS_PRIVATE)
                return rec ? "rprivate" : "private";
        if (p & MS_SHARED)
                return rec ? "rshared" : "shared";
        if (p & MS_SLAVE)
                return rec ? "rslave" : "slave";
        if (p & MS_UNBINDABLE)
                return rec ? "runbindable" : "unbindable";
        return NULL;
}
