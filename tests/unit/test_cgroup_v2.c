/* The cgroup v2 backend on a faked cgroup2 tree: a temporary directory
 * standing in for the container's cgroup, its interface files made as
 * plain files.  Every resource writer, the freezer, stats and the OOM
 * counter are checked by what they leave in (or read from) those files;
 * the v1→v2 conversions by their numbers.  The eBPF device filter is
 * checked for shape, and (as root, where a cgroup2 hierarchy is mounted)
 * live: a child in a cgroup with the filter may open /dev/null, not /dev/zero. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/bpf.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cgroup_backend.h"
#include "cgroups.h"

/* ---- the faked tree --------------------------------------------------------- */

struct fake {
        char *mount;             /* the "hierarchy", a temp dir */
        char *dir;               /* mount + "/c": the container's cgroup */
        struct cgroup_dir cgdir; /* one cgroup2 hierarchy */
        struct cgroup cg;
};

static void put(const struct fake *f, const char *name, const char *text)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", f->dir, name);
        assert_int_equal(write_file_at(AT_FDCWD, p, text, strlen(text), 0644), 0);
}

static char *get(const struct fake *f, const char *name)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", f->dir, name);
        char *text = read_file_at(AT_FDCWD, p, NULL);
        if (!text)
                fail_msg("cannot read %s", name);
        return text;
}

#define assert_file(f, name, want)                                                                           \
        do {                                                                                                 \
                char *got_ = get(f, name);                                                                   \
                assert_string_equal(got_, want);                                                             \
                free(got_);                                                                                  \
        } while (0)

/* Every file the writers touch, empty, as a cgroup2 directory with all
 * controllers enabled would have them. */
static const char *const v2_files[] = {
        "cgroup.freeze",
        "cgroup.events",
        "cgroup.max.depth",
        "memory.max",
        "memory.low",
        "memory.swap.max",
        "memory.current",
        "memory.peak",
        "memory.events",
        "memory.stat",
        "memory.swap.current",
        "memory.swap.events",
        "cpu.weight",
        "cpu.max",
        "cpu.max.burst",
        "cpu.idle",
        "cpu.stat",
        "cpuset.cpus",
        "cpuset.mems",
        "cpuset.cpus.effective",
        "cpuset.mems.effective",
        "pids.max",
        "pids.current",
        "io.weight",
        "io.max",
        "io.stat",
        "hugetlb.2MB.max",
        "hugetlb.2MB.current",
        "hugetlb.2MB.events",
        "rdma.max",
        "cgroup.subtree_control",
};

