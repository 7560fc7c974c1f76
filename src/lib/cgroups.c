#define _GNU_SOURCE
#include "cgroups.h"
#include "pidfd.h"
#include "syscalls.h"

#include "cgroup_backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* How long destroy waits for dying tasks to leave their cgroup. */
#define DESTROY_WAIT_NS 1000000000LL

/* ---- paths ------------------------------------------------------------- */

/* Append the components of `p` to buf[*len] as "/c1/c2", dropping empty and
 * "." components.  Returns -1 on a ".." component. */
static int path_append(char *buf, size_t *len, const char *p)
{
        while (*p) {
                while (*p == '/')
                        p++;
                const char *e = strchrnul(p, '/');
                size_t n = (size_t)(e - p);
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return -1;
                if (n > 0 && !(n == 1 && p[0] == '.')) {
                        buf[(*len)++] = '/';
                        memcpy(buf + *len, p, n);
                        *len += n;
                }
                p = e;
        }
        buf[*len] = '\0';
        return 0;
}

static int check_id(const char *id, berth_error **err)
{
        if (!id || !*id)
                return error_set(err, EINVAL, "container id must not be empty");
        if (strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return error_set(err, EINVAL, "container id `%s`: must be a single path component", id);
        return 0;
}

char *cgroup_compute_path(const char *caller, const char *cgroups_path, const char *id, berth_error **err)
{
        /* An empty cgroupsPath means "not set", as runc and crun read it. */
        if (cgroups_path && !*cgroups_path)
                cgroups_path = NULL;
        if (!cgroups_path && check_id(id, err) < 0)
                return NULL;
        if (!caller)
                caller = "/";
        bool absolute = cgroups_path && cgroups_path[0] == '/';
        const char *base = absolute ? "" : caller;
        size_t cap = strlen(base) + (cgroups_path ? strlen(cgroups_path) : strlen(id) + 7) + 3;
        _cleanup_free_ char *buf = xmalloc(cap);
        size_t len = 0;
        buf[0] = '\0';
        if (path_append(buf, &len, base) < 0) {
                error_set(err, EINVAL, "cgroup `%s`: must not contain `..`", caller);
                return NULL;
        }
        size_t base_len = len;
        if (!cgroups_path) {
                path_append(buf, &len, "berth");
                path_append(buf, &len, id);
        } else if (path_append(buf, &len, cgroups_path) < 0) {
                error_set(err, EINVAL, "linux.cgroupsPath `%s`: must not contain `..`", cgroups_path);
                return NULL;
        }
        if (len == base_len) {
                /* The container's cgroup is removed on delete: never let it be the
                 * root or the caller's own cgroup. */
                if (absolute)
                        error_set(err, EINVAL, "linux.cgroupsPath `%s`: must not be the root cgroup",
                                  cgroups_path);
                else
                        error_set(err, EINVAL,
                                  "linux.cgroupsPath `%s`: must name a cgroup below the caller's own",
                                  cgroups_path);
                return NULL;
        }
        return steal_pointer(&buf);
}

char *cgroup_dir_path(const struct cgroup_dir *d)
{
        if (strcmp(d->path, "/") == 0)
                return xstrdup(d->mount);
        return xasprintf("%s%s", d->mount, d->path);
}

/* `path` below `root` ("/a/b" below "/a" is "/b"), or NULL when it is not inside. */
static const char *path_below(const char *path, const char *root)
{
        size_t n = strlen(root);
        while (n > 0 && root[n - 1] == '/')
                n--;
        if (strncmp(path, root, n) != 0 || (path[n] != '/' && path[n] != '\0'))
                return NULL;
        return path[n] ? path + n : "/";
}

/* Whether `prefix` names `path` itself or one of its ancestors. */
static bool path_is_ancestor(const char *prefix, const char *path)
{
        return path_below(path, prefix) != NULL;
}

/* Whether the comma-separated `list` holds `item`. */
static bool list_has(const char *list, const char *item, size_t len)
{
        for (const char *p = list; *p;) {
                const char *e = strchrnul(p, ',');
                if ((size_t)(e - p) == len && strncmp(p, item, len) == 0)
                        return true;
                p = *e ? e + 1 : e;
        }
        return false;
}

/* Whether every controller of `controllers` is among the mount's options. */
static bool mount_has_controllers(const char *options, const char *controllers)
{
        if (!*controllers)
                return false;
        for (const char *p = controllers; *p;) {
                const char *e = strchrnul(p, ',');
                if (!list_has(options, p, (size_t)(e - p)))
                        return false;
                p = *e ? e + 1 : e;
        }
        return true;
}

bool cgroup_dir_has_controller(const struct cgroup_dir *d, const char *controller)
{
        return !d->v2 && list_has(d->controllers, controller, strlen(controller));
}

/* ---- /proc/self/cgroup and /proc/self/mountinfo ------------------------- */

void cgroup_memberships_free(struct cgroup_membership *m, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(m[i].controllers);
                free(m[i].path);
        }
        free(m);
}

