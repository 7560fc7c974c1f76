/* Resources, freezer, stats and OOM over every hierarchy of a container's
 * cgroup: each resource goes to the hierarchy that holds its controller
 * (a v1 hierarchy naming it, else the cgroup2 hierarchy when the controller
 * is enabled there), through that hierarchy's backend.  This is the whole
 * of hybrid support: hosts differ only in where a controller is found. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup_backend.h"

/* ---- file helpers ------------------------------------------------------------- */

static char *field_name(const struct cg_target *t, const char *field)
{
        if (!field)
                return NULL;
        return t->prefix ? xasprintf("%s.%s", t->prefix, field) : xstrdup(field);
}

static int write_failed(const struct cg_target *t, const char *field, const char *path, const char *file,
                        const char *value, int r, berth_error **err)
{
        _cleanup_free_ char *name = field_name(t, field);
        if (r == -ENOENT && name)
                return error_set(err, 0, "%s: the %s controller has no `%s` on this host", name,
                                 t->controller, file);
        if (name)
                return error_set(err, -r, "%s: write `%s` to `%s`", name, value, path);
        return error_set(err, -r, "write `%s` to `%s`", value, path);
}

int cg_write(const struct cg_target *t, const char *field, const char *file, const char *value,
             berth_error **err)
{
        if (t->plan)
                return t->plan->write(t->plan->data, t, field, file, value, err);
        _cleanup_free_ char *path = xasprintf("%s/%s", t->dir, file);
        int r = write_file_at(AT_FDCWD, path, value, strlen(value), 0);
        return r == 0 ? 0 : write_failed(t, field, path, file, value, r, err);
}

int cg_write_fd(const struct cg_target *t, int *fd, const char *field, const char *file, const char *value,
                berth_error **err)
{
        if (t->plan)
                return t->plan->write(t->plan->data, t, field, file, value, err);
        _cleanup_free_ char *path = xasprintf("%s/%s", t->dir, file);
        if (*fd < 0 && (*fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
                return write_failed(t, field, path, file, value, -errno, err);
        int r = write_all(*fd, value, strlen(value));
        return r == 0 ? 0 : write_failed(t, field, path, file, value, r, err);
}

int cg_writef(const struct cg_target *t, const char *field, const char *file, berth_error **err,
              const char *fmt, ...)
{
        _cleanup_free_ char *value = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&value, fmt, ap);
        va_end(ap);
        if (n < 0)
                abort();
        return cg_write(t, field, file, value, err);
}

int cg_fail(berth_error **err, const struct cg_target *t, const char *field, int errnum, const char *fmt, ...)
{
        _cleanup_free_ char *name = field_name(t, field);
        _cleanup_free_ char *what = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&what, fmt, ap) < 0)
                abort();
        va_end(ap);
        return error_set(err, errnum, "%s: %s", name ? name : "cgroup", what);
}

bool cg_exists(const char *dir, const char *file)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
        return access(path, F_OK) == 0;
}

int cg_hugetlb(const struct cg_target *t, const struct res_hugepage *h, size_t n, const char *limit,
               berth_error **err)
{
        for (size_t i = 0; i < n; i++) {
                char field[64], file[64], rsvd[80];
                snprintf(field, sizeof field, "hugepageLimits[%zu].pageSize", i);
                snprintf(file, sizeof file, "hugetlb.%s.%s", h[i].page_size, limit);
                snprintf(rsvd, sizeof rsvd, "hugetlb.%s.rsvd.%s", h[i].page_size, limit);
                if (!cg_exists(t->dir, file))
                        return cg_fail(err, t, field, 0, "this host has no `%s` huge pages (no `%s`)",
                                       h[i].page_size, file);
                snprintf(field, sizeof field, "hugepageLimits[%zu].limit", i);
                /* The spec asks for reservation limits where the kernel has them. */
                if (cg_exists(t->dir, rsvd) && cg_writef(t, field, rsvd, err, "%" PRIu64, h[i].limit) < 0)
                        return -1;
                if (cg_writef(t, field, file, err, "%" PRIu64, h[i].limit) < 0)
                        return -1;
        }
        return 0;
}

