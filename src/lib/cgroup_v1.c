/* The cgroup v1 backend: one directory per controller hierarchy, files
 * named after the controller (memory.limit_in_bytes, cpu.cfs_quota_us, ...). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

#include "cgroup_backend.h"

/* What v1 reads back for "no limit" is PAGE_COUNTER_MAX pages: anything this
 * large is unlimited. */
#define V1_UNLIMITED (1ULL << 62)
#define FREEZE_WAIT_NS 5000000000LL

static int write_i64(const struct cg_target *t, const char *field, const char *file, int64_t v,
                     berth_error **err)
{
        return cg_writef(t, field, file, err, "%" PRId64, v);
}

/* ---- memory ------------------------------------------------------------- */

/* memory.memsw.limit_in_bytes (memory+swap) must never be below
 * memory.limit_in_bytes, before or after each write: raise memsw first when
 * it grows, lower the limit first otherwise. */
static int memory_limits(const struct cg_target *t, const struct res_memory *m, berth_error **err)
{
        struct res_i64 limit = m->limit, swap = m->swap;
        bool have_memsw = cg_exists(t->dir, "memory.memsw.limit_in_bytes");
        /* "Unlimited memory" with no word on swap means unlimited swap too, as
         * runc reads it; the kernel would refuse the limit otherwise. */
        if (limit.set && limit.v == -1 && !swap.set && have_memsw)
                swap = (struct res_i64){true, -1};
        bool swap_first = false;
        if (swap.set && have_memsw) {
                uint64_t cur = 0;
                swap_first = cg_read_u64(t->dir, "memory.memsw.limit_in_bytes", &cur) == 0 &&
                             (swap.v == -1 || (uint64_t)swap.v > cur);
        }
        if (swap.set && swap_first &&
            write_i64(t, "memory.swap", "memory.memsw.limit_in_bytes", swap.v, err) < 0)
                return -1;
        if (limit.set && write_i64(t, "memory.limit", "memory.limit_in_bytes", limit.v, err) < 0)
                return -1;
        if (swap.set && !swap_first) {
                if (!have_memsw)
                        return cg_fail(
                                err, t, "memory.swap", 0,
                                "the memory controller has no `memory.memsw.limit_in_bytes` on this host "
                                "(swap accounting is off)");
                if (write_i64(t, "memory.swap", "memory.memsw.limit_in_bytes", swap.v, err) < 0)
                        return -1;
        }
        return 0;
}

/* Kernels since 5.16 accept writes to memory.kmem.limit_in_bytes and ignore
 * them; read back so that a limit that will not be enforced is an error. */
static int memory_kernel(const struct cg_target *t, int64_t v, berth_error **err)
{
        if (write_i64(t, "memory.kernel", "memory.kmem.limit_in_bytes", v, err) < 0)
                return -1;
        uint64_t now = 0;
        if (v != -1 && !t->plan && cg_read_u64(t->dir, "memory.kmem.limit_in_bytes", &now) == 0 &&
            now >= V1_UNLIMITED)
                return cg_fail(
                        err, t, "memory.kernel", 0,
                        "this kernel ignores `memory.kmem.limit_in_bytes` (kernel memory limits are gone)");
        return 0;
}

