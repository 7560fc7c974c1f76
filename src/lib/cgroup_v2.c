/* The cgroup v2 backend: one directory for every controller, files named
 * by the unified interface (memory.max, cpu.max, io.max, ...), and the
 * conversions from the v1-shaped values of the OCI spec. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>

#include "cgroup_backend.h"

#define FREEZE_WAIT_NS 5000000000LL

/* -1 is "max" throughout the v2 interface. */
static int write_limit(const struct cg_target *t, const char *field, const char *file, int64_t v,
                       berth_error **err)
{
        if (v < 0)
                return cg_write(t, field, file, "max", err);
        return cg_writef(t, field, file, err, "%" PRId64, v);
}

/* ---- memory ------------------------------------------------------------- */

/* The memory limit a swap value is measured against: this request's, else
 * (on update) the one in force. */
static int64_t limit_in_force(const struct cg_target *t, const struct res_memory *m)
{
        uint64_t cur = 0;
        if (m->limit.set)
                return m->limit.v;
        if (cg_read_u64(t->dir, "memory.max", &cur) < 0)
                return 0;
        return cur == UINT64_MAX ? -1 : (int64_t)cur;
}

static int v2_swap(const struct cg_target *t, const struct res_memory *m, berth_error **err)
{
        _cleanup_free_ char *field = xasprintf("%s.memory.swap", t->prefix);
        int64_t limit = limit_in_force(t, m), swap = -1;
        if (!m->swap.set) {
                /* Unlimited memory with no word on swap: unlimited swap, as runc. */
                if (!(m->limit.set && m->limit.v == -1) || !cg_exists(t->dir, "memory.swap.max"))
                        return 0;
        } else if (res_swap_to_v2(m->swap.v, limit, field, &swap, err) < 0) {
                return -1;
        }
        return write_limit(t, "memory.swap", "memory.swap.max", swap, err);
}

static int v2_memory(const struct cg_target *t, const struct res_memory *m, bool update, berth_error **err)
{
        if (update && m->check_before_update && m->limit.set && m->limit.v > 0) {
                uint64_t usage = 0;
                if (cg_read_u64(t->dir, "memory.current", &usage) == 0 && (uint64_t)m->limit.v < usage)
                        return cg_fail(err, t, "memory.limit", 0,
                                       "%" PRId64 " is below the container's memory usage (%" PRIu64 ")",
                                       m->limit.v, usage);
        }
        if (m->kernel.set || m->kernel_tcp.set)
                return cg_fail(err, t, m->kernel.set ? "memory.kernel" : "memory.kernelTCP", 0,
                               "cgroup v2 has no kernel memory limit");
        if (m->disable_oom_killer)
                return cg_fail(err, t, "memory.disableOOMKiller", 0,
                               "cgroup v2 cannot disable the OOM killer");
        if (m->limit.set && write_limit(t, "memory.limit", "memory.max", m->limit.v, err) < 0)
                return -1;
        if (v2_swap(t, m, err) < 0)
                return -1;
        if (m->reservation.set &&
            write_limit(t, "memory.reservation", "memory.low", m->reservation.v, err) < 0)
                return -1;
        if (m->swappiness.set &&
            cg_writef(t, "memory.swappiness", "memory.swappiness", err, "%" PRIu64, m->swappiness.v) < 0)
                return -1;
        /* useHierarchy: cgroup v2 is always hierarchical. */
        return 0;
}

/* ---- cpu, cpuset ------------------------------------------------------------ */

/* cpu.max holds quota and period together: keep the half not asked for. */
static int cpu_max(const struct cg_target *t, const struct res_cpu *c, berth_error **err)
{
        char quota[32] = "max", period[32] = "";
        _cleanup_free_ char *cur = cg_read(t->dir, "cpu.max");
        if (cur)
                sscanf(cur, "%31s %31s", quota, period);
        if (c->quota.set) {
                if (c->quota.v < 0)
                        snprintf(quota, sizeof quota, "max");
                else
                        snprintf(quota, sizeof quota, "%" PRId64, c->quota.v);
        }
        if (c->period.set)
                snprintf(period, sizeof period, "%" PRIu64, c->period.v);
        return cg_writef(t, c->quota.set ? "cpu.quota" : "cpu.period", "cpu.max", err, "%s%s%s", quota,
                         *period ? " " : "", period);
}