static int setup(void **state)
{
        struct fake *f = xzalloc(sizeof *f);
        f->mount = xstrdup("/tmp/berth-test-cg2-XXXXXX");
        assert_non_null(mkdtemp(f->mount));
        f->dir = xasprintf("%s/c", f->mount);
        assert_int_equal(mkdir(f->dir, 0755), 0);
        for (size_t i = 0; i < ARRAY_SIZE(v2_files); i++)
                put(f, v2_files[i], "");
        put(f, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n");
        f->cgdir = (struct cgroup_dir){
                .controllers = (char *)"", .mount = f->mount, .path = (char *)"/c", .v2 = true};
        f->cg = (struct cgroup){.dirs = &f->cgdir, .n = 1};
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fake *f = *state;
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", f->mount);
        assert_int_equal(system(cmd), 0);
        free(f->dir);
        free(f->mount);
        free(f);
        return 0;
}

/* Apply a linux.resources document; returns the error message (or NULL). */
static char *apply(struct fake *f, const char *json, bool update)
{
        struct res_resources r;
        berth_error *err = NULL;
        char *msg = NULL;
        if (res_parse_text(json, "test", &r, &err) < 0)
                fail_msg("parse: %s", err->msg);
        if (cgroup_set(&f->cg, &r, update, &err) < 0) {
                assert_non_null(err);
                msg = xstrdup(err->msg);
                berth_error_free(err);
        } else {
                assert_null(err);
        }
        res_clear(&r);
        return msg;
}

#define assert_applies(f, json, update)                                                                      \
        do {                                                                                                 \
                char *m_ = apply(f, json, update);                                                           \
                if (m_)                                                                                      \
                        fail_msg("unexpected error: %s", m_);                                                \
        } while (0)

#define assert_fails(f, json, update, want)                                                                  \
        do {                                                                                                 \
                char *m_ = apply(f, json, update);                                                           \
                assert_non_null(m_);                                                                         \
                assert_string_equal(m_, want);                                                               \
                free(m_);                                                                                    \
        } while (0)

/* ---- conversions ------------------------------------------------------------- */

static void test_cpu_shares_to_weight(void **state)
{
        (void)state;
        assert_int_equal(res_cpu_shares_to_weight(0), 0);
        assert_int_equal(res_cpu_shares_to_weight(2), 1);
        assert_int_equal(res_cpu_shares_to_weight(1024), 100); /* the two defaults meet */
        assert_int_equal(res_cpu_shares_to_weight(512), 59);
        assert_int_equal(res_cpu_shares_to_weight(2000), 170); /* runc 1.4's own example */
        assert_int_equal(res_cpu_shares_to_weight(262143), 10000);
        assert_int_equal(res_cpu_shares_to_weight(262144), 10000);
        assert_int_equal(res_cpu_shares_to_weight(1000000), 10000);
}

/* berth converts without libm: every shares value in the formula's range
 * gives what libm's log2, pow and ceil give (runc's formula as written). */
static void test_cpu_shares_to_weight_matches_libm(void **state)
{
        (void)state;
        for (uint64_t shares = 3; shares < 262144; shares++) {
                double l = log2((double)shares);
                double w = ceil(pow(10.0, (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0));
                uint64_t want = w < 1 ? 1 : w > 10000 ? 10000 : (uint64_t)w;
                if (res_cpu_shares_to_weight(shares) != want)
                        fail_msg("shares %" PRIu64 ": %" PRIu64 ", libm says %" PRIu64, shares,
                                 res_cpu_shares_to_weight(shares), want);
        }
}

static void test_blkio_weight_to_io_weight(void **state)
{
        (void)state;
        assert_int_equal(res_blkio_weight_to_io_weight(0), 0);
        assert_int_equal(res_blkio_weight_to_io_weight(10), 1);
        assert_int_equal(res_blkio_weight_to_io_weight(500), 4950);
        assert_int_equal(res_blkio_weight_to_io_weight(1000), 10000);
}

static void test_swap_to_v2(void **state)
{
        (void)state;
        int64_t out = 0;
        berth_error *err = NULL;
        assert_int_equal(res_swap_to_v2(300, 100, "s", &out, &err), 0);
        assert_int_equal(out, 200);
        assert_int_equal(res_swap_to_v2(100, 100, "s", &out, &err), 0);
        assert_int_equal(out, 0);
        assert_int_equal(res_swap_to_v2(-1, 100, "s", &out, &err), 0);
        assert_int_equal(out, -1);
        assert_int_equal(res_swap_to_v2(-1, -1, "s", &out, &err), 0);
        assert_int_equal(out, -1);
        assert_true(res_swap_to_v2(300, -1, "s", &out, &err) < 0);
        assert_string_equal(err->msg, "s: cannot limit swap without a memory limit");
        berth_error_free(err);
        err = NULL;
        assert_true(res_swap_to_v2(50, 100, "s", &out, &err) < 0);
        assert_string_equal(err->msg, "s: must be at least the memory limit (it limits memory+swap)");
        berth_error_free(err);
}

/* ---- resource writers -------------------------------------------------------- */

static void test_memory(void **state)
{
        struct fake *f = *state;
        assert_applies(f, "{\"memory\":{\"limit\":104857600,\"reservation\":52428800,\"swap\":209715200}}",
                       false);
        assert_file(f, "memory.max", "104857600");
        assert_file(f, "memory.low", "52428800");
        assert_file(f, "memory.swap.max", "104857600"); /* swap alone: (memory+swap) - memory */
        /* unlimited memory, swap unsaid: unlimited swap too */
        assert_applies(f, "{\"memory\":{\"limit\":-1,\"useHierarchy\":true}}", false);
        assert_file(f, "memory.max", "max");
        assert_file(f, "memory.swap.max", "max");
}

static void test_memory_swap_against_limit_in_force(void **state)
{
        struct fake *f = *state;
        put(f, "memory.max", "67108864\n");
        assert_applies(f, "{\"memory\":{\"swap\":100663296}}", true);
        assert_file(f, "memory.swap.max", "33554432");
        put(f, "memory.max", "max\n");
        assert_fails(f, "{\"memory\":{\"swap\":100663296}}", true,
                     "linux.resources.memory.swap: cannot limit swap without a memory limit");
}

static void test_memory_refusals(void **state)
{
        struct fake *f = *state;
        assert_fails(f, "{\"memory\":{\"kernel\":1048576}}", false,
                     "linux.resources.memory.kernel: cgroup v2 has no kernel memory limit");
        assert_fails(f, "{\"memory\":{\"kernelTCP\":1048576}}", false,
                     "linux.resources.memory.kernelTCP: cgroup v2 has no kernel memory limit");
        assert_fails(f, "{\"memory\":{\"disableOOMKiller\":true}}", false,
                     "linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer");
        assert_fails(f, "{\"memory\":{\"swappiness\":10}}", false,
                     "linux.resources.memory.swappiness: the memory controller has no `memory.swappiness` on "
                     "this host");
}

static void test_memory_check_before_update(void **state)
{
        struct fake *f = *state;
        put(f, "memory.max", "max\n");
        put(f, "memory.current", "8388608\n");
        assert_fails(f, "{\"memory\":{\"limit\":4194304,\"checkBeforeUpdate\":true}}", true,
                     "linux.resources.memory.limit: 4194304 is below the container's memory usage (8388608)");
        assert_file(f, "memory.max", "max\n");
        /* at create there is no usage to compare with */
        assert_applies(f, "{\"memory\":{\"limit\":4194304,\"checkBeforeUpdate\":true}}", false);
        assert_file(f, "memory.max", "4194304");
}

static void test_cpu(void **state)
{
        struct fake *f = *state;
        put(f, "cpu.max", "max 100000\n");
        assert_applies(
                f, "{\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":250000,\"burst\":1000,\"idle\":1}}",
                false);
        assert_file(f, "cpu.weight", "100");
        assert_file(f, "cpu.max", "50000 250000");
        assert_file(f, "cpu.max.burst", "1000");
        assert_file(f, "cpu.idle", "1");
        /* one half of cpu.max keeps the other */
        put(f, "cpu.max", "50000 250000\n");
        assert_applies(f, "{\"cpu\":{\"period\":200000}}", true);
        assert_file(f, "cpu.max", "50000 200000");
        put(f, "cpu.max", "50000 200000\n");
        assert_applies(f, "{\"cpu\":{\"quota\":-1}}", true);
        assert_file(f, "cpu.max", "max 200000");
        assert_fails(f, "{\"cpu\":{\"realtimeRuntime\":1000}}", false,
                     "linux.resources.cpu.realtimeRuntime: cgroup v2 has no realtime CPU limits");
}

static void test_cpuset_pids(void **state)
{
        struct fake *f = *state;
        assert_applies(f, "{\"cpu\":{\"cpus\":\"0-3,7\",\"mems\":\"0\"},\"pids\":{\"limit\":64}}", false);
        assert_file(f, "cpuset.cpus", "0-3,7");
        assert_file(f, "cpuset.mems", "0");
        assert_file(f, "pids.max", "64");
        assert_applies(f, "{\"pids\":{\"limit\":-1}}", false);
        assert_file(f, "pids.max", "max");
}

static void test_io(void **state)
{
        struct fake *f = *state;
        assert_applies(f, "{\"blockIO\":{\"weight\":500}}", false);
        assert_file(f, "io.weight", "4950");
        assert_applies(f, "{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":16,\"weight\":10}]}}",
                       false);
        assert_file(f, "io.weight", "8:16 1");
        assert_applies(f,
                       "{\"blockIO\":{\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":300}]}}",
                       false);
        assert_file(f, "io.max", "8:0 wiops=300");
        assert_applies(
                f, "{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":259,\"minor\":1,\"rate\":1048576}]}}",
                false);
        assert_file(f, "io.max", "259:1 rbps=1048576");
        assert_fails(f, "{\"blockIO\":{\"leafWeight\":500}}", false,
                     "linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weights");
        /* with BFQ the weight keeps blkio's own scale */
        put(f, "io.bfq.weight", "");
        assert_applies(f, "{\"blockIO\":{\"weight\":500}}", false);
        assert_file(f, "io.bfq.weight", "500");
}