static int v1_memory(const struct cg_target *t, const struct res_memory *m, bool update, berth_error **err)
{
        if (update && m->check_before_update && m->limit.set && m->limit.v > 0) {
                uint64_t usage = 0;
                if (cg_read_u64(t->dir, "memory.usage_in_bytes", &usage) == 0 && (uint64_t)m->limit.v < usage)
                        return cg_fail(err, t, "memory.limit", 0,
                                       "%" PRId64 " is below the container's memory usage (%" PRIu64 ")",
                                       m->limit.v, usage);
        }
        if (memory_limits(t, m, err) < 0)
                return -1;
        if (m->reservation.set &&
            write_i64(t, "memory.reservation", "memory.soft_limit_in_bytes", m->reservation.v, err) < 0)
                return -1;
        if (m->kernel.set && memory_kernel(t, m->kernel.v, err) < 0)
                return -1;
        if (m->kernel_tcp.set &&
            write_i64(t, "memory.kernelTCP", "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp.v, err) < 0)
                return -1;
        if (m->swappiness.set &&
            cg_writef(t, "memory.swappiness", "memory.swappiness", err, "%" PRIu64, m->swappiness.v) < 0)
                return -1;
        if (m->disable_oom_killer &&
            cg_write(t, "memory.disableOOMKiller", "memory.oom_control", "1", err) < 0)
                return -1;
        if (m->use_hierarchy && cg_write(t, "memory.useHierarchy", "memory.use_hierarchy", "1", err) < 0)
                return -1;
        return 0;
}

/* ---- cpu, cpuset, pids ---------------------------------------------------- */

/* The kernel checks burst against the quota in force: write the burst first
 * unless it would exceed the current quota. */
static int cpu_quota_burst(const struct cg_target *t, const struct res_cpu *c, berth_error **err)
{
        bool burst_first = false;
        if (c->burst.set) {
                uint64_t cur = 0;
                int r = cg_read_u64(t->dir, "cpu.cfs_quota_us", &cur);
                /* cfs_quota_us reads -1 (as a huge unsigned) when unlimited. */
                burst_first = r == 0 && (cur > INT64_MAX || c->burst.v <= cur) &&
                              !(c->quota.set && c->quota.v == -1);
        }
        if (c->burst.set && burst_first &&
            cg_writef(t, "cpu.burst", "cpu.cfs_burst_us", err, "%" PRIu64, c->burst.v) < 0)
                return -1;
        if (c->quota.set && write_i64(t, "cpu.quota", "cpu.cfs_quota_us", c->quota.v, err) < 0)
                return -1;
        if (c->burst.set && !burst_first &&
            cg_writef(t, "cpu.burst", "cpu.cfs_burst_us", err, "%" PRIu64, c->burst.v) < 0)
                return -1;
        return 0;
}

/* rt_runtime_us must fit in rt_period_us at every step. */
static int cpu_realtime(const struct cg_target *t, const struct res_cpu *c, berth_error **err)
{
        uint64_t cur_runtime = 0;
        bool runtime_first = c->realtime_period.set && c->realtime_runtime.set &&
                             cg_read_u64(t->dir, "cpu.rt_runtime_us", &cur_runtime) == 0 &&
                             cur_runtime > c->realtime_period.v;
        if (runtime_first &&
            write_i64(t, "cpu.realtimeRuntime", "cpu.rt_runtime_us", c->realtime_runtime.v, err) < 0)
                return -1;
        if (c->realtime_period.set &&
            cg_writef(t, "cpu.realtimePeriod", "cpu.rt_period_us", err, "%" PRIu64, c->realtime_period.v) < 0)
                return -1;
        if (c->realtime_runtime.set && !runtime_first &&
            write_i64(t, "cpu.realtimeRuntime", "cpu.rt_runtime_us", c->realtime_runtime.v, err) < 0)
                return -1;
        return 0;
}

static int v1_cpu(const struct cg_target *t, const struct res_cpu *c, berth_error **err)
{
        if (c->shares.set && cg_writef(t, "cpu.shares", "cpu.shares", err, "%" PRIu64, c->shares.v) < 0)
                return -1;
        if (c->period.set &&
            cg_writef(t, "cpu.period", "cpu.cfs_period_us", err, "%" PRIu64, c->period.v) < 0)
                return -1;
        if (cpu_quota_burst(t, c, err) < 0 || cpu_realtime(t, c, err) < 0)
                return -1;
        if (c->idle.set && write_i64(t, "cpu.idle", "cpu.idle", c->idle.v, err) < 0)
                return -1;
        return 0;
}

static int v1_cpuset(const struct cg_target *t, const struct res_cpu *c, berth_error **err)
{
        if (c->cpus && cg_write(t, "cpu.cpus", "cpuset.cpus", c->cpus, err) < 0)
                return -1;
        if (c->mems && cg_write(t, "cpu.mems", "cpuset.mems", c->mems, err) < 0)
                return -1;
        return 0;
}

/* ---- blkio ----------------------------------------------------------------- */

/* CFQ named it blkio.weight; with BFQ it is blkio.bfq.weight. */
static const char *weight_file(const char *dir, const char *cfq, const char *bfq)
{
        return cg_exists(dir, cfq) || !cg_exists(dir, bfq) ? cfq : bfq;
}

static int blkio_weights(const struct cg_target *t, const struct res_blkio *b, berth_error **err)
{
        if (b->weight.set &&
            cg_writef(t, "blockIO.weight", weight_file(t->dir, "blkio.weight", "blkio.bfq.weight"), err,
                      "%" PRIu64, b->weight.v) < 0)
                return -1;
        if (b->leaf_weight.set &&
            cg_writef(t, "blockIO.leafWeight", "blkio.leaf_weight", err, "%" PRIu64, b->leaf_weight.v) < 0)
                return -1;
        const char *wfile = weight_file(t->dir, "blkio.weight_device", "blkio.bfq.weight_device");
        for (size_t i = 0; i < b->n_weight_devices; i++) {
                const struct res_weight_device *d = &b->weight_devices[i];
                char field[64];
                snprintf(field, sizeof field, "blockIO.weightDevice[%zu]", i);
                if (d->weight.set && cg_writef(t, field, wfile, err, "%" PRId64 ":%" PRId64 " %" PRIu64,
                                               d->major, d->minor, d->weight.v) < 0)
                        return -1;
                if (d->leaf_weight.set &&
                    cg_writef(t, field, "blkio.leaf_weight_device", err, "%" PRId64 ":%" PRId64 " %" PRIu64,
                              d->major, d->minor, d->leaf_weight.v) < 0)
                        return -1;
        }
        return 0;
}

static int v1_blkio(const struct cg_target *t, const struct res_blkio *b, berth_error **err)
{
        static const char *const files[RES_THROTTLE_COUNT] = {
                [RES_THROTTLE_READ_BPS] = "blkio.throttle.read_bps_device",
                [RES_THROTTLE_WRITE_BPS] = "blkio.throttle.write_bps_device",
                [RES_THROTTLE_READ_IOPS] = "blkio.throttle.read_iops_device",
                [RES_THROTTLE_WRITE_IOPS] = "blkio.throttle.write_iops_device",
        };
        static const char *const keys[RES_THROTTLE_COUNT] = {
                "throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice",
                "throttleWriteIOPSDevice"};
        if (blkio_weights(t, b, err) < 0)
                return -1;
        for (int k = 0; k < RES_THROTTLE_COUNT; k++)
                for (size_t i = 0; i < b->n_throttle[k]; i++) {
                        const struct res_throttle_device *d = &b->throttle[k][i];
                        char field[64];
                        snprintf(field, sizeof field, "blockIO.%s[%zu]", keys[k], i);
                        if (cg_writef(t, field, files[k], err, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major,
                                      d->minor, d->rate) < 0)
                                return -1;
                }
        return 0;
}

/* ---- hugetlb, net_cls, net_prio --------------------------------------- */

static int v1_hugetlb(const struct cg_target *t, const struct res_hugepage *h, size_t n, berth_error **err)
{
        return cg_hugetlb(t, h, n, "limit_in_bytes", err);
}

static int v1_net_cls(const struct cg_target *t, uint32_t class_id, berth_error **err)
{
        return cg_writef(t, "network.classID", "net_cls.classid", err, "%" PRIu32, class_id);
}

static int v1_net_prio(const struct cg_target *t, const struct res_net_prio *p, size_t n, berth_error **err)
{
        for (size_t i = 0; i < n; i++) {
                char field[64];
                snprintf(field, sizeof field, "network.priorities[%zu]", i);
                if (cg_writef(t, field, "net_prio.ifpriomap", err, "%s %" PRIu32, p[i].name, p[i].priority) <
                    0)
                        return -1;
        }
        return 0;
}

/* ---- devices ----------------------------------------------------------------- */

/* Applied in order, each rule one write: the kernel's own list semantics
 * (a deny of `a` empties the list and denies by default) are the spec's.
 * A container's list is a dozen rules: each file is opened once. */
static int v1_devices(const struct cg_target *t, const struct res_device_rule *r, size_t n, berth_error **err)
{
        _cleanup_close_ int allow = -1, deny = -1;
        for (size_t i = 0; i < n; i++) {
                char field[64], rule[80], major[24] = "*", minor[24] = "*";
                snprintf(field, sizeof field, "devices[%zu]", i);
                if (r[i].type == 'a') {
                        snprintf(rule, sizeof rule, "a");
                } else {
                        if (r[i].major >= 0)
                                snprintf(major, sizeof major, "%" PRId64, r[i].major);
                        if (r[i].minor >= 0)
                                snprintf(minor, sizeof minor, "%" PRId64, r[i].minor);
                        snprintf(rule, sizeof rule, "%c %s:%s %s", r[i].type, major, minor, r[i].access);
                }
                int *fd = r[i].allow ? &allow : &deny;
                if (cg_write_fd(t, fd, field, r[i].allow ? "devices.allow" : "devices.deny", rule, err) < 0)
                        return -1;
        }
        return 0;
}

/* ---- freezer --------------------------------------------------------------- */

/* FROZEN is reached through FREEZING, which can stall while a task is in an
 * uninterruptible sleep; writing FROZEN again retries the stragglers. */
static int v1_freeze(const char *dir, bool frozen, berth_error **err)
{
        const char *want = frozen ? "FROZEN" : "THAWED";
        struct cg_target t = {dir, "freezer", NULL, NULL};
        long long deadline = monotonic_ns() + FREEZE_WAIT_NS;
        long delay = 100000;
        for (;;) {
                if (cg_write(&t, NULL, "freezer.state", want, err) < 0)
                        return -1;
                _cleanup_free_ char *state = cg_read(dir, "freezer.state");
                if (state && str_has_prefix(state, want))
                        return 0;
                if (monotonic_ns() > deadline)
                        return error_set(err, EBUSY, "%s cgroup `%s`: still %.*s", frozen ? "freeze" : "thaw",
                                         dir, state ? (int)strcspn(state, "\n") : 7,
                                         state ? state : "unknown");
                struct timespec ts = {0, delay};
                nanosleep(&ts, NULL);
                if (delay < 50000000)
                        delay *= 2;
        }
}

static bool v1_frozen(const char *dir)
{
        _cleanup_free_ char *state = cg_read(dir, "freezer.state");
        /* FREEZING counts: the tasks are on their way and not running user code. */
        return state && (str_has_prefix(state, "FROZEN") || str_has_prefix(state, "FREEZING"));
}

/* ---- stats --------------------------------------------------------------- */

/* "a b c" numbers into a JSON array; NULL when the file is missing. */
static json_t *u64_list(const char *dir, const char *file)
{
        _cleanup_free_ char *text = cg_read(dir, file);
        if (!text)
                return NULL;
        json_t *a = json_array();
        for (char *p = text, *end;; p = end) {
                unsigned long long v = strtoull(p, &end, 10);
                if (end == p)
                        break;
                json_array_append_new(a, json_integer(v > INT64_MAX ? -1 : (json_int_t)v));
        }
        return a;
}

static void v1_stats_cpu(const char *dir, json_t *cpu)
{
        json_t *usage = cg_json_obj(cpu, "usage");
        uint64_t v = 0;
        if (cg_read_u64(dir, "cpuacct.usage", &v) == 0)
                cg_json_u64_omit(usage, "total", v);
        static const char *const lists[][2] = {{"percpu", "cpuacct.usage_percpu"},
                                               {"percpu_kernel", "cpuacct.usage_percpu_sys"},
                                               {"percpu_user", "cpuacct.usage_percpu_user"}};
        for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
                json_t *a = u64_list(dir, lists[i][1]);
                if (a && json_array_size(a) > 0)
                        json_object_set_new(usage, lists[i][0], a);
                else
                        json_decref(a);
        }
        /* cpuacct.stat counts USER_HZ ticks; runc reports nanoseconds. */
        _cleanup_free_ char *stat = cg_read(dir, "cpuacct.stat");
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t ns_per_tick = hz > 0 ? 1000000000ULL / (uint64_t)hz : 10000000ULL;
        if (stat && cg_keyed(stat, "system", &v))
                cg_json_u64(usage, "kernel", v * ns_per_tick);
        if (stat && cg_keyed(stat, "user", &v))
                cg_json_u64(usage, "user", v * ns_per_tick);
}

static void v1_stats_throttling(const char *dir, json_t *cpu)
{
        _cleanup_free_ char *stat = cg_read(dir, "cpu.stat");
        json_t *th = cg_json_obj(cpu, "throttling");
        uint64_t v;
        if (stat && cg_keyed(stat, "nr_periods", &v))
                cg_json_u64_omit(th, "periods", v);
        if (stat && cg_keyed(stat, "nr_throttled", &v))
                cg_json_u64_omit(th, "throttledPeriods", v);
        if (stat && cg_keyed(stat, "throttled_time", &v))
                cg_json_u64_omit(th, "throttledTime", v);
}

static void v1_stats_cpuset(const char *dir, json_t *cpuset)
{
        static const char *const flags[][2] = {
                {"cpu_exclusive", "cpuset.cpu_exclusive"},
                {"mem_hardwall", "cpuset.mem_hardwall"},
                {"mem_exclusive", "cpuset.mem_exclusive"},
                {"memory_migrate", "cpuset.memory_migrate"},
                {"memory_spread_page", "cpuset.memory_spread_page"},
                {"memory_spread_slab", "cpuset.memory_spread_slab"},
                {"memory_pressure", "cpuset.memory_pressure"},
                {"sched_load_balance", "cpuset.sched_load_balance"},
                {"sched_relax_domain_level", "cpuset.sched_relax_domain_level"},
        };
        _cleanup_free_ char *cpus = cg_read(dir, "cpuset.cpus");
        _cleanup_free_ char *mems = cg_read(dir, "cpuset.mems");
        json_t *a = cg_cpu_list_json(cpus);
        json_object_set_new(cpuset, "cpus", a);
        json_object_set_new(cpuset, "mems", cg_cpu_list_json(mems));
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
                _cleanup_free_ char *v = cg_read(dir, flags[i][1]);
                json_object_set_new(cpuset, flags[i][0], json_integer(v ? strtoll(v, NULL, 10) : 0));
        }
}