void cgroup_mounts_free(struct cgroup_mount *m, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(m[i].mountpoint);
                free(m[i].root);
                free(m[i].options);
        }
        free(m);
}

int cgroup_parse_self(const char *text, struct cgroup_membership **out, size_t *n, berth_error **err)
{
        struct cgroup_membership *v = NULL;
        size_t count = 0;
        for (const char *line = text; *line;) {
                const char *eol = strchrnul(line, '\n');
                const char *c1 = memchr(line, ':', (size_t)(eol - line));
                const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;
                if (eol == line) {
                        line = *eol ? eol + 1 : eol;
                        continue;
                }
                if (!c2 || c1 == line || c2[1] != '/') {
                        _cleanup_free_ char *bad = xstrndup(line, (size_t)(eol - line));
                        cgroup_memberships_free(v, count);
                        return error_set(err, EINVAL, "/proc/self/cgroup: malformed line `%s`", bad);
                }
                v = xrealloc(v, (count + 1) * sizeof *v);
                v[count].controllers = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
                v[count].path = xstrndup(c2 + 1, (size_t)(eol - c2 - 1));
                v[count].v2 = c1 - line == 1 && line[0] == '0' && c2 == c1 + 1;
                count++;
                line = *eol ? eol + 1 : eol;
        }
        *out = v;
        *n = count;
        return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape_octal(const char *s)
{
        char *r = xstrdup(s), *w = r;
        for (const char *p = s; *p; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
                    p[3] <= '7') {
                        *w++ = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
                        p += 3;
                } else {
                        *w++ = *p;
                }
        }
        *w = '\0';
        return r;
}

/* One mountinfo line: "id parent maj:min root mountpoint opts [optional...] - fstype source superopts".
 * Returns 1 with *m filled for a cgroup mount, 0 for another mount, -1 when malformed. */
static int parse_mount_line(char *line, struct cgroup_mount *m)
{
        char *field[6] = {0};
        char *save = NULL, *tok;
        size_t i = 0;
        for (tok = strtok_r(line, " ", &save); tok && i < 6; tok = strtok_r(NULL, " ", &save))
                field[i++] = tok;
        if (i < 6)
                return -1;
        while (tok && strcmp(tok, "-") != 0)
                tok = strtok_r(NULL, " ", &save);
        char *fstype = tok ? strtok_r(NULL, " ", &save) : NULL;
        char *source = fstype ? strtok_r(NULL, " ", &save) : NULL;
        char *options = source ? strtok_r(NULL, " ", &save) : NULL;
        if (!options)
                return -1;
        bool v2 = strcmp(fstype, "cgroup2") == 0;
        if (!v2 && strcmp(fstype, "cgroup") != 0)
                return 0;
        m->root = unescape_octal(field[3]);
        m->mountpoint = unescape_octal(field[4]);
        m->options = xstrdup(options);
        m->v2 = v2;
        return 1;
}

int cgroup_parse_mounts(const char *text, struct cgroup_mount **out, size_t *n, berth_error **err)
{
        struct cgroup_mount *v = NULL;
        size_t count = 0;
        for (const char *line = text; *line;) {
                const char *eol = strchrnul(line, '\n');
                if (eol == line) {
                        line = *eol ? eol + 1 : eol;
                        continue;
                }
                /* Filter before copying: mountinfo can run to thousands of lines,
                 * the cgroup ones are few. */
                size_t len = (size_t)(eol - line);
                bool maybe = memmem(line, len, " - cgroup", 9) != NULL;
                _cleanup_free_ char *copy = maybe ? xstrndup(line, len) : NULL;
                line = *eol ? eol + 1 : eol;
                if (!maybe)
                        continue;
                struct cgroup_mount m = {0};
                _cleanup_free_ char *bad = xstrdup(copy);
                int r = parse_mount_line(copy, &m);
                if (r < 0) {
                        cgroup_mounts_free(v, count);
                        return error_set(err, EINVAL, "/proc/self/mountinfo: malformed line `%s`", bad);
                }
                if (r == 0)
                        continue;
                v = xrealloc(v, (count + 1) * sizeof *v);
                v[count++] = m;
        }
        *out = v;
        *n = count;
        return 0;
}

