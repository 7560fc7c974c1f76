/* linux.resources: shape and range checks into struct res_resources.
 *
 * Only what can be judged without the host is checked here (types,
 * ranges, combinations the kernel would refuse anyway); whether this host
 * has a controller or a file is the cgroup code's business. */
#define _GNU_SOURCE
#include "spec_resources.h"

#include <inttypes.h>
#include <string.h>

/* ---- field paths and typed access ---------------------------------------- */

PRINTF(3, 4)
static int res_error(berth_error **err, const char *path, const char *fmt, ...)
{
        _cleanup_free_ char *what = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&what, fmt, ap) < 0)
                what = NULL;
        va_end(ap);
        return error_set(err, 0, "%s: %s", path, what ? what : fmt);
}

/* A member; JSON null counts as absent (Go writes null for nil pointers). */
static json_t *member(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);
        return json_is_null(v) ? NULL : v;
}

/* The getters return 0 when absent, 1 when present and valid, < 0 on error. */

static int get_object(json_t *v, const char *path, json_t **out, berth_error **err)
{
        *out = NULL;
        if (!v)
                return 0;
        if (!json_is_object(v))
                return res_error(err, path, "expected an object");
        *out = v;
        return 1;
}

static int get_array(json_t *v, const char *path, json_t **out, berth_error **err)
{
        *out = NULL;
        if (!v)
                return 0;
        if (!json_is_array(v))
                return res_error(err, path, "expected an array");
        *out = v;
        return 1;
}

static int get_int(json_t *v, const char *path, int64_t min, int64_t max, int64_t *out, berth_error **err)
{
        if (!v)
                return 0;
        /* Integers only: 1e6 in a resources document is a mistake, not a limit. */
        if (!json_is_integer(v))
                return res_error(err, path, "expected an integer");
        json_int_t i = json_integer_value(v);
        if (i < min || i > max)
                return res_error(err, path, "expected an integer between %" PRId64 " and %" PRId64, min, max);
        *out = (int64_t)i;
        return 1;
}

static int get_uint(json_t *v, const char *path, uint64_t max, uint64_t *out, berth_error **err)
{
        if (!v)
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return res_error(err, path, "expected a non-negative integer");
        if ((uint64_t)json_integer_value(v) > max)
                return res_error(err, path, "expected an integer between 0 and %" PRIu64, max);
        *out = (uint64_t)json_integer_value(v);
        return 1;
}

static int get_bool(json_t *v, const char *path, bool *out, berth_error **err)
{
        if (!v)
                return 0;
        if (!json_is_boolean(v))
                return res_error(err, path, "expected a boolean");
        *out = json_is_true(v);
        return 1;
}

static int get_string(json_t *v, const char *path, const char **out, berth_error **err)
{
        if (!v)
                return 0;
        if (!json_is_string(v))
                return res_error(err, path, "expected a string");
        *out = json_string_value(v);
        return 1;
}

/* Field paths live in fixed buffers; one past their size (a device name of
 * hundreds of bytes) is cut short, which only shortens a message. */
PRINTF(3, 4)
static char *bprintf(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        return buf;
}

#define FIELD(buf, parent, key) bprintf(buf, sizeof buf, "%s.%s", parent, key)

/* A byte count: -1 (unlimited) or a positive value; 0 is "unset". */
static int get_bytes(json_t *o, const char *parent, const char *key, struct res_i64 *out, berth_error **err)
{
        char path[256];
        int64_t v = 0;
        int r = get_int(member(o, key), FIELD(path, parent, key), INT64_MIN, INT64_MAX, &v, err);
        if (r <= 0)
                return r;
        if (v < -1)
                return res_error(err, path, "expected -1 (unlimited) or a number of bytes");
        out->set = v != 0;
        out->v = v;
        return 1;
}