char *cg_read(const char *dir, const char *file)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
        return read_file_at(AT_FDCWD, path, NULL);
}

int cg_read_u64(const char *dir, const char *file, uint64_t *out)
{
        _cleanup_free_ char *text = cg_read(dir, file);
        if (!text)
                return -errno;
        if (str_has_prefix(text, "max")) {
                *out = UINT64_MAX;
                return 0;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (end == text || errno)
                return -EINVAL;
        *out = v;
        return 0;
}

bool cg_keyed(const char *text, const char *key, uint64_t *out)
{
        size_t len = strlen(key);
        for (const char *line = text; line && *line;) {
                if (strncmp(line, key, len) == 0 && line[len] == ' ') {
                        *out = strtoull(line + len + 1, NULL, 10);
                        return true;
                }
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        return false;
}

/* jansson integers are signed: a value past INT64_MAX ("max") is stored as
 * INT64_MIN, which no counter can be, and printed as 2^64-1, the way runc
 * prints an unlimited uint64 (see cgroup_stats_text). */
#define U64_MAX_MARK INT64_MIN

void cg_json_u64(json_t *o, const char *key, uint64_t v)
{
        json_object_set_new(o, key, json_integer(v > INT64_MAX ? U64_MAX_MARK : (json_int_t)v));
}

/* Set only when the backend did not: keeps runc's field order for what it did set. */
static void json_u64_default(json_t *o, const char *key, uint64_t v)
{
        if (!json_object_get(o, key))
                cg_json_u64(o, key, v);
}

void cg_json_u64_omit(json_t *o, const char *key, uint64_t v)
{
        if (v != 0)
                cg_json_u64(o, key, v);
}

json_t *cg_json_obj(json_t *parent, const char *key)
{
        json_t *o = json_object_get(parent, key);
        if (!json_is_object(o)) {
                o = json_object();
                json_object_set_new(parent, key, o);
        }
        return o;
}

json_t *cg_cpu_list_json(const char *text)
{
        json_t *a = json_array();
        for (const char *p = text; p && *p && *p != '\n';) {
                char *end;
                unsigned long lo = strtoul(p, &end, 10), hi = lo;
                if (end == p)
                        break;
                if (*end == '-')
                        hi = strtoul(end + 1, &end, 10);
                for (unsigned long i = lo; i <= hi && i < 65536; i++)
                        json_array_append_new(a, json_integer((json_int_t)i));
                p = *end == ',' ? end + 1 : end;
        }
        return a;
}

json_t *cg_raw_stats(const char *text)
{
        json_t *raw = json_object();
        for (const char *line = text; line && *line;) {
                const char *eol = strchrnul(line, '\n');
                const char *sp = memchr(line, ' ', (size_t)(eol - line));
                if (sp && sp > line) {
                        _cleanup_free_ char *key = xstrndup(line, (size_t)(sp - line));
                        cg_json_u64(raw, key, strtoull(sp + 1, NULL, 10));
                }
                line = *eol ? eol + 1 : eol;
        }
        return raw;
}

/* ---- what both versions share ---------------------------------------------------- */

int cg_pids_write(const struct cg_target *t, int64_t limit, berth_error **err)
{
        if (limit < 0)
                return cg_write(t, "pids.limit", "pids.max", "max", err);
        return cg_writef(t, "pids.limit", "pids.max", err, "%" PRId64, limit);
}

int cg_rdma_write(const struct cg_target *t, const struct res_rdma *r, size_t n, berth_error **err)
{
        for (size_t i = 0; i < n; i++) {
                char handles[40] = "", objects[40] = "";
                _cleanup_free_ char *field = xasprintf("rdma.%s", r[i].device);
                if (r[i].hca_handles.set)
                        snprintf(handles, sizeof handles, " hca_handle=%" PRIu64, r[i].hca_handles.v);
                if (r[i].hca_objects.set)
                        snprintf(objects, sizeof objects, " hca_object=%" PRIu64, r[i].hca_objects.v);
                if (cg_writef(t, field, "rdma.max", err, "%s%s%s", r[i].device, handles, objects) < 0)
                        return -1;
        }
        return 0;
}

void cg_pids_stats(const char *dir, json_t *pids)
{
        uint64_t v = 0;
        if (cg_read_u64(dir, "pids.current", &v) == 0)
                cg_json_u64_omit(pids, "current", v);
        /* runc reports "max" as no limit at all. */
        if (cg_read_u64(dir, "pids.max", &v) == 0 && v != UINT64_MAX)
                cg_json_u64_omit(pids, "limit", v);
}

/* ---- finding a controller ----------------------------------------------------------- */

struct finder {
        const struct cgroup *cg;
        const struct cg_plan *plan; /* plan mode (cg_plan), or NULL */
        char *v2_controllers; /* cgroup.controllers of the v2 directory, read once */
        bool v2_read;
};

struct found {
        const struct cgroup_backend *be;
        char *dir;
        const char *controller;
};

static void finder_clear(struct finder *f)
{
        free(f->v2_controllers);
}

static void found_clear(struct found *x)
{
        free(x->dir);
        x->dir = NULL;
}

static const struct cgroup_dir *v2_dir(const struct cgroup *cg)
{
        for (size_t i = 0; i < cg->n; i++)
                if (cg->dirs[i].v2)
                        return &cg->dirs[i];
        return NULL;
}

static bool v2_has(struct finder *f, const struct cgroup_dir *d, const char *controller)
{
        if (!*controller)
                return true; /* core files every cgroup2 directory has */
        if (!f->v2_read) {
                _cleanup_free_ char *dir = cgroup_dir_path(d);
                f->v2_controllers = cg_read(dir, "cgroup.controllers");
                f->v2_read = true;
        }
        size_t len = strlen(controller);
        for (const char *p = f->v2_controllers; p && *p;) {
                p += strspn(p, " \n");
                size_t n = strcspn(p, " \n");
                if (n == len && strncmp(p, controller, len) == 0)
                        return true;
                p += n;
        }
        return false;
}

/* The hierarchy holding a controller: a v1 hierarchy named `v1` first,
 * then the cgroup2 one when `v2` (NULL: none in v2; "": core) is enabled. */
static bool find(struct finder *f, const char *v1, const char *v2, struct found *out)
{
        for (size_t i = 0; v1 && i < f->cg->n; i++)
                if (cgroup_dir_has_controller(&f->cg->dirs[i], v1)) {
                        *out = (struct found){&cgroup_v1_backend, cgroup_dir_path(&f->cg->dirs[i]), v1};
                        return true;
                }
        const struct cgroup_dir *d = v2_dir(f->cg);
        if (v2 && d && v2_has(f, d, v2)) {
                *out = (struct found){&cgroup_v2_backend, cgroup_dir_path(d), *v2 ? v2 : "cgroup"};
                return true;
        }
        return false;
}

/* ---- applying resources -------------------------------------------------------------- */

/* The first field a group asks for: what an error about the group names. */
static const char *memory_field(const struct res_memory *m)
{
        return m->limit.set            ? "memory.limit"
               : m->reservation.set    ? "memory.reservation"
               : m->swap.set           ? "memory.swap"
               : m->kernel.set         ? "memory.kernel"
               : m->kernel_tcp.set     ? "memory.kernelTCP"
               : m->swappiness.set     ? "memory.swappiness"
               : m->disable_oom_killer ? "memory.disableOOMKiller"
               : m->use_hierarchy      ? "memory.useHierarchy"
                                       : NULL;
}

static const char *cpu_field(const struct res_cpu *c)
{
        return c->shares.set             ? "cpu.shares"
               : c->quota.set            ? "cpu.quota"
               : c->period.set           ? "cpu.period"
               : c->burst.set            ? "cpu.burst"
               : c->realtime_runtime.set ? "cpu.realtimeRuntime"
               : c->realtime_period.set  ? "cpu.realtimePeriod"
               : c->idle.set             ? "cpu.idle"
                                         : NULL;
}

static const char *blkio_field(const struct res_blkio *b)
{
        if (b->weight.set)
                return "blockIO.weight";
        if (b->leaf_weight.set)
                return "blockIO.leafWeight";
        if (b->n_weight_devices)
                return "blockIO.weightDevice";
        for (int k = 0; k < RES_THROTTLE_COUNT; k++)
                if (b->n_throttle[k])
                        return "blockIO.throttle";
        return NULL;
}

enum group { G_MEMORY, G_CPU, G_CPUSET, G_PIDS, G_BLKIO, G_HUGETLB, G_NET_CLS, G_NET_PRIO, G_RDMA };

static int group_apply(const struct cgroup_backend *be, enum group g, const struct cg_target *t,
                       const struct res_resources *r, bool update, berth_error **err)
{
        switch (g) {
        case G_MEMORY:
                return be->memory(t, &r->memory, update, err);
        case G_CPU:
                return be->cpu(t, &r->cpu, err);
        case G_CPUSET:
                return be->cpuset(t, &r->cpu, err);
        case G_PIDS:
                return be->pids(t, r->pids_limit.v, err);
        case G_BLKIO:
                return be->blkio(t, &r->blkio, err);
        case G_HUGETLB:
                return be->hugetlb(t, r->hugepages, r->n_hugepages, err);
        case G_NET_CLS:
                return be->net_cls(t, (uint32_t)r->net_class_id.v, err);
        case G_NET_PRIO:
                return be->net_prio(t, r->net_prios, r->n_net_prios, err);
        case G_RDMA:
                return be->rdma(t, r->rdma, r->n_rdma, err);
        }
        abort();
}

/* One resource group: find its controller, name the field when there is none. */
static int apply_group(struct finder *f, const char *prefix, const char *field, const char *v1,
                       const char *v2, enum group g, const struct res_resources *r, bool update,
                       berth_error **err)
{
        struct found x;
        if (!field)
                return 0;
        if (!find(f, v1, v2, &x)) {
                /* Named as the host would name it: "io" where there is only cgroup2. */
                bool only_v2 = v2 && f->cg->n > 0;
                for (size_t i = 0; i < f->cg->n; i++)
                        only_v2 &= f->cg->dirs[i].v2;
                return error_set(err, 0, "%s.%s: the %s controller is not available on this host%s", prefix,
                                 field, only_v2 ? v2 : v1, v2 ? "" : " (it exists only in cgroup v1)");
        }
        struct cg_target t = {x.dir, x.controller, prefix, f->plan};
        int ret = group_apply(x.be, g, &t, r, update, err);
        found_clear(&x);
        return ret;
}

/* Raw cgroup2 files: wherever the cgroup2 hierarchy is, hybrid hosts
 * included, for the controllers it has. */
static int apply_unified(struct finder *f, const char *prefix, char **kv, berth_error **err)
{
        const struct cgroup_dir *d = v2_dir(f->cg);
        if (!kv)
                return 0;
        if (!d)
                return error_set(err, 0,
                                 "%s.unified: needs cgroup v2, and this host has no cgroup2 hierarchy",
                                 prefix);
        _cleanup_free_ char *dir = cgroup_dir_path(d);
        for (size_t i = 0; kv[i] && kv[i + 1]; i += 2) {
                _cleanup_free_ char *controller = xstrndup(kv[i], strcspn(kv[i], "."));
                _cleanup_free_ char *field = xasprintf("unified.%s", kv[i]);
                if (strcmp(controller, "cgroup") != 0 && !v2_has(f, d, controller))
                        return error_set(
                                err, 0,
                                "%s.%s: the %s controller is not available in the cgroup2 hierarchy on "
                                "this host",
                                prefix, field, controller);
                struct cg_target t = {dir, controller, prefix, f->plan};
                if (cg_write(&t, field, kv[i], kv[i + 1], err) < 0)
                        return -1;
        }
        return 0;
}

static int resources_set(const struct cgroup *cg, const struct res_resources *r, bool update,
                         const struct cg_plan *plan, berth_error **err)
{
        static const char *const prefix = "linux.resources";
        struct finder f = {.cg = cg, .plan = plan};
        const struct res_cpu *c = &r->cpu;
        int ret = 0;
        if (apply_group(&f, prefix, memory_field(&r->memory), "memory", "memory", G_MEMORY, r, update, err) <
                    0 ||
            apply_group(&f, prefix, cpu_field(c), "cpu", "cpu", G_CPU, r, update, err) < 0 ||
            apply_group(&f, prefix,
                        c->cpus   ? "cpu.cpus"
                        : c->mems ? "cpu.mems"
                                  : NULL,
                        "cpuset", "cpuset", G_CPUSET, r, update, err) < 0 ||
            apply_group(&f, prefix, r->pids_limit.set ? "pids.limit" : NULL, "pids", "pids", G_PIDS, r,
                        update, err) < 0 ||
            apply_group(&f, prefix, blkio_field(&r->blkio), "blkio", "io", G_BLKIO, r, update, err) < 0 ||
            apply_group(&f, prefix, r->n_hugepages ? "hugepageLimits" : NULL, "hugetlb", "hugetlb", G_HUGETLB,
                        r, update, err) < 0 ||
            apply_group(&f, prefix, r->net_class_id.set ? "network.classID" : NULL, "net_cls", NULL,
                        G_NET_CLS, r, update, err) < 0 ||
            apply_group(&f, prefix, r->n_net_prios ? "network.priorities" : NULL, "net_prio", NULL,
                        G_NET_PRIO, r, update, err) < 0 ||
            apply_group(&f, prefix, r->n_rdma ? "rdma" : NULL, "rdma", "rdma", G_RDMA, r, update, err) < 0 ||
            apply_unified(&f, prefix, r->unified, err) < 0)
                ret = -1;
        finder_clear(&f);
        return ret;
}

int cgroup_set(const struct cgroup *cg, const struct res_resources *r, bool update, berth_error **err)
{
        return resources_set(cg, r, update, NULL, err);
}

int cgroup_plan_set(const struct cgroup *cg, const struct res_resources *r, const struct cg_plan *plan,
                    berth_error **err)
{
        return resources_set(cg, r, false, plan, err);
}

static int devices_set(const struct cgroup *cg, const struct res_device_rule *rules, size_t n,
                       const struct cg_plan *plan, berth_error **err)
{
        struct finder f = {.cg = cg, .plan = plan};
        struct found x;
        int ret;
        if (!find(&f, "devices", "", &x))
                ret = error_set(
                        err, 0,
                        "linux.resources.devices: this host has neither a devices controller nor a cgroup2 "
                        "hierarchy");
        else {
                struct cg_target t = {x.dir, x.controller, "linux.resources", plan};
                ret = x.be->devices(&t, rules, n, err);
                found_clear(&x);
        }
        finder_clear(&f);
        return ret;
}

int cgroup_set_devices(const struct cgroup *cg, const struct res_device_rule *rules, size_t n,
                       berth_error **err)
{
        return devices_set(cg, rules, n, NULL, err);
}

int cgroup_plan_devices(const struct cgroup *cg, const struct res_device_rule *rules, size_t n,
                        const struct cg_plan *plan, berth_error **err)
{
        return devices_set(cg, rules, n, plan, err);
}

/* ---- freezer --------------------------------------------------------------------------- */

/* The v1 freezer where the host has one (on hybrid hosts the container's
 * tasks are frozen there, and the cgroup2 side knows nothing of it). */
static bool find_freezer(struct finder *f, struct found *x)
{
        return find(f, "freezer", "", x);
}

int cgroup_freeze(const struct cgroup *cg, bool frozen, berth_error **err)
{
        struct finder f = {.cg = cg};
        struct found x;
        int ret;
        if (!find_freezer(&f, &x))
                ret = error_set(err, ENOTSUP,
                                "this host has neither a freezer controller nor a cgroup2 hierarchy");
        else {
                ret = x.be->freeze(x.dir, frozen, err);
                found_clear(&x);
        }
        finder_clear(&f);
        return ret;
}

bool cgroup_frozen(const struct cgroup *cg)
{
        struct finder f = {.cg = cg};
        struct found x;
        bool frozen = false;
        if (find_freezer(&f, &x)) {
                frozen = x.be->frozen(x.dir);
                found_clear(&x);
        }
        finder_clear(&f);
        return frozen;
}

/* ---- stats ------------------------------------------------------------------------------ */

enum stats_kind { S_CPU, S_THROTTLING, S_CPUSET, S_MEMORY, S_PIDS, S_BLKIO, S_HUGETLB };

/* Every page size the directory has a limit file for (hugetlb.<size>.<limit>,
 * the reservation ones aside), each its own object in `hugetlb`. */
static void stats_hugetlb(const struct cgroup_backend *be, const char *dir, json_t *hugetlb)
{
        DIR *d = opendir(dir);
        if (!d)
                return;
        size_t tail = strlen(be->hugetlb_limit) + 1; /* ".<limit>" */
        struct dirent *e;
        while ((e = readdir(d))) {
                size_t len = strlen(e->d_name);
                if (!str_has_prefix(e->d_name, "hugetlb.") || len <= 8 + tail ||
                    e->d_name[len - tail] != '.' || strcmp(e->d_name + len - tail + 1, be->hugetlb_limit) != 0 ||
                    strstr(e->d_name, ".rsvd."))
                        continue;
                _cleanup_free_ char *size = xstrndup(e->d_name + 8, len - 8 - tail);
                be->stats_hugetlb_size(dir, size, cg_json_obj(hugetlb, size));
        }
        closedir(d);
}

static void stats_of(struct finder *f, const char *v1, const char *v2, enum stats_kind k, json_t *o)
{
        struct found x;
        if (!find(f, v1, v2, &x))
                return;
        const struct cgroup_backend *be = x.be;
        switch (k) {
        case S_CPU:
                be->stats_cpu(x.dir, o);
                break;
        case S_THROTTLING:
                be->stats_throttling(x.dir, o);
                break;
        case S_CPUSET:
                be->stats_cpuset(x.dir, o);
                break;
        case S_MEMORY:
                be->stats_memory(x.dir, o);
                break;
        case S_PIDS:
                be->stats_pids(x.dir, o);
                break;
        case S_BLKIO:
                be->stats_blkio(x.dir, o);
                break;
        case S_HUGETLB:
                stats_hugetlb(be, x.dir, o);
                break;
        }
        found_clear(&x);
}

json_t *cgroup_stats(const struct cgroup *cg)
{
        struct finder f = {.cg = cg};
        json_t *data = json_object();
        json_t *cpu = cg_json_obj(data, "cpu"), *usage = cg_json_obj(cpu, "usage");
        cg_json_obj(cpu, "throttling");
        /* Usage comes from cpuacct on v1 (its own hierarchy on some hosts),
         * from the core cpu.stat on v2. */
        stats_of(&f, "cpuacct", "", S_CPU, cpu);
        stats_of(&f, "cpu", "cpu", S_THROTTLING, cpu);
        json_u64_default(usage, "kernel", 0);
        json_u64_default(usage, "user", 0);
        stats_of(&f, "cpuset", "cpuset", S_CPUSET, cg_json_obj(data, "cpuset"));
        json_t *memory = cg_json_obj(data, "memory");
        static const char *const entries[] = {"usage", "swap", "kernel", "kernelTCP"};
        for (size_t i = 0; i < ARRAY_SIZE(entries); i++)
                cg_json_obj(memory, entries[i]);
        stats_of(&f, "memory", "memory", S_MEMORY, memory);
        for (size_t i = 0; i < ARRAY_SIZE(entries); i++) {
                json_t *e = cg_json_obj(memory, entries[i]);
                json_u64_default(e, "limit", 0);
                json_u64_default(e, "failcnt", 0);
        }
        stats_of(&f, "pids", "pids", S_PIDS, cg_json_obj(data, "pids"));
        stats_of(&f, "blkio", "io", S_BLKIO, cg_json_obj(data, "blkio"));
        stats_of(&f, "hugetlb", "hugetlb", S_HUGETLB, cg_json_obj(data, "hugetlb"));
        cg_json_obj(data, "intel_rdt");
        json_object_set_new(data, "network_interfaces", json_null());
        finder_clear(&f);
        return data;
}

char *cgroup_stats_text(const json_t *data)
{
        char *text = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text)
                abort();
        static const char *const from = ":-9223372036854775808", *const to = ":18446744073709551615";
        size_t n = 0;
        for (const char *p = text; (p = strstr(p, from)); p++)
                n++;
        if (n == 0)
                return text;
        char *out = xmalloc(strlen(text) + n * (strlen(to) - strlen(from)) + 1), *w = out;
        for (const char *p = text, *hit;; p = hit + strlen(from)) {
                hit = strstr(p, from);
                size_t len = hit ? (size_t)(hit - p) : strlen(p);
                memcpy(w, p, len);
                w += len;
                if (!hit)
                        break;
                memcpy(w, to, strlen(to));
                w += strlen(to);
        }
        *w = '\0';
        free(text);
        return out;
}

/* ---- OOM --------------------------------------------------------------------------------- */

uint64_t cgroup_oom_kills(const struct cgroup *cg)
{
        struct finder f = {.cg = cg};
        struct found x;
        uint64_t n = 0;
        if (find(&f, "memory", "memory", &x)) {
                uint64_t ooms;
                if (x.be->oom_counts(x.dir, &n, &ooms) < 0)
                        n = 0;
                found_clear(&x);
        }
        finder_clear(&f);
        return n;
}

int cgroup_oom_watch_open(const struct cgroup *cg, struct cgroup_oom_watch *w, berth_error **err)
{
        struct finder f = {.cg = cg};
        struct found x;
        *w = (struct cgroup_oom_watch){.fd = -1, .aux_fd = -1};
        bool ok = find(&f, "memory", "memory", &x);
        finder_clear(&f);
        if (!ok)
                return error_set(err, ENOTSUP,
                                 "watch for OOM events: the memory controller is not available on "
                                 "this host");
        w->v2 = x.be == &cgroup_v2_backend;
        w->dir = steal_pointer(&x.dir);
        if (x.be->oom_watch(w->dir, &w->fd, &w->aux_fd, err) < 0) {
                cgroup_oom_watch_close(w);
                return -1;
        }
        uint64_t kills = 0, ooms = 0;
        x.be->oom_counts(w->dir, &kills, &ooms);
        w->seen = kills > ooms ? kills : ooms;
        return 0;
}

int cgroup_oom_watch_read(struct cgroup_oom_watch *w)
{
        const struct cgroup_backend *be = w->v2 ? &cgroup_v2_backend : &cgroup_v1_backend;
        uint64_t kills = 0, ooms = 0, events = 0;
        char buf[4096];
        if (w->v2) {
                while (read(w->fd, buf, sizeof buf) > 0)
                        ;
        } else if (read(w->fd, &events, sizeof events) != sizeof events) {
                events = 0;
        }
        /* Gone: v1 signals the eventfd some time after the cgroup is removed,
         * which is no OOM, and nothing can be counted any more. */
        if (be->oom_counts(w->dir, &kills, &ooms) < 0)
                return 0;
        /* The v1 eventfd fires as the OOM starts, before its kill is counted;
         * v2 counts OOMs and kills apart.  What happened is the most any of
         * them says, and what was already reported is not again. */
        uint64_t total = w->seen + events;
        if (kills > total)
                total = kills;
        if (ooms > total)
                total = ooms;
        uint64_t n = total - w->seen;
        w->seen = total;
        return (int)(n > INT32_MAX ? INT32_MAX : n);
}

void cgroup_oom_watch_close(struct cgroup_oom_watch *w)
{
        cleanup_close_(&w->fd);
        cleanup_close_(&w->aux_fd);
        w->fd = w->aux_fd = -1;
        free(w->dir);
        w->dir = NULL;
}