static const struct cgroup_mount *find_mount(const struct cgroup_mount *mounts, size_t n,
                                             const struct cgroup_membership *h, const char *path)
{
        for (size_t i = 0; i < n; i++) {
                if (mounts[i].v2 != h->v2)
                        continue;
                if (!h->v2 && !mount_has_controllers(mounts[i].options, h->controllers))
                        continue;
                /* A mount of a sub-tree (a container's view, a cgroup namespace's
                 * "/.." root) only serves cgroups inside that sub-tree. */
                if (path_below(path, mounts[i].root))
                        return &mounts[i];
        }
        return NULL;
}

struct cgroup *cgroup_resolve(const char *self_text, const char *mountinfo_text, const char *id,
                              const char *cgroups_path, berth_error **err)
{
        struct cgroup_membership *hs = NULL;
        struct cgroup_mount *mounts = NULL;
        size_t nh = 0, nm = 0;
        if (cgroup_parse_self(self_text, &hs, &nh, err) < 0)
                return NULL;
        if (cgroup_parse_mounts(mountinfo_text, &mounts, &nm, err) < 0) {
                cgroup_memberships_free(hs, nh);
                return NULL;
        }
        struct cgroup *cg = xzalloc(sizeof *cg);
        cg->dirs = xzalloc(nh * sizeof *cg->dirs);
        for (size_t i = 0; i < nh; i++) {
                char *path = cgroup_compute_path(hs[i].path, cgroups_path, id, err);
                if (!path) {
                        cgroup_free(cg);
                        cg = NULL;
                        break;
                }
                const struct cgroup_mount *m = find_mount(mounts, nm, &hs[i], path);
                if (m) {
                        struct cgroup_dir *d = &cg->dirs[cg->n++];
                        d->controllers = xstrdup(hs[i].controllers);
                        d->mount = xstrdup(m->mountpoint);
                        d->path = xstrdup(path_below(path, m->root));
                        const char *base = cgroups_path && cgroups_path[0] == '/'
                                                   ? "/"
                                                   : path_below(hs[i].path, m->root);
                        d->base = xstrdup(base ? base : "/");
                        d->v2 = hs[i].v2;
                }
                free(path);
        }
        cgroup_memberships_free(hs, nh);
        cgroup_mounts_free(mounts, nm);
        if (cg && cg->n == 0) {
                cgroup_free(cg);
                error_set(err, ENOENT, "no cgroup hierarchy of this process is mounted");
                return NULL;
        }
        return cg;
}

/* ---- create ------------------------------------------------------------ */

/* Reads an attribute of the nearest ancestor of `dir` (below `mount_len`
 * bytes it does not look) where it is not empty; NULL when none has it. */
static char *cpuset_inherited(const char *dir, size_t mount_len, const char *attr)
{
        _cleanup_free_ char *p = xstrdup(dir);
        for (;;) {
                char *slash = strrchr(p, '/');
                if (!slash || (size_t)(slash - p) < mount_len)
                        return NULL;
                *slash = '\0';
                _cleanup_free_ char *file = xasprintf("%s/%s", p, attr);
                char *v = read_file_at(AT_FDCWD, file, NULL);
                if (v) {
                        v[strcspn(v, "\n")] = '\0';
                        if (*v)
                                return v;
                        free(v);
                }
                if ((size_t)(slash - p) == mount_len)
                        return NULL;
        }
}

/* A new v1 cpuset starts with empty cpus and mems and takes no tasks
 * (ENOSPC) until they are set: copy them from the nearest ancestor. */
static int cpuset_fill(const char *dir, size_t mount_len, berth_error **err)
{
        static const char *const attrs[] = {"cpuset.cpus", "cpuset.mems"};
        for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
                _cleanup_free_ char *v = cpuset_inherited(dir, mount_len, attrs[i]);
                if (!v)
                        continue;
                _cleanup_free_ char *file = xasprintf("%s/%s", dir, attrs[i]);
                int r = write_file_at(AT_FDCWD, file, v, strlen(v), 0);
                if (r < 0)
                        return error_set(err, -r, "create cgroup `%s`: set `%s` to `%s`", dir, attrs[i], v);
        }
        return 0;
}