/* A uint64 where 0 is "unset"; `max` bounds it. */
static int get_opt_u64(json_t *o, const char *parent, const char *key, uint64_t max, bool zero_is_unset,
                       struct res_u64 *out, berth_error **err)
{
        char path[256];
        uint64_t v = 0;
        int r = get_uint(member(o, key), FIELD(path, parent, key), max, &v, err);
        if (r <= 0)
                return r;
        out->set = !zero_is_unset || v != 0;
        out->v = v;
        return 1;
}

static int get_opt_i64(json_t *o, const char *parent, const char *key, int64_t min, int64_t max,
                       bool zero_is_unset, struct res_i64 *out, berth_error **err)
{
        char path[256];
        int64_t v = 0;
        int r = get_int(member(o, key), FIELD(path, parent, key), min, max, &v, err);
        if (r <= 0)
                return r;
        out->set = !zero_is_unset || v != 0;
        out->v = v;
        return 1;
}

/* ---- memory, cpu, pids ----------------------------------------------------- */

static int parse_memory(json_t *res, const char *parent, struct res_memory *m, berth_error **err)
{
        char path[256];
        char p[256];
        json_t *o;
        int r = get_object(member(res, "memory"), FIELD(path, parent, "memory"), &o, err);
        if (r <= 0)
                return r;
        bprintf(p, sizeof p, "%s", path);
        if (get_bytes(o, p, "limit", &m->limit, err) < 0 ||
            get_bytes(o, p, "reservation", &m->reservation, err) < 0 ||
            get_bytes(o, p, "swap", &m->swap, err) < 0 || get_bytes(o, p, "kernel", &m->kernel, err) < 0 ||
            get_bytes(o, p, "kernelTCP", &m->kernel_tcp, err) < 0 ||
            get_opt_u64(o, p, "swappiness", 100, false, &m->swappiness, err) < 0 ||
            get_bool(member(o, "disableOOMKiller"), FIELD(path, p, "disableOOMKiller"),
                     &m->disable_oom_killer, err) < 0 ||
            get_bool(member(o, "useHierarchy"), FIELD(path, p, "useHierarchy"), &m->use_hierarchy, err) < 0 ||
            get_bool(member(o, "checkBeforeUpdate"), FIELD(path, p, "checkBeforeUpdate"),
                     &m->check_before_update, err) < 0)
                return -1;
        /* The kernel refuses it too, but only after the container exists. */
        if (m->swap.set && m->limit.set && m->swap.v != -1 && (m->limit.v == -1 || m->swap.v < m->limit.v))
                return res_error(err, FIELD(path, p, "swap"),
                                 "must be at least `memory.limit` (it limits memory+swap)");
        return 0;
}

/* cpus/mems lists: digits, ',', '-' only ("0-3,7"); written to cpuset files. */
static int get_cpu_list(json_t *o, const char *parent, const char *key, char **out, berth_error **err)
{
        char path[256];
        const char *s = "";
        int r = get_string(member(o, key), FIELD(path, parent, key), &s, err);
        if (r <= 0 || !*s)
                return r;
        if (s[strspn(s, "0123456789,-")] != '\0')
                return res_error(err, path, "expected a list like `0-3,7`, got `%s`", s);
        *out = xstrdup(s);
        return 1;
}

static int parse_cpu(json_t *res, const char *parent, struct res_cpu *c, berth_error **err)
{
        char path[256], p[256];
        json_t *o;
        int r = get_object(member(res, "cpu"), FIELD(path, parent, "cpu"), &o, err);
        if (r <= 0)
                return r;
        bprintf(p, sizeof p, "%s", path);
        if (get_opt_u64(o, p, "shares", 262144, true, &c->shares, err) < 0 ||
            get_opt_i64(o, p, "quota", -1, INT64_MAX, true, &c->quota, err) < 0 ||
            get_opt_u64(o, p, "period", UINT64_MAX, true, &c->period, err) < 0 ||
            get_opt_u64(o, p, "burst", UINT64_MAX, false, &c->burst, err) < 0 ||
            get_opt_i64(o, p, "realtimeRuntime", -1, INT64_MAX, true, &c->realtime_runtime, err) < 0 ||
            get_opt_u64(o, p, "realtimePeriod", UINT64_MAX, true, &c->realtime_period, err) < 0 ||
            get_opt_i64(o, p, "idle", 0, 1, false, &c->idle, err) < 0 ||
            get_cpu_list(o, p, "cpus", &c->cpus, err) < 0 || get_cpu_list(o, p, "mems", &c->mems, err) < 0)
                return -1;
        if (c->shares.set && c->shares.v < 2)
                return res_error(err, FIELD(path, p, "shares"), "expected an integer between 2 and 262144");
        if (c->burst.set && c->burst.v > 0 && c->quota.set && c->quota.v > 0 &&
            c->burst.v > (uint64_t)c->quota.v)
                return res_error(err, FIELD(path, p, "burst"), "must not be larger than `cpu.quota`");
        return 0;
}