static void test_hugetlb_rdma(void **state)
{
        struct fake *f = *state;
        assert_applies(f, "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}]}", false);
        assert_file(f, "hugetlb.2MB.max", "4194304");
        /* reservations are limited too where the kernel counts them */
        put(f, "hugetlb.2MB.rsvd.max", "");
        assert_applies(f, "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":2097152}]}", false);
        assert_file(f, "hugetlb.2MB.rsvd.max", "2097152");
        assert_fails(f, "{\"hugepageLimits\":[{\"pageSize\":\"1GB\",\"limit\":1}]}", false,
                     "linux.resources.hugepageLimits[0].pageSize: this host has no `1GB` huge pages (no "
                     "`hugetlb.1GB.max`)");
        assert_applies(f, "{\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3,\"hcaObjects\":10000}}}", false);
        assert_file(f, "rdma.max", "mlx5_1 hca_handle=3 hca_object=10000");
}

static void test_v1_only_and_missing_controllers(void **state)
{
        struct fake *f = *state;
        assert_fails(
                f, "{\"network\":{\"classID\":7}}", false,
                "linux.resources.network.classID: the net_cls controller is not available on this host (it "
                "exists only in cgroup v1)");
        put(f, "cgroup.controllers", "cpu pids\n");
        assert_fails(f, "{\"memory\":{\"limit\":1048576}}", false,
                     "linux.resources.memory.limit: the memory controller is not available on this host");
        assert_fails(
                f, "{\"unified\":{\"memory.high\":\"1000000\"}}", false,
                "linux.resources.unified.memory.high: the memory controller is not available in the cgroup2 "
                "hierarchy on this host");
}