/* mkdir of the first `end` bytes of `path`: 1 made, 0 there already, or -errno. */
static int mkdir_prefix(char *path, size_t end)
{
        char c = path[end];
        path[end] = '\0';
        int r = mkdir(path, 0755) == 0 ? 1 : errno == EEXIST ? 0 : -errno;
        path[end] = c;
        return r;
}

static int create_error(const char *path, size_t end, int errnum, berth_error **err)
{
        _cleanup_free_ char *dir = xstrndup(path, end);
        if ((errnum == EACCES || errnum == EPERM) && geteuid() != 0)
                return error_set(err, errnum, "create cgroup `%s`: the hierarchy is not delegated to uid %u",
                                 dir, (unsigned)geteuid());
        return error_set(err, errnum, "create cgroup `%s`", dir);
}

/* A parent kept in the v1 cpuset hierarchy would hold a copy of the
 * caller's cpus and mems for good, and the kernel refuses to shrink a
 * cpuset below its children's: there, `berth/` goes with its last container. */
static bool keeps_parents(const struct cgroup_dir *d, bool keep_parents)
{
        return keep_parents && !cgroup_dir_has_controller(d, "cpuset");
}

/* Book-keeping for a directory berth just made: the first one is `top`,
 * except a parent kept for good (`keep_parents`). */
static int dir_made(struct cgroup_dir *d, bool keep_parents, char *full, size_t end, berth_error **err)
{
        size_t mlen = strlen(d->mount);
        bool leaf = full[end] == '\0';
        char c = full[end];
        full[end] = '\0';
        if (!d->top && (leaf || !keeps_parents(d, keep_parents)))
                d->top = xstrdup(full + mlen);
        int r = cgroup_dir_has_controller(d, "cpuset") ? cpuset_fill(full, mlen, err) : 0;
        full[end] = c;
        return r;
}

/* mkdir -p of one container directory, recording in d->top the highest
 * directory made.  The leaf is tried first: when its parents exist, as they
 * mostly do, that is the only mkdir. */
static int dir_create(struct cgroup_dir *d, bool keep_parents, berth_error **err)
{
        if (strcmp(d->path, "/") == 0)
                return 0;
        _cleanup_free_ char *full = cgroup_dir_path(d);
        size_t mlen = strlen(d->mount), nlev = 0;
        _cleanup_free_ size_t *ends = xmalloc((strlen(d->path) + 1) * sizeof *ends);
        for (size_t i = mlen + 1;; i++) {
                if (full[i] == '/' || full[i] == '\0')
                        ends[nlev++] = i;
                if (full[i] == '\0')
                        break;
        }
        /* Another container's destroy may remove a parent we share between our
         * mkdirs (ENOENT on the way down): start over a few times. */
        for (int attempt = 0; attempt < 8; attempt++) {
                size_t i = nlev - 1;
                int r;
                while ((r = mkdir_prefix(full, ends[i])) == -ENOENT && i > 0)
                        i--;
                if (r < 0)
                        return create_error(full, ends[i], -r, err);
                if (r == 1 && dir_made(d, keep_parents, full, ends[i], err) < 0)
                        return -1;
                for (i++; i < nlev; i++) {
                        r = mkdir_prefix(full, ends[i]);
                        if (r == -ENOENT)
                                break;
                        if (r < 0)
                                return create_error(full, ends[i], -r, err);
                        if (r == 1 && dir_made(d, keep_parents, full, ends[i], err) < 0)
                                return -1;
                }
                if (i == nlev)
                        return 0;
        }
        return create_error(full, strlen(full), ENOENT, err);
}

/* rmdir the container directory (unless `leaf_done`) and its parents up to
 * and including `top`, stopping quietly at the first one still in use:
 * another container may share it.  Whatever is not there (ENOENT, or
 * ENOTDIR below a control file after a failed create) is skipped. */
static int remove_up(const char *mount, const char *path, const char *top, bool leaf_done, berth_error **err)
{
        _cleanup_free_ char *full = xasprintf("%s%s", mount, path);
        size_t mlen = strlen(mount), toplen = mlen + strlen(top);
        for (bool first = true;; first = false) {
                if (!first) {
                        char *slash = strrchr(full + mlen, '/');
                        if (!slash)
                                return 0;
                        *slash = '\0';
                }
                if (strlen(full) < toplen)
                        return 0;
                if ((first && leaf_done) || rmdir(full) == 0 || errno == ENOENT || errno == ENOTDIR)
                        continue;
                if (errno == EBUSY || errno == ENOTEMPTY)
                        return 0;
                return error_set(err, errno, "remove cgroup `%s`", full);
        }
}