static int parse_pids(json_t *res, const char *parent, struct res_i64 *limit, berth_error **err)
{
        char path[256];
        json_t *o;
        int r = get_object(member(res, "pids"), FIELD(path, parent, "pids"), &o, err);
        if (r <= 0)
                return r;
        char p[256];
        bprintf(p, sizeof p, "%s", path);
        /* runc reads 0 as "unset" and any negative value as "max". */
        r = get_opt_i64(o, p, "limit", INT64_MIN, INT64_MAX, true, limit, err);
        if (r > 0 && limit->v < 0)
                limit->v = -1;
        return r < 0 ? -1 : 0;
}

/* ---- blockIO ---------------------------------------------------------------- */

static int get_major_minor(json_t *o, const char *p, int64_t *major, int64_t *minor, berth_error **err)
{
        char path[256];
        int r = get_int(member(o, "major"), FIELD(path, p, "major"), 0, UINT32_MAX, major, err);
        if (r == 0)
                return res_error(err, path, "required");
        if (r < 0)
                return -1;
        r = get_int(member(o, "minor"), FIELD(path, p, "minor"), 0, UINT32_MAX, minor, err);
        if (r == 0)
                return res_error(err, path, "required");
        return r < 0 ? -1 : 0;
}

static int parse_weight_devices(json_t *blk, const char *parent, struct res_blkio *b, berth_error **err)
{
        char path[256], p[256];
        json_t *arr, *item;
        size_t i;
        int r = get_array(member(blk, "weightDevice"), FIELD(path, parent, "weightDevice"), &arr, err);
        if (r <= 0)
                return r;
        b->weight_devices = xzalloc((json_array_size(arr) + 1) * sizeof *b->weight_devices);
        json_array_foreach(arr, i, item)
        {
                struct res_weight_device *d = &b->weight_devices[i];
                bprintf(p, sizeof p, "%s.weightDevice[%zu]", parent, i);
                b->n_weight_devices = i + 1;
                if (!json_is_object(item))
                        return res_error(err, p, "expected an object");
                if (get_major_minor(item, p, &d->major, &d->minor, err) < 0 ||
                    get_opt_u64(item, p, "weight", 1000, true, &d->weight, err) < 0 ||
                    get_opt_u64(item, p, "leafWeight", 1000, true, &d->leaf_weight, err) < 0)
                        return -1;
                if ((d->weight.set && d->weight.v < 10) || (d->leaf_weight.set && d->leaf_weight.v < 10))
                        return res_error(err, p, "weights must be between 10 and 1000");
                if (!d->weight.set && !d->leaf_weight.set)
                        return res_error(err, p, "needs `weight` or `leafWeight`");
        }
        return 0;
}

static const char *const throttle_keys[RES_THROTTLE_COUNT] = {
        [RES_THROTTLE_READ_BPS] = "throttleReadBpsDevice",
        [RES_THROTTLE_WRITE_BPS] = "throttleWriteBpsDevice",
        [RES_THROTTLE_READ_IOPS] = "throttleReadIOPSDevice",
        [RES_THROTTLE_WRITE_IOPS] = "throttleWriteIOPSDevice",
};