static void test_unified(void **state)
{
        struct fake *f = *state;
        put(f, "memory.high", "");
        assert_applies(f, "{\"unified\":{\"memory.high\":\"1000000\",\"cgroup.max.depth\":\"3\"}}", false);
        assert_file(f, "memory.high", "1000000");
        assert_file(f, "cgroup.max.depth", "3");
        assert_fails(
                f, "{\"unified\":{\"memory.nonsense\":\"1\"}}", false,
                "linux.resources.unified.memory.nonsense: the memory controller has no `memory.nonsense` on "
                "this host");
}

static void test_no_cgroup2(void **state)
{
        (void)state;
        struct cgroup none = {0};
        struct res_resources r;
        berth_error *err = NULL;
        assert_int_equal(res_parse_text("{\"unified\":{\"pids.max\":\"3\"}}", "t", &r, &err), 0);
        assert_true(cgroup_set(&none, &r, false, &err) < 0);
        assert_string_equal(err->msg,
                            "linux.resources.unified: needs cgroup v2, and this host has no cgroup2 "
                            "hierarchy");
        berth_error_free(err);
        res_clear(&r);
}

/* ---- freezer, controllers ------------------------------------------------------ */

static void test_freeze(void **state)
{
        struct fake *f = *state;
        berth_error *err = NULL;
        put(f, "cgroup.events", "populated 1\nfrozen 1\n");
        assert_int_equal(cgroup_freeze(&f->cg, true, &err), 0);
        assert_file(f, "cgroup.freeze", "1");
        assert_true(cgroup_frozen(&f->cg));
        put(f, "cgroup.events", "populated 1\nfrozen 0\n");
        assert_int_equal(cgroup_freeze(&f->cg, false, &err), 0);
        assert_file(f, "cgroup.freeze", "0");
        assert_false(cgroup_frozen(&f->cg));
        assert_null(err);
}