/* cgroup2 hands a controller to a child only when its parent lists it in
 * cgroup.subtree_control: turn on what each level offers, from the cgroup
 * the container's path hangs off (the caller's own, or the root for an
 * absolute cgroupsPath) down to the container's parent.  Best effort: a
 * refusal shows up later as "the X controller is not available" when a
 * resource needs X. */
static void enable_controllers(const struct cgroup_dir *d)
{
        if (!d->v2 || !d->base || strcmp(d->path, "/") == 0 || !path_is_ancestor(d->base, d->path))
                return;
        _cleanup_free_ char *full = cgroup_dir_path(d);
        size_t mlen = strlen(d->mount), leaf = strlen(full);
        size_t q = strcmp(d->base, "/") == 0 ? mlen : mlen + strlen(d->base);
        while (leaf > mlen && full[leaf] != '/')
                leaf--;
        while (q <= leaf) {
                char c = full[q];
                full[q] = '\0';
                cg_v2_enable_controllers(full);
                full[q] = c;
                q = (size_t)(strchrnul(full + q + 1, '/') - full);
        }
}

struct cgroup *cgroup_plan(const char *id, const char *cgroups_path, berth_error **err)
{
        _cleanup_free_ char *self = read_file_at(AT_FDCWD, "/proc/self/cgroup", NULL);
        if (!self) {
                error_set(err, errno, "read `/proc/self/cgroup`");
                return NULL;
        }
        _cleanup_free_ char *mountinfo = read_file_at(AT_FDCWD, "/proc/self/mountinfo", NULL);
        if (!mountinfo) {
                error_set(err, errno, "read `/proc/self/mountinfo`");
                return NULL;
        }
        struct cgroup *cg = cgroup_resolve(self, mountinfo, id, cgroups_path, err);
        /* The default `<caller>/berth/<id>`: `berth` is the runtime's own and
         * stays (making and removing it for every container doubled the
         * cgroup work), but in the cpuset hierarchy (keeps_parents); what a
         * delete removes is recorded now, for a create killed while making it. */
        if (cg && (!cgroups_path || !*cgroups_path)) {
                cg->keep_parents = true;
                for (size_t i = 0; i < cg->n; i++) {
                        struct cgroup_dir *d = &cg->dirs[i];
                        char *slash = strrchr(d->path, '/');
                        if (keeps_parents(d, true))
                                d->top = xstrdup(d->path);
                        else if (slash && slash != d->path)
                                d->top = xstrndup(d->path, (size_t)(slash - d->path));
                }
        }
        return cg;
}

int cgroup_make(struct cgroup *cg, berth_error **err)
{
        for (size_t i = 0; i < cg->n; i++) {
                /* From here on `top` is what this create made, nothing more. */
                free(cg->dirs[i].top);
                cg->dirs[i].top = NULL;
        }
        for (size_t i = 0; i < cg->n; i++) {
                if (dir_create(&cg->dirs[i], cg->keep_parents, err) == 0) {
                        enable_controllers(&cg->dirs[i]);
                        continue;
                }
                for (size_t j = 0; j <= i; j++)
                        if (cg->dirs[j].top)
                                remove_up(cg->dirs[j].mount, cg->dirs[j].path, cg->dirs[j].top, false, NULL);
                return -1;
        }
        return 0;
}

struct cgroup *cgroup_create(const char *id, const char *cgroups_path, berth_error **err)
{
        struct cgroup *cg = cgroup_plan(id, cgroups_path, err);
        if (cg && cgroup_make(cg, err) < 0) {
                cgroup_free(cg);
                return NULL;
        }
        return cg;
}

/* ---- enter, pids, kill ------------------------------------------ */

static int enter_error(const struct cgroup_dir *d, const char *dir, int r, berth_error **err)
{
        if (r == -ENOSPC && cgroup_dir_has_controller(d, "cpuset"))
                return error_set(err, -r, "join cgroup `%s`: its cpuset.cpus or cpuset.mems is empty", dir);
        if ((r == -EACCES || r == -EPERM) && geteuid() != 0)
                return error_set(err, -r, "join cgroup `%s`: the hierarchy is not delegated to uid %u", dir,
                                 (unsigned)geteuid());
        return error_set(err, -r, "join cgroup `%s`", dir);
}