static int parse_throttle(json_t *blk, const char *parent, enum res_throttle t, struct res_blkio *b,
                          berth_error **err)
{
        char path[256], p[256];
        json_t *arr, *item;
        size_t i;
        int r = get_array(member(blk, throttle_keys[t]), FIELD(path, parent, throttle_keys[t]), &arr, err);
        if (r <= 0)
                return r;
        b->throttle[t] = xzalloc((json_array_size(arr) + 1) * sizeof *b->throttle[t]);
        json_array_foreach(arr, i, item)
        {
                struct res_throttle_device *d = &b->throttle[t][i];
                bprintf(p, sizeof p, "%s.%s[%zu]", parent, throttle_keys[t], i);
                b->n_throttle[t] = i + 1;
                if (!json_is_object(item))
                        return res_error(err, p, "expected an object");
                if (get_major_minor(item, p, &d->major, &d->minor, err) < 0)
                        return -1;
                r = get_uint(member(item, "rate"), FIELD(path, p, "rate"), UINT64_MAX, &d->rate, err);
                if (r == 0)
                        return res_error(err, path, "required");
                if (r < 0)
                        return -1;
        }
        return 0;
}

static int parse_blkio(json_t *res, const char *parent, struct res_blkio *b, berth_error **err)
{
        char path[256], p[256];
        json_t *o;
        int r = get_object(member(res, "blockIO"), FIELD(path, parent, "blockIO"), &o, err);
        if (r <= 0)
                return r;
        bprintf(p, sizeof p, "%s", path);
        if (get_opt_u64(o, p, "weight", 1000, true, &b->weight, err) < 0 ||
            get_opt_u64(o, p, "leafWeight", 1000, true, &b->leaf_weight, err) < 0)
                return -1;
        if (b->weight.set && b->weight.v < 10)
                return res_error(err, FIELD(path, p, "weight"), "expected an integer between 10 and 1000");
        if (b->leaf_weight.set && b->leaf_weight.v < 10)
                return res_error(err, FIELD(path, p, "leafWeight"),
                                 "expected an integer between 10 and 1000");
        if (parse_weight_devices(o, p, b, err) < 0)
                return -1;
        for (int t = 0; t < RES_THROTTLE_COUNT; t++)
                if (parse_throttle(o, p, (enum res_throttle)t, b, err) < 0)
                        return -1;
        return 0;
}

/* ---- hugepages, network, rdma ---------------------------------------------- */

/* "2MB", "64KB", "1GB": the size as the hugetlb files name it. */
static bool page_size_valid(const char *s)
{
        size_t digits = strspn(s, "0123456789");
        if (digits == 0 || s[0] == '0')
                return false;
        return strcmp(s + digits, "KB") == 0 || strcmp(s + digits, "MB") == 0 ||
               strcmp(s + digits, "GB") == 0;
}

static int parse_hugepages(json_t *res, const char *parent, struct res_resources *r, berth_error **err)
{
        char path[256], p[256];
        json_t *arr, *item;
        size_t i;
        int rc = get_array(member(res, "hugepageLimits"), FIELD(path, parent, "hugepageLimits"), &arr, err);
        if (rc <= 0)
                return rc;
        r->hugepages = xzalloc((json_array_size(arr) + 1) * sizeof *r->hugepages);
        json_array_foreach(arr, i, item)
        {
                struct res_hugepage *h = &r->hugepages[i];
                const char *size = "";
                bprintf(p, sizeof p, "%s.hugepageLimits[%zu]", parent, i);
                r->n_hugepages = i + 1;
                if (!json_is_object(item))
                        return res_error(err, p, "expected an object");
                rc = get_string(member(item, "pageSize"), FIELD(path, p, "pageSize"), &size, err);
                if (rc == 0)
                        return res_error(err, path, "required");
                if (rc < 0)
                        return -1;
                if (!page_size_valid(size))
                        return res_error(err, path, "expected a size like `2MB` or `1GB`, got `%s`", size);
                h->page_size = xstrdup(size);
                rc = get_uint(member(item, "limit"), FIELD(path, p, "limit"), UINT64_MAX, &h->limit, err);
                if (rc == 0)
                        return res_error(err, path, "required");
                if (rc < 0)
                        return -1;
        }
        return 0;
}