/* One of runc's MemoryEntry objects from `<prefix>.{usage_in_bytes,...}`. */
static void memory_entry(const char *dir, const char *prefix, json_t *e)
{
        /* runc's order; usage and max are left out when zero. */
        static const char *const parts[][2] = {{"limit", "limit_in_bytes"},
                                               {"usage", "usage_in_bytes"},
                                               {"max", "max_usage_in_bytes"},
                                               {"failcnt", "failcnt"}};
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                char file[96];
                uint64_t v = 0;
                snprintf(file, sizeof file, "%s.%s", prefix, parts[i][1]);
                bool have = cg_read_u64(dir, file, &v) == 0;
                if (i == 1 || i == 2)
                        cg_json_u64_omit(e, parts[i][0], have ? v : 0);
                else
                        cg_json_u64(e, parts[i][0], have ? v : 0);
        }
}

static void v1_stats_memory(const char *dir, json_t *memory)
{
        _cleanup_free_ char *stat = cg_read(dir, "memory.stat");
        uint64_t v = 0;
        if (stat && cg_keyed(stat, "cache", &v))
                cg_json_u64_omit(memory, "cache", v);
        memory_entry(dir, "memory", cg_json_obj(memory, "usage"));
        memory_entry(dir, "memory.memsw", cg_json_obj(memory, "swap"));
        memory_entry(dir, "memory.kmem", cg_json_obj(memory, "kernel"));
        memory_entry(dir, "memory.kmem.tcp", cg_json_obj(memory, "kernelTCP"));
        if (stat)
                json_object_set_new(memory, "raw", cg_raw_stats(stat));
        _cleanup_free_ char *oom = cg_read(dir, "memory.oom_control");
        json_t *ev = cg_json_obj(memory, "event_count");
        uint64_t n = 0;
        cg_json_u64(ev, "oom_kill", oom && cg_keyed(oom, "oom_kill", &n) ? n : 0);
}