/* The calling process joins the container's cgroup.  Moving another process
 * (cgroup.procs) takes the global threadgroup lock for writing, which waits
 * for an RCU grace period: 7-15 ms here.  A single thread moving itself
 * through v1's `tasks` skips that lock, so the init does it this way.  The
 * v2 directory is best joined at clone time (CLONE_INTO_CGROUP, `skip_v2`).
 * With `memory_late`, the v1 memory hierarchy's `tasks` is only opened, into
 * *memory_late (-1 when there is none), for cgroup_enter_late(). */
int cgroup_enter_self(const struct cgroup *cg, bool skip_v2, int *memory_late, berth_error **err)
{
        if (memory_late)
                *memory_late = -1;
        for (size_t i = 0; i < cg->n; i++) {
                const struct cgroup_dir *d = &cg->dirs[i];
                if (d->v2 && skip_v2)
                        continue;
                _cleanup_free_ char *dir = cgroup_dir_path(d);
                _cleanup_free_ char *file = xasprintf("%s/%s", dir, d->v2 ? "cgroup.procs" : "tasks");
                int r;
                if (memory_late && !d->v2 && cgroup_dir_has_controller(d, "memory"))
                        r = (*memory_late = open(file, O_WRONLY | O_CLOEXEC)) < 0 ? -errno : 0;
                else
                        r = write_file_at(AT_FDCWD, file, "0", 1, 0);
                if (r < 0)
                        return enter_error(d, dir, r, err);
        }
        return 0;
}

int cgroup_enter_late(const struct cgroup *cg, int *memory_late, berth_error **err)
{
        if (*memory_late < 0)
                return 0;
        int r = write(*memory_late, "0", 1) == 1 ? 0 : -errno;
        close(*memory_late);
        *memory_late = -1;
        for (size_t i = 0; r < 0 && i < cg->n; i++) {
                const struct cgroup_dir *d = &cg->dirs[i];
                if (!d->v2 && cgroup_dir_has_controller(d, "memory")) {
                        _cleanup_free_ char *dir = cgroup_dir_path(d);
                        return enter_error(d, dir, r, err);
                }
        }
        return r;
}

/* clone3 with `args` (pidfd_clone), born in the cgroup2 directory of `cg`
 * where the kernel allows (CLONE_INTO_CGROUP: no migration at all);
 * *born_in_v2 tells the child whether it still has to join that directory
 * itself. */
long cgroup_clone3(struct berth_clone_args *args, const struct cgroup *cg, bool *born_in_v2)
{
        _cleanup_close_ int v2 = cgroup_v2_fd(cg);
        *born_in_v2 = false;
        if (v2 >= 0) {
                args->flags |= CLONE_INTO_CGROUP;
                args->cgroup = (uint64_t)v2;
                long pid = pidfd_clone(args);
                /* Without clone3 the flag is dropped (pidfd_clone): seen by the child too. */
                *born_in_v2 = pid >= 0 && (args->flags & CLONE_INTO_CGROUP);
                if (pid >= 0)
                        return pid;
                /* An older kernel, or a cgroup it refuses: the child joins by itself. */
                args->flags &= ~CLONE_INTO_CGROUP;
        }
        return pidfd_clone(args);
}

/* An fd of the container's cgroup2 directory for CLONE_INTO_CGROUP, or -1. */
int cgroup_v2_fd(const struct cgroup *cg)
{
        for (size_t i = 0; cg && i < cg->n; i++) {
                if (!cg->dirs[i].v2)
                        continue;
                _cleanup_free_ char *dir = cgroup_dir_path(&cg->dirs[i]);
                return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        return -1;
}

struct pid_set {
        pid_t *v;
        size_t n, cap;
};

/* The pids of `dir` and, recursively, of the sub-cgroups the container made. */
static int collect_pids(const char *dir, struct pid_set *set, berth_error **err)
{
        _cleanup_free_ char *file = xasprintf("%s/cgroup.procs", dir);
        _cleanup_free_ char *text = read_file_at(AT_FDCWD, file, NULL);
        if (!text)
                return errno == ENOENT ? 0 : error_set(err, errno, "read `%s`", file);
        for (char *p = text; *p;) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (v > 0) {
                        if (set->n == set->cap)
                                set->v = xrealloc(set->v,
                                                  (set->cap = set->cap ? set->cap * 2 : 64) * sizeof *set->v);
                        set->v[set->n++] = (pid_t)v;
                }
                p = end;
        }
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : error_set(err, errno, "list cgroup `%s`", dir);
        int r = 0;
        struct dirent *e;
        while (r == 0 && (e = readdir(d))) {
                if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                _cleanup_free_ char *sub = xasprintf("%s/%s", dir, e->d_name);
                r = collect_pids(sub, set, err);
        }
        closedir(d);
        return r;
}