static int parse_network(json_t *res, const char *parent, struct res_resources *r, berth_error **err)
{
        char path[256], p[256];
        json_t *o, *arr, *item;
        size_t i;
        int rc = get_object(member(res, "network"), FIELD(path, parent, "network"), &o, err);
        if (rc <= 0)
                return rc;
        bprintf(p, sizeof p, "%s", path);
        if (get_opt_u64(o, p, "classID", UINT32_MAX, true, &r->net_class_id, err) < 0 ||
            get_array(member(o, "priorities"), FIELD(path, p, "priorities"), &arr, err) < 0)
                return -1;
        r->net_prios = xzalloc((json_array_size(arr) + 1) * sizeof *r->net_prios);
        json_array_foreach(arr, i, item)
        {
                struct res_net_prio *n = &r->net_prios[i];
                const char *name = "";
                uint64_t prio = 0;
                bprintf(p, sizeof p, "%s.network.priorities[%zu]", parent, i);
                r->n_net_prios = i + 1;
                if (!json_is_object(item))
                        return res_error(err, p, "expected an object");
                rc = get_string(member(item, "name"), FIELD(path, p, "name"), &name, err);
                if (rc == 0 || (rc > 0 && (!*name || strpbrk(name, " \n/"))))
                        return res_error(err, path, "expected an interface name");
                if (rc < 0)
                        return -1;
                n->name = xstrdup(name);
                rc = get_uint(member(item, "priority"), FIELD(path, p, "priority"), UINT32_MAX, &prio, err);
                if (rc == 0)
                        return res_error(err, path, "required");
                if (rc < 0)
                        return -1;
                n->priority = (uint32_t)prio;
        }
        return 0;
}

static int parse_rdma(json_t *res, const char *parent, struct res_resources *r, berth_error **err)
{
        char path[256], p[256];
        json_t *o, *item;
        const char *key;
        int rc = get_object(member(res, "rdma"), FIELD(path, parent, "rdma"), &o, err);
        if (rc <= 0)
                return rc;
        r->rdma = xzalloc((json_object_size(o) + 1) * sizeof *r->rdma);
        json_object_foreach(o, key, item)
        {
                struct res_rdma *d = &r->rdma[r->n_rdma++];
                bprintf(p, sizeof p, "%s.rdma.%s", parent, key);
                d->device = xstrdup(key);
                if (!*key || strpbrk(key, " \n/"))
                        return res_error(err, p, "expected a device name");
                if (!json_is_object(item))
                        return res_error(err, p, "expected an object");
                if (get_opt_u64(item, p, "hcaHandles", UINT32_MAX, false, &d->hca_handles, err) < 0 ||
                    get_opt_u64(item, p, "hcaObjects", UINT32_MAX, false, &d->hca_objects, err) < 0)
                        return -1;
                if (!d->hca_handles.set && !d->hca_objects.set)
                        return res_error(err, p, "needs `hcaHandles` or `hcaObjects`");
        }
        return 0;
}

/* ---- devices, unified ------------------------------------------------------- */

static int parse_device_rule(json_t *item, const char *p, struct res_device_rule *d, berth_error **err)
{
        char path[256];
        const char *type = "a", *access = "rwm";
        if (!json_is_object(item))
                return res_error(err, p, "expected an object");
        int r = get_bool(member(item, "allow"), FIELD(path, p, "allow"), &d->allow, err);
        if (r == 0)
                return res_error(err, path, "required");
        if (r < 0 || get_string(member(item, "type"), FIELD(path, p, "type"), &type, err) < 0)
                return -1;
        if (!*type)
                type = "a";
        if (strlen(type) != 1 || !strchr("acb", type[0]))
                return res_error(err, path, "expected `a`, `c` or `b`, got `%s`", type);
        d->type = type[0];
        d->major = d->minor = -1;
        if (get_int(member(item, "major"), FIELD(path, p, "major"), -1, UINT32_MAX, &d->major, err) < 0 ||
            get_int(member(item, "minor"), FIELD(path, p, "minor"), -1, UINT32_MAX, &d->minor, err) < 0 ||
            get_string(member(item, "access"), FIELD(path, p, "access"), &access, err) < 0)
                return -1;
        if (!*access)
                access = "rwm";
        size_t n = strlen(access);
        if (n > 3 || access[strspn(access, "rwm")] != '\0' || (n > 1 && access[0] == access[1]) ||
            (n > 2 && (access[0] == access[2] || access[1] == access[2])))
                return res_error(err, FIELD(path, p, "access"), "expected letters of `rwm`, got `%s`",
                                 access);
        memcpy(d->access, access, n + 1);
        return 0;
}