/* "8:0 Read 4096" lines into runc's BlkioEntry array. */
static json_t *blkio_entries(const char *text)
{
        json_t *a = json_array();
        for (const char *line = text; line && *line;) {
                const char *eol = strchrnul(line, '\n');
                unsigned maj, min;
                char op[16];
                unsigned long long v;
                _cleanup_free_ char *l = xstrndup(line, (size_t)(eol - line));
                if (sscanf(l, "%u:%u %15s %llu", &maj, &min, op, &v) == 4) {
                        json_t *e = json_object();
                        cg_json_u64_omit(e, "major", maj);
                        cg_json_u64_omit(e, "minor", min);
                        json_object_set_new(e, "op", json_string(op));
                        cg_json_u64_omit(e, "value", v);
                        json_array_append_new(a, e);
                }
                line = *eol ? eol + 1 : eol;
        }
        return a;
}

static void v1_stats_blkio(const char *dir, json_t *blkio)
{
        /* As runc: the scheduler's recursive counters (CFQ, then BFQ), else the throttle layer's. */
        static const char *const sources[][2] = {
                {"blkio.io_service_bytes_recursive", "blkio.io_serviced_recursive"},
                {"blkio.bfq.io_service_bytes_recursive", "blkio.bfq.io_serviced_recursive"},
                {"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_serviced_recursive"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(sources); i++) {
                _cleanup_free_ char *bytes = cg_read(dir, sources[i][0]);
                _cleanup_free_ char *ios = cg_read(dir, sources[i][1]);
                if (!bytes && !ios)
                        continue;
                json_t *b = blkio_entries(bytes), *s = blkio_entries(ios);
                if (json_array_size(b) > 0)
                        json_object_set(blkio, "ioServiceBytesRecursive", b);
                if (json_array_size(s) > 0)
                        json_object_set(blkio, "ioServicedRecursive", s);
                json_decref(b);
                json_decref(s);
                return;
        }
}

static void v1_stats_hugetlb_size(const char *dir, const char *size, json_t *h)
{
        char file[128];
        uint64_t v = 0;
        snprintf(file, sizeof file, "hugetlb.%s.usage_in_bytes", size);
        cg_json_u64_omit(h, "usage", cg_read_u64(dir, file, &v) == 0 ? v : 0);
        snprintf(file, sizeof file, "hugetlb.%s.max_usage_in_bytes", size);
        cg_json_u64_omit(h, "max", cg_read_u64(dir, file, &v) == 0 ? v : 0);
        snprintf(file, sizeof file, "hugetlb.%s.failcnt", size);
        cg_json_u64(h, "failcnt", cg_read_u64(dir, file, &v) == 0 ? v : 0);
}

/* ---- OOM --------------------------------------------------------------------- */

/* v1 counts kills only; its OOMs are counted by the eventfd. */
static int v1_oom_counts(const char *dir, uint64_t *kills, uint64_t *ooms)
{
        _cleanup_free_ char *text = cg_read(dir, "memory.oom_control");
        if (!text)
                return -errno;
        *kills = *ooms = 0;
        cg_keyed(text, "oom_kill", kills);
        return 0;
}

/* memory.oom_control notifies through an eventfd registered in
 * cgroup.event_control; the kernel also signals it when the cgroup goes. */
static int v1_oom_watch(const char *dir, int *fd, int *aux_fd, berth_error **err)
{
        _cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (efd < 0)
                return error_set(err, errno, "create eventfd");
        _cleanup_free_ char *path = xasprintf("%s/memory.oom_control", dir);
        _cleanup_close_ int ofd = open(path, O_RDONLY | O_CLOEXEC);
        if (ofd < 0)
                return error_set(err, errno, "open `%s`", path);
        char buf[64];
        int len = snprintf(buf, sizeof buf, "%d %d", efd, ofd);
        _cleanup_free_ char *ctl = xasprintf("%s/cgroup.event_control", dir);
        int r = write_file_at(AT_FDCWD, ctl, buf, (size_t)len, 0);
        if (r < 0)
                return error_set(err, -r, "register for OOM events in `%s`", ctl);
        *fd = steal_fd(&efd);
        *aux_fd = steal_fd(&ofd);
        return 0;
}

const struct cgroup_backend cgroup_v1_backend = {
        .name = "v1",
        .memory = v1_memory,
        .cpu = v1_cpu,
        .cpuset = v1_cpuset,
        .pids = cg_pids_write,
        .blkio = v1_blkio,
        .hugetlb = v1_hugetlb,
        .net_cls = v1_net_cls,
        .net_prio = v1_net_prio,
        .rdma = cg_rdma_write,
        .devices = v1_devices,
        .freeze = v1_freeze,
        .frozen = v1_frozen,
        .stats_cpu = v1_stats_cpu,
        .stats_throttling = v1_stats_throttling,
        .stats_cpuset = v1_stats_cpuset,
        .stats_memory = v1_stats_memory,
        .stats_pids = cg_pids_stats,
        .stats_blkio = v1_stats_blkio,
        .stats_hugetlb_size = v1_stats_hugetlb_size,
        .hugetlb_limit = "limit_in_bytes",
        .oom_counts = v1_oom_counts,
        .oom_watch = v1_oom_watch,
};