static int pid_cmp(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return (x > y) - (x < y);
}

int cgroup_pids(const struct cgroup *cg, pid_t **pids, size_t *n, berth_error **err)
{
        struct pid_set set = {0};
        for (size_t i = 0; i < cg->n; i++) {
                _cleanup_free_ char *dir = cgroup_dir_path(&cg->dirs[i]);
                if (collect_pids(dir, &set, err) < 0) {
                        free(set.v);
                        return -1;
                }
        }
        size_t u = 0;
        if (set.n > 0) {
                qsort(set.v, set.n, sizeof *set.v, pid_cmp);
                for (size_t i = 0; i < set.n; i++)
                        if (u == 0 || set.v[u - 1] != set.v[i])
                                set.v[u++] = set.v[i];
        }
        *pids = set.v;
        *n = u;
        return 0;
}

/* cgroup2's cgroup.kill (Linux 5.14) kills the whole sub-tree at once,
 * including tasks that fork while we would walk the pid list.  On hybrid
 * hosts every task is also in the cgroup2 hierarchy, so it serves there too. */
static bool kill_v2(const struct cgroup *cg)
{
        for (size_t i = 0; i < cg->n; i++) {
                if (!cg->dirs[i].v2)
                        continue;
                _cleanup_free_ char *dir = cgroup_dir_path(&cg->dirs[i]);
                _cleanup_free_ char *file = xasprintf("%s/cgroup.kill", dir);
                return write_file_at(AT_FDCWD, file, "1", 1, 0) == 0;
        }
        return false;
}

int cgroup_kill(const struct cgroup *cg, int sig, berth_error **err)
{
        if (sig == SIGKILL && kill_v2(cg))
                return 0;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (cgroup_pids(cg, &pids, &n, err) < 0)
                return -1;
        /* No cgroup.kill (v1): a task forking while the list is walked would
         * escape.  Frozen, none can fork, and the kills land on the thaw. */
        bool froze = sig == SIGKILL && n > 0 && !cgroup_frozen(cg);
        if (froze) {
                cgroup_freeze(cg, true, NULL);
                free(steal_pointer(&pids));
                if (cgroup_pids(cg, &pids, &n, err) < 0) {
                        cgroup_freeze(cg, false, NULL);
                        return -1;
                }
        }
        int r = 0;
        for (size_t i = 0; i < n; i++)
                if (kill(pids[i], sig) < 0 && errno != ESRCH && r == 0)
                        r = error_set(err, errno, "send signal %d to process %d", sig, (int)pids[i]);
        if (froze)
                cgroup_freeze(cg, false, NULL);
        return r;
}

/* ---- destroy ------------------------------------------------------------ */

static int rmdir_tree(const char *dir, long long deadline);

/* Sub-cgroups the container made itself (a nested runtime, systemd) keep
 * their parent busy: remove them depth-first. */
static int rmdir_children(const char *dir, long long deadline)
{
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        int r = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                _cleanup_free_ char *sub = xasprintf("%s/%s", dir, e->d_name);
                int s = rmdir_tree(sub, deadline);
                if (s < 0 && r == 0)
                        r = s;
        }
        closedir(d);
        return r;
}

/* rmdir, retrying on EBUSY while exiting tasks still count as members. */
static int rmdir_tree(const char *dir, long long deadline)
{
        long delay_ns = 1000000;
        for (;;) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY && errno != ENOTEMPTY)
                        return -errno;
                rmdir_children(dir, deadline);
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if ((errno != EBUSY && errno != ENOTEMPTY) || monotonic_ns() >= deadline)
                        return -errno;
                struct timespec ts = {0, delay_ns};
                nanosleep(&ts, NULL);
                if (delay_ns < 100000000)
                        delay_ns *= 2;
        }
}

static int destroy(const struct cgroup *cg, long long wait_ns, berth_error **err)
{
        long long deadline = monotonic_ns() + wait_ns;
        int ret = 0;
        for (size_t i = 0; i < cg->n; i++) {
                const struct cgroup_dir *d = &cg->dirs[i];
                if (strcmp(d->path, "/") == 0)
                        continue;
                _cleanup_free_ char *dir = cgroup_dir_path(d);
                int r = rmdir_tree(dir, deadline);
                if (r < 0) {
                        if (ret == 0)
                                ret = error_set(err, -r, "remove cgroup `%s`", dir);
                        continue;
                }
                if (d->top && remove_up(d->mount, d->path, d->top, true, err) < 0 && ret == 0)
                        ret = -1;
        }
        return ret;
}