static int parse_devices(json_t *res, const char *parent, struct res_resources *r, berth_error **err)
{
        char path[256], p[256];
        json_t *arr, *item;
        size_t i;
        int rc = get_array(member(res, "devices"), FIELD(path, parent, "devices"), &arr, err);
        if (rc <= 0)
                return rc;
        r->has_devices = true;
        r->devices = xzalloc((json_array_size(arr) + 1) * sizeof *r->devices);
        json_array_foreach(arr, i, item)
        {
                bprintf(p, sizeof p, "%s.devices[%zu]", parent, i);
                r->n_devices = i + 1;
                if (parse_device_rule(item, p, &r->devices[i], err) < 0)
                        return -1;
        }
        return 0;
}

/* Keys name files of the container's cgroup2 directory: one component,
 * `<controller>.<name>`, never the files that move processes or change
 * the tree's shape. */
static int check_unified_key(const char *key, const char *p, berth_error **err)
{
        static const char *const refused[] = {"cgroup.procs", "cgroup.threads", "cgroup.subtree_control",
                                              "cgroup.type",  "cgroup.kill",    "cgroup.freeze"};
        const char *dot = strchr(key, '.');
        if (!dot || dot == key || !dot[1] || strchr(key, '/') || strcmp(key, ".") == 0 ||
            strcmp(key, "..") == 0)
                return res_error(err, p, "expected a cgroup file name like `memory.high`");
        for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
                if (strcmp(key, refused[i]) == 0)
                        return res_error(err, p, "`%s` is managed by berth", key);
        return 0;
}

static int parse_unified(json_t *res, const char *parent, struct res_resources *r, berth_error **err)
{
        char path[256], p[512];
        json_t *o, *v;
        const char *key;
        size_t n = 0;
        int rc = get_object(member(res, "unified"), FIELD(path, parent, "unified"), &o, err);
        if (rc <= 0 || json_object_size(o) == 0)
                return rc < 0 ? -1 : 0;
        r->unified = xzalloc(sizeof *r->unified);
        json_object_foreach(o, key, v)
        {
                bprintf(p, sizeof p, "%s.unified.%s", parent, key);
                if (check_unified_key(key, p, err) < 0)
                        return -1;
                if (!json_is_string(v))
                        return res_error(err, p, "expected a string");
                strv_push(&r->unified, &n, key);
                strv_push(&r->unified, &n, json_string_value(v));
        }
        return 0;
}

/* ---- whole object ------------------------------------------------------------ */

int res_parse(json_t *v, const char *path, struct res_resources *out, berth_error **err)
{
        json_t *res;
        memset(out, 0, sizeof *out);
        int r = get_object(v, path, &res, err);
        if (r <= 0)
                return r;
        if (parse_memory(res, path, &out->memory, err) < 0 || parse_cpu(res, path, &out->cpu, err) < 0 ||
            parse_pids(res, path, &out->pids_limit, err) < 0 ||
            parse_blkio(res, path, &out->blkio, err) < 0 || parse_hugepages(res, path, out, err) < 0 ||
            parse_network(res, path, out, err) < 0 || parse_rdma(res, path, out, err) < 0 ||
            parse_devices(res, path, out, err) < 0 || parse_unified(res, path, out, err) < 0)
                return -1;
        return 0;
}