static int v2_cpu(const struct cg_target *t, const struct res_cpu *c, berth_error **err)
{
        if (c->realtime_runtime.set || c->realtime_period.set)
                return cg_fail(err, t, c->realtime_runtime.set ? "cpu.realtimeRuntime" : "cpu.realtimePeriod",
                               0, "cgroup v2 has no realtime CPU limits");
        if (c->shares.set && cg_writef(t, "cpu.shares", "cpu.weight", err, "%" PRIu64,
                                       res_cpu_shares_to_weight(c->shares.v)) < 0)
                return -1;
        /* The burst must not exceed the quota in force: lower it first, raise it last. */
        bool burst_first =
                c->burst.set && c->quota.set && c->quota.v >= 0 && c->burst.v <= (uint64_t)c->quota.v;
        if (burst_first && cg_writef(t, "cpu.burst", "cpu.max.burst", err, "%" PRIu64, c->burst.v) < 0)
                return -1;
        if ((c->quota.set || c->period.set) && cpu_max(t, c, err) < 0)
                return -1;
        if (c->burst.set && !burst_first &&
            cg_writef(t, "cpu.burst", "cpu.max.burst", err, "%" PRIu64, c->burst.v) < 0)
                return -1;
        if (c->idle.set && cg_writef(t, "cpu.idle", "cpu.idle", err, "%" PRId64, c->idle.v) < 0)
                return -1;
        return 0;
}

static int v2_cpuset(const struct cg_target *t, const struct res_cpu *c, berth_error **err)
{
        if (c->cpus && cg_write(t, "cpu.cpus", "cpuset.cpus", c->cpus, err) < 0)
                return -1;
        if (c->mems && cg_write(t, "cpu.mems", "cpuset.mems", c->mems, err) < 0)
                return -1;
        return 0;
}

/* ---- io ---------------------------------------------------------------------- */

/* With the BFQ scheduler the weight lives in io.bfq.weight, on blkio's own
 * 1..1000 scale; otherwise io.weight, on 1..10000. */
static int io_weight(const struct cg_target *t, const char *field, const char *device, uint64_t w,
                     berth_error **err)
{
        bool bfq = cg_exists(t->dir, "io.bfq.weight");
        uint64_t v = bfq ? w : res_blkio_weight_to_io_weight(w);
        return cg_writef(t, field, bfq ? "io.bfq.weight" : "io.weight", err, "%s%s%" PRIu64,
                         device ? device : "", device ? " " : "", v);
}

static int v2_blkio(const struct cg_target *t, const struct res_blkio *b, berth_error **err)
{
        static const char *const keys[RES_THROTTLE_COUNT][2] = {
                {"throttleReadBpsDevice", "rbps"},
                {"throttleWriteBpsDevice", "wbps"},
                {"throttleReadIOPSDevice", "riops"},
                {"throttleWriteIOPSDevice", "wiops"},
        };
        if (b->leaf_weight.set)
                return cg_fail(err, t, "blockIO.leafWeight", 0, "cgroup v2 has no leaf weights");
        if (b->weight.set && io_weight(t, "blockIO.weight", NULL, b->weight.v, err) < 0)
                return -1;
        for (size_t i = 0; i < b->n_weight_devices; i++) {
                const struct res_weight_device *d = &b->weight_devices[i];
                char field[64], dev[48];
                snprintf(field, sizeof field, "blockIO.weightDevice[%zu]", i);
                snprintf(dev, sizeof dev, "%" PRId64 ":%" PRId64, d->major, d->minor);
                if (d->leaf_weight.set)
                        return cg_fail(err, t, field, 0, "cgroup v2 has no leaf weights");
                if (io_weight(t, field, dev, d->weight.v, err) < 0)
                        return -1;
        }
        for (int k = 0; k < RES_THROTTLE_COUNT; k++)
                for (size_t i = 0; i < b->n_throttle[k]; i++) {
                        const struct res_throttle_device *d = &b->throttle[k][i];
                        char field[64];
                        snprintf(field, sizeof field, "blockIO.%s[%zu]", keys[k][0], i);
                        if (cg_writef(t, field, "io.max", err, "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
                                      d->major, d->minor, keys[k][1], d->rate) < 0)
                                return -1;
                }
        return 0;
}