static void test_enable_controllers(void **state)
{
        struct fake *f = *state;
        put(f, "cgroup.subtree_control", "cpu\n");
        cg_v2_enable_controllers(f->dir);
        /* the ones still off, in one write */
        assert_file(f, "cgroup.subtree_control", "+cpuset +io +memory +hugetlb +pids +rdma");
        put(f, "cgroup.subtree_control", "cpuset cpu io memory hugetlb pids rdma\n");
        put(f, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n");
        cg_v2_enable_controllers(f->dir);
        assert_file(f, "cgroup.subtree_control", "cpuset cpu io memory hugetlb pids rdma\n");
}

/* ---- stats, OOM -------------------------------------------------------------- */

static void test_stats(void **state)
{
        struct fake *f = *state;
        put(f, "cpu.stat",
            "usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 7\nnr_throttled 2\n"
            "throttled_usec 30\n");
        put(f, "memory.current", "4096\n");
        put(f, "memory.peak", "8192\n");
        put(f, "memory.max", "max\n");
        put(f, "memory.swap.current", "100\n");
        put(f, "memory.swap.max", "1000\n");
        put(f, "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
        put(f, "memory.stat", "anon 4096\nfile 12288\n");
        put(f, "pids.current", "3\n");
        put(f, "pids.max", "max\n");
        put(f, "io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n");
        put(f, "hugetlb.2MB.current", "0\n");
        put(f, "hugetlb.2MB.events", "max 4\n");
        put(f, "cpuset.cpus.effective", "0-2,5\n");
        json_t *stats = cgroup_stats(&f->cg);
        _cleanup_free_ char *text = cgroup_stats_text(stats);
        json_decref(stats);
        static const char *const want[] = {
                "\"cpu\":{\"usage\":{\"total\":2000000,\"user\":1500000,\"kernel\":500000},"
                "\"throttling\":{\"periods\":7,\"throttledPeriods\":2,\"throttledTime\":30000}}",
                "\"cpus\":[0,1,2,5]",
                "\"usage\":{\"limit\":18446744073709551615,\"usage\":4096,\"max\":8192,\"failcnt\":3}",
                "\"swap\":{\"limit\":18446744073709551615,\"usage\":4196,\"failcnt\":0}",
                "\"cache\":12288",
                "\"raw\":{\"anon\":4096,\"file\":12288}",
                "\"oom\":1,\"oom_kill\":1",
                "\"pids\":{\"current\":3}",
                "\"ioServiceBytesRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":4096},"
                "{\"major\":8,\"op\":\"Write\",\"value\":8192}]",
                "\"ioServicedRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":1},"
                "{\"major\":8,\"op\":\"Write\",\"value\":2}]",
                "\"hugetlb\":{\"2MB\":{\"failcnt\":4}}",
                "\"intel_rdt\":{},\"network_interfaces\":null",
        };
        for (size_t i = 0; i < ARRAY_SIZE(want); i++)
                if (!strstr(text, want[i]))
                        fail_msg("stats lack %s:\n%s", want[i], text);
        assert_int_equal(cgroup_oom_kills(&f->cg), 1);
}

/* ---- the eBPF device filter ------------------------------------------------------ */

static void test_bpf_shape(void **state)
{
        (void)state;
        static const struct res_device_rule rules[] = {
                {false, 'a', -1, -1, "rwm"},
                {true, 'c', 1, 3, "rw"},
                {true, 'b', 7, -1, "rwm"},
        };
        size_t n = 0;
        struct bpf_insn *p = cg_bpf_build(rules, ARRAY_SIZE(rules), &n);
        /* 6 to load the context, then the rules last to first; the deny of
         * everything ends it (the verifier refuses unreachable code) */
        assert_int_equal(n, 20);
        assert_int_equal(p[0].code, BPF_LDX | BPF_MEM | BPF_W);
        assert_int_equal(p[n - 1].code, BPF_JMP | BPF_EXIT);
        /* b 7:* rwm: type and major tests, return 1 */
        assert_int_equal(p[6].imm, BPF_DEVCG_DEV_BLOCK);
        assert_int_equal(p[7].imm, 7);
        assert_int_equal(p[8].imm, 1);
        /* every jump lands inside the program */
        for (size_t i = 0; i < n; i++)
                if (((p[i].code & 0x07) == BPF_JMP || (p[i].code & 0x07) == 0x06) &&
                    (p[i].code & 0xf0) != BPF_EXIT)
                        assert_true(i + 1 + (size_t)p[i].off < n);
        /* deny all: no tests, return 0 */
        assert_int_equal(p[n - 2].code, BPF_ALU64 | BPF_MOV | BPF_K);
        assert_int_equal(p[n - 2].imm, 0);
        free(p);
        /* without a rule for everything, the parent's "allow" ends it */
        p = cg_bpf_build(rules + 1, 2, &n);
        assert_int_equal(n, 20);
        assert_int_equal(p[n - 2].imm, 1);
        free(p);
}