int res_parse_text(const char *text, const char *name, struct res_resources *out, berth_error **err)
{
        json_error_t jerr;
        memset(out, 0, sizeof *out);
        json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc)
                return error_set(err, 0, "%s: line %d, column %d: %s", name, jerr.line, jerr.column,
                                 jerr.text);
        int r = 0;
        if (!json_is_object(doc))
                r = error_set(err, 0, "%s: expected a JSON object", name);
        else if (res_parse(doc, "linux.resources", out, err) < 0)
                r = -1;
        json_decref(doc);
        return r;
}

void res_clear(struct res_resources *r)
{
        free(r->cpu.cpus);
        free(r->cpu.mems);
        free(r->blkio.weight_devices);
        for (int t = 0; t < RES_THROTTLE_COUNT; t++)
                free(r->blkio.throttle[t]);
        for (size_t i = 0; i < r->n_hugepages; i++)
                free(r->hugepages[i].page_size);
        free(r->hugepages);
        for (size_t i = 0; i < r->n_net_prios; i++)
                free(r->net_prios[i].name);
        free(r->net_prios);
        for (size_t i = 0; i < r->n_rdma; i++)
                free(r->rdma[i].device);
        free(r->rdma);
        free(r->devices);
        strv_free(r->unified);
        memset(r, 0, sizeof *r);
}

/* ---- v1 → v2 conversions -------------------------------------------------- */

/* log2 and 10^y for the one formula below, without libm: linking libm
 * cost every berth process about 330 KiB of resident pages.  Accurate to a
 * few units in the last place; tests/unit/test_cgroup_v2.c checks that
 * every shares value converts exactly as with libm. */
#define LN2 0.69314718055994530942
#define LN10 2.30258509299404568402

static double ln_1_2(double m) /* ln(m) for m in [1, 2): 2 atanh((m-1)/(m+1)) */
{
        double s = (m - 1) / (m + 1), s2 = s * s, term = s, sum = 0;
        for (int k = 1; k < 64; k += 2, term *= s2)
                sum += term / k;
        return 2 * sum;
}

static double log2_u64(uint64_t n) /* n > 0; exact for powers of two */
{
        int k = 63 - __builtin_clzll(n);
        return k + ln_1_2((double)n / (double)(1ULL << k)) / LN2;
}

static double exp10_nonneg(double y) /* 10^y for 0 <= y < 20; exact for integers */
{
        int whole = (int)y;
        double p = 1, z = (y - whole) * LN10, term = 1, sum = 1;
        for (int i = 0; i < whole; i++)
                p *= 10;
        for (int n = 1; n < 40 && term != 0; n++) {
                term *= z / n;
                sum += term;
        }
        return p * sum;
}

uint64_t res_cpu_shares_to_weight(uint64_t shares)
{
        if (shares == 0)
                return 0;
        if (shares <= 2)
                return 1;
        if (shares >= 262144)
                return 10000;
        /* A quadratic in log2(shares) through (2, 1), (1024, 100) and
         * (262144, 10000), so that both defaults map onto each other. */
        double l = log2_u64(shares);
        double y = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
        double v = exp10_nonneg(y > 0 ? y : 0);
        uint64_t w = (uint64_t)v;
        w += (double)w < v; /* ceil */
        return w < 1 ? 1 : w > 10000 ? 10000 : w;
}

uint64_t res_blkio_weight_to_io_weight(uint64_t weight)
{
        if (weight == 0)
                return 0;
        return 1 + (weight - 10) * 9999 / 990;
}

int res_swap_to_v2(int64_t swap, int64_t limit, const char *path, int64_t *out, berth_error **err)
{
        if (swap == -1) {
                *out = -1;
                return 0;
        }
        if (limit <= 0)
                return res_error(err, path, "cannot limit swap without a memory limit");
        if (swap < limit)
                return res_error(err, path, "must be at least the memory limit (it limits memory+swap)");
        *out = swap - limit;
        return 0;
}