int cgroup_destroy(const struct cgroup *cg, berth_error **err)
{
        return destroy(cg, DESTROY_WAIT_NS, err);
}

int cgroup_try_destroy(const struct cgroup *cg)
{
        return destroy(cg, 0, NULL);
}

void cgroup_free(struct cgroup *cg)
{
        if (!cg)
                return;
        for (size_t i = 0; i < cg->n; i++) {
                free(cg->dirs[i].controllers);
                free(cg->dirs[i].mount);
                free(cg->dirs[i].path);
                free(cg->dirs[i].top);
                free(cg->dirs[i].base);
        }
        free(cg->dirs);
        free(cg);
}

/* ---- state.json ---------------------------------------------------------- */

json_t *cgroup_to_json(const struct cgroup *cg)
{
        json_t *a = json_array();
        for (size_t i = 0; i < cg->n; i++) {
                const struct cgroup_dir *d = &cg->dirs[i];
                json_t *o = json_object();
                json_object_set_new(o, "controllers", json_string(d->controllers));
                json_object_set_new(o, "mount", json_string(d->mount));
                json_object_set_new(o, "path", json_string(d->path));
                json_object_set_new(o, "top", d->top ? json_string(d->top) : json_null());
                json_object_set_new(o, "v2", json_boolean(d->v2));
                json_array_append_new(a, o);
        }
        return a;
}

static int json_get_str(const json_t *o, size_t i, const char *key, bool nullable, char **out,
                        berth_error **err)
{
        const json_t *v = json_object_get(o, key);
        if (nullable && (!v || json_is_null(v))) {
                *out = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return error_set(err, EINVAL, "cgroup state: entry %zu: `%s` must be a string%s", i, key,
                                 nullable ? " or null" : "");
        *out = xstrdup(json_string_value(v));
        return 0;
}

/* The state file drives rmdir: refuse anything that could point elsewhere. */
static int check_dir(const struct cgroup_dir *d, size_t i, berth_error **err)
{
        size_t len = 0;
        _cleanup_free_ char *norm = xmalloc(strlen(d->path) + 2);
        if (d->mount[0] != '/')
                return error_set(err, EINVAL, "cgroup state: entry %zu: `mount` must be an absolute path", i);
        if (d->path[0] != '/' || path_append(norm, &len, d->path) < 0)
                return error_set(err, EINVAL, "cgroup state: entry %zu: `path` must be absolute without `..`",
                                 i);
        if (d->top && (d->top[0] != '/' || !path_is_ancestor(d->top, d->path) || strcmp(d->top, "/") == 0))
                return error_set(err, EINVAL, "cgroup state: entry %zu: `top` must be an ancestor of `path`",
                                 i);
        return 0;
}

static int dir_from_json(const json_t *o, size_t i, struct cgroup_dir *d, berth_error **err)
{
        if (!json_is_object(o))
                return error_set(err, EINVAL, "cgroup state: entry %zu must be an object", i);
        if (json_get_str(o, i, "controllers", false, &d->controllers, err) < 0 ||
            json_get_str(o, i, "mount", false, &d->mount, err) < 0 ||
            json_get_str(o, i, "path", false, &d->path, err) < 0 ||
            json_get_str(o, i, "top", true, &d->top, err) < 0)
                return -1;
        const json_t *v2 = json_object_get(o, "v2");
        if (!json_is_boolean(v2))
                return error_set(err, EINVAL, "cgroup state: entry %zu: `v2` must be a boolean", i);
        d->v2 = json_is_true(v2);
        return check_dir(d, i, err);
}

struct cgroup *cgroup_from_json(const json_t *j, berth_error **err)
{
        if (!json_is_array(j)) {
                error_set(err, EINVAL, "cgroup state: must be an array");
                return NULL;
        }
        struct cgroup *cg = xzalloc(sizeof *cg);
        cg->dirs = xzalloc(json_array_size(j) * sizeof *cg->dirs);
        for (size_t i = 0; i < json_array_size(j); i++) {
                if (dir_from_json(json_array_get(j, i), i, &cg->dirs[cg->n++], err) < 0) {
                        cgroup_free(cg);
                        return NULL;
                }
        }
        return cg;
}