/* ---- hugetlb, devices ------------------------------------------------------------ */

static int v2_hugetlb(const struct cg_target *t, const struct res_hugepage *h, size_t n, berth_error **err)
{
        return cg_hugetlb(t, h, n, "max", err);
}

/* ---- freezer ------------------------------------------------------------------------ */

/* cgroup.freeze asks; cgroup.events says when every task has stopped. */
static int v2_freeze(const char *dir, bool frozen, berth_error **err)
{
        struct cg_target t = {dir, "cgroup", NULL, NULL};
        if (cg_write(&t, NULL, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
                return -1;
        long long deadline = monotonic_ns() + FREEZE_WAIT_NS;
        long delay = 100000;
        for (;;) {
                _cleanup_free_ char *events = cg_read(dir, "cgroup.events");
                uint64_t v = 0;
                if (!events || !cg_keyed(events, "frozen", &v) || (v == 1) == frozen)
                        return 0;
                if (monotonic_ns() > deadline)
                        return error_set(err, EBUSY, "%s cgroup `%s`: it does not settle",
                                         frozen ? "freeze" : "thaw", dir);
                struct timespec ts = {0, delay};
                nanosleep(&ts, NULL);
                if (delay < 50000000)
                        delay *= 2;
        }
}

static bool v2_frozen(const char *dir)
{
        _cleanup_free_ char *v = cg_read(dir, "cgroup.freeze");
        return v && v[0] == '1';
}

/* ---- stats ---------------------------------------------------------------------- */

static void v2_stats_cpu(const char *dir, json_t *cpu)
{
        _cleanup_free_ char *stat = cg_read(dir, "cpu.stat");
        json_t *usage = cg_json_obj(cpu, "usage");
        uint64_t v;
        if (stat && cg_keyed(stat, "usage_usec", &v))
                cg_json_u64_omit(usage, "total", v * 1000);
        cg_json_u64(usage, "user", stat && cg_keyed(stat, "user_usec", &v) ? v * 1000 : 0);
        cg_json_u64(usage, "kernel", stat && cg_keyed(stat, "system_usec", &v) ? v * 1000 : 0);
}

static void v2_stats_throttling(const char *dir, json_t *cpu)
{
        _cleanup_free_ char *stat = cg_read(dir, "cpu.stat");
        json_t *th = cg_json_obj(cpu, "throttling");
        uint64_t v;
        if (stat && cg_keyed(stat, "nr_periods", &v))
                cg_json_u64_omit(th, "periods", v);
        if (stat && cg_keyed(stat, "nr_throttled", &v))
                cg_json_u64_omit(th, "throttledPeriods", v);
        if (stat && cg_keyed(stat, "throttled_usec", &v))
                cg_json_u64_omit(th, "throttledTime", v * 1000);
}

static void v2_stats_cpuset(const char *dir, json_t *cpuset)
{
        static const char *const zero[] = {
                "cpu_exclusive",   "mem_hardwall",       "mem_exclusive",
                "memory_migrate",  "memory_spread_page", "memory_spread_slab",
                "memory_pressure", "sched_load_balance", "sched_relax_domain_level"};
        _cleanup_free_ char *cpus = cg_read(dir, "cpuset.cpus.effective");
        _cleanup_free_ char *mems = cg_read(dir, "cpuset.mems.effective");
        json_object_set_new(cpuset, "cpus", cg_cpu_list_json(cpus));
        json_object_set_new(cpuset, "mems", cg_cpu_list_json(mems));
        for (size_t i = 0; i < ARRAY_SIZE(zero); i++)
                json_object_set_new(cpuset, zero[i], json_integer(0));
}

/* What runc's MemoryEntry reports, from `<prefix>.{current,peak,max,events}`. */
struct mem_entry {
        uint64_t limit, usage, max, failcnt;
};

static struct mem_entry memory_entry(const char *dir, const char *prefix)
{
        struct mem_entry e = {.limit = UINT64_MAX};
        char file[64];
        uint64_t v = 0;
        snprintf(file, sizeof file, "%s.max", prefix);
        if (cg_read_u64(dir, file, &v) == 0)
                e.limit = v;
        snprintf(file, sizeof file, "%s.current", prefix);
        if (cg_read_u64(dir, file, &v) == 0)
                e.usage = v;
        snprintf(file, sizeof file, "%s.peak", prefix);
        if (cg_read_u64(dir, file, &v) == 0)
                e.max = v;
        snprintf(file, sizeof file, "%s.events", prefix);
        _cleanup_free_ char *events = cg_read(dir, file);
        if (events && cg_keyed(events, "max", &v))
                e.failcnt = v;
        return e;
}

static void memory_entry_json(json_t *o, const struct mem_entry *e)
{
        cg_json_u64(o, "limit", e->limit);
        cg_json_u64_omit(o, "usage", e->usage);
        cg_json_u64_omit(o, "max", e->max);
        cg_json_u64(o, "failcnt", e->failcnt);
}

static void v2_stats_memory(const char *dir, json_t *memory)
{
        _cleanup_free_ char *stat = cg_read(dir, "memory.stat");
        uint64_t v = 0;
        if (stat && cg_keyed(stat, "file", &v))
                cg_json_u64_omit(memory, "cache", v);
        struct mem_entry mem = memory_entry(dir, "memory"), swap = memory_entry(dir, "memory.swap");
        /* runc reports swap as v1 did, memory+swap, so readers need not know the version. */
        swap.usage += mem.usage;
        swap.max = 0;
        if (swap.limit != UINT64_MAX && mem.limit != UINT64_MAX)
                swap.limit += mem.limit;
        else
                swap.limit = UINT64_MAX;
        memory_entry_json(cg_json_obj(memory, "usage"), &mem);
        memory_entry_json(cg_json_obj(memory, "swap"), &swap);
        if (stat)
                json_object_set_new(memory, "raw", cg_raw_stats(stat));
        _cleanup_free_ char *events = cg_read(dir, "memory.events");
        json_t *ev = cg_json_obj(memory, "event_count");
        static const char *const keys[] = {"low", "high", "max", "oom", "oom_kill"};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                cg_json_u64(ev, keys[i], events && cg_keyed(events, keys[i], &v) ? v : 0);
}

static void io_stat_add(json_t *arr, unsigned maj, unsigned min, const char *op, uint64_t v)
{
        json_t *e = json_object();
        cg_json_u64_omit(e, "major", maj);
        cg_json_u64_omit(e, "minor", min);
        json_object_set_new(e, "op", json_string(op));
        cg_json_u64_omit(e, "value", v);
        json_array_append_new(arr, e);
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
static void v2_stats_blkio(const char *dir, json_t *blkio)
{
        _cleanup_free_ char *text = cg_read(dir, "io.stat");
        json_t *bytes = json_array(), *ios = json_array();
        for (char *line = text, *save = NULL; line && *line;) {
                char *eol = strchrnul(line, '\n');
                char c = *eol;
                *eol = '\0';
                unsigned maj, min;
                if (sscanf(line, "%u:%u", &maj, &min) == 2) {
                        for (char *tok = strtok_r(strchr(line, ' '), " ", &save); tok;
                             tok = strtok_r(NULL, " ", &save)) {
                                char *eq = strchr(tok, '=');
                                if (!eq)
                                        continue;
                                *eq = '\0';
                                uint64_t v = strtoull(eq + 1, NULL, 10);
                                if (strcmp(tok, "rbytes") == 0)
                                        io_stat_add(bytes, maj, min, "Read", v);
                                else if (strcmp(tok, "wbytes") == 0)
                                        io_stat_add(bytes, maj, min, "Write", v);
                                else if (strcmp(tok, "rios") == 0)
                                        io_stat_add(ios, maj, min, "Read", v);
                                else if (strcmp(tok, "wios") == 0)
                                        io_stat_add(ios, maj, min, "Write", v);
                        }
                }
                line = c ? eol + 1 : eol;
        }
        if (json_array_size(bytes) > 0)
                json_object_set(blkio, "ioServiceBytesRecursive", bytes);
        if (json_array_size(ios) > 0)
                json_object_set(blkio, "ioServicedRecursive", ios);
        json_decref(bytes);
        json_decref(ios);
}

static void v2_stats_hugetlb_size(const char *dir, const char *size, json_t *h)
{
        char file[128];
        uint64_t v = 0;
        snprintf(file, sizeof file, "hugetlb.%s.current", size);
        cg_json_u64_omit(h, "usage", cg_read_u64(dir, file, &v) == 0 ? v : 0);
        snprintf(file, sizeof file, "hugetlb.%s.events", size);
        _cleanup_free_ char *events = cg_read(dir, file);
        cg_json_u64(h, "failcnt", events && cg_keyed(events, "max", &v) ? v : 0);
}

/* ---- OOM ------------------------------------------------------------------------ */

static int v2_oom_counts(const char *dir, uint64_t *kills, uint64_t *ooms)
{
        _cleanup_free_ char *text = cg_read(dir, "memory.events");
        if (!text)
                return -errno;
        *kills = *ooms = 0;
        cg_keyed(text, "oom_kill", kills);
        cg_keyed(text, "oom", ooms);
        return 0;
}

/* memory.events changes (and inotify says so) whenever a counter moves. */
static int v2_oom_watch(const char *dir, int *fd, int *aux_fd, berth_error **err)
{
        _cleanup_close_ int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ifd < 0)
                return error_set(err, errno, "create inotify instance");
        _cleanup_free_ char *path = xasprintf("%s/memory.events", dir);
        if (inotify_add_watch(ifd, path, IN_MODIFY) < 0)
                return error_set(err, errno, "watch `%s`", path);
        *fd = steal_fd(&ifd);
        *aux_fd = -1;
        return 0;
}

/* ---- controllers ------------------------------------------------------------------ */

static bool word_in(const char *list, const char *word, size_t len)
{
        for (const char *p = list; p && *p;) {
                p += strspn(p, " \n");
                size_t n = strcspn(p, " \n");
                if (n == len && strncmp(p, word, len) == 0)
                        return true;
                p += n;
        }
        return false;
}

void cg_v2_enable_controllers(const char *dir)
{
        _cleanup_free_ char *avail = cg_read(dir, "cgroup.controllers");
        _cleanup_free_ char *on = cg_read(dir, "cgroup.subtree_control");
        if (!avail || !on)
                return;
        _cleanup_free_ char *file = xasprintf("%s/cgroup.subtree_control", dir);
        char buf[512];
        size_t len = 0;
        for (const char *p = avail; *p;) {
                p += strspn(p, " \n");
                size_t n = strcspn(p, " \n");
                if (n > 0 && !word_in(on, p, n) && len + n + 2 < sizeof buf)
                        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s+%.*s", len ? " " : "",
                                                (int)n, p);
                p += n;
        }
        if (len == 0 || write_file_at(AT_FDCWD, file, buf, len, 0) == 0)
                return;
        /* One refusal (a controller busy elsewhere) must not cost the others. */
        for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
                write_file_at(AT_FDCWD, file, w, strlen(w), 0);
}

const struct cgroup_backend cgroup_v2_backend = {
        .name = "v2",
        .memory = v2_memory,
        .cpu = v2_cpu,
        .cpuset = v2_cpuset,
        .pids = cg_pids_write,
        .blkio = v2_blkio,
        .hugetlb = v2_hugetlb,
        .net_cls = NULL, /* net_cls and net_prio exist only in v1 */
        .net_prio = NULL,
        .rdma = cg_rdma_write,
        .devices = cg_bpf_attach,
        .freeze = v2_freeze,
        .frozen = v2_frozen,
        .stats_cpu = v2_stats_cpu,
        .stats_throttling = v2_stats_throttling,
        .stats_cpuset = v2_stats_cpuset,
        .stats_memory = v2_stats_memory,
        .stats_pids = cg_pids_stats,
        .stats_blkio = v2_stats_blkio,
        .stats_hugetlb_size = v2_stats_hugetlb_size,
        .hugetlb_limit = "max",
        .oom_counts = v2_oom_counts,
        .oom_watch = v2_oom_watch,
};