/* The cgroup2 directory of this process, or NULL. */
static char *own_cgroup2(void)
{
        _cleanup_free_ char *self = read_file_at(AT_FDCWD, "/proc/self/cgroup", NULL);
        _cleanup_free_ char *mi = read_file_at(AT_FDCWD, "/proc/self/mountinfo", NULL);
        char *line = self ? strstr(self, "0::") : NULL;
        if (!line || !mi)
                return NULL;
        line += 3;
        line[strcspn(line, "\n")] = '\0';
        for (char *l = mi, *save = NULL; (l = strtok_r(l, "\n", &save)); l = NULL) {
                char mp[512];
                if (strstr(l, " - cgroup2 ") && sscanf(l, "%*s %*s %*s / %511s", mp) == 1)
                        return xasprintf("%s%s", mp, strcmp(line, "/") == 0 ? "" : line);
        }
        return NULL;
}

static int try_open(const char *path, int flags)
{
        int fd = open(path, flags | O_CLOEXEC);
        if (fd < 0)
                return errno;
        close(fd);
        return 0;
}

static void test_bpf_live(void **state)
{
        (void)state;
        _cleanup_free_ char *own = geteuid() == 0 ? own_cgroup2() : NULL;
        if (!own)
                skip();
        _cleanup_free_ char *dir = xasprintf("%s/berth-unit-%d", own, (int)getpid());
        if (mkdir(dir, 0755) < 0)
                skip();
        static const struct res_device_rule rules[] = {
                {false, 'a', -1, -1, "rwm"},
                {true, 'c', 1, 3, "rw"},
                {true, 'c', 1, 5, "r"},
        };
        struct cg_target t = {dir, "cgroup", "linux.resources", NULL};
        berth_error *err = NULL;
        int r = cg_bpf_attach(&t, rules, ARRAY_SIZE(rules), &err);
        if (r < 0)
                fail_msg("%s (errno %d)", err->msg, err->errnum);
        pid_t pid = fork();
        if (pid == 0) {
                char buf[16];
                int len = snprintf(buf, sizeof buf, "%d", (int)getpid());
                _cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
                if (write_file_at(AT_FDCWD, procs, buf, (size_t)len, 0) < 0)
                        _exit(100);
                /* null rw allowed; zero read-only; full not at all */
                int bad = (try_open("/dev/null", O_RDWR) != 0) | (try_open("/dev/zero", O_RDONLY) != 0) << 1 |
                          (try_open("/dev/zero", O_WRONLY) != EPERM) << 2 |
                          (try_open("/dev/full", O_RDONLY) != EPERM) << 3;
                _exit(bad);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        /* A task that just exited can hold its cgroup busy a little longer. */
        for (int i = 0; i < 200 && rmdir(dir) < 0 && errno == EBUSY; i++)
                usleep(5000);
        assert_int_equal(access(dir, F_OK), -1);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cpu_shares_to_weight),
                cmocka_unit_test(test_cpu_shares_to_weight_matches_libm),
                cmocka_unit_test(test_blkio_weight_to_io_weight),
                cmocka_unit_test(test_swap_to_v2),
                cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_memory_swap_against_limit_in_force, setup, teardown),
                cmocka_unit_test_setup_teardown(test_memory_refusals, setup, teardown),
                cmocka_unit_test_setup_teardown(test_memory_check_before_update, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cpu, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cpuset_pids, setup, teardown),
                cmocka_unit_test_setup_teardown(test_io, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hugetlb_rdma, setup, teardown),
                cmocka_unit_test_setup_teardown(test_v1_only_and_missing_controllers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unified, setup, teardown),
                cmocka_unit_test(test_no_cgroup2),
                cmocka_unit_test_setup_teardown(test_freeze, setup, teardown),
                cmocka_unit_test_setup_teardown(test_enable_controllers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
                cmocka_unit_test(test_bpf_shape),
                cmocka_unit_test(test_bpf_live),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
