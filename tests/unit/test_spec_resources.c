/* linux.resources into struct res_resources: values, Go's zeros and nulls
 * as "unset", and every error naming its field. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "spec_resources.h"

static void parse_ok(const char *json, struct res_resources *r)
{
        berth_error *err = NULL;
        if (res_parse_text(json, "t", r, &err) < 0)
                fail_msg("unexpected error: %s", err->msg);
        assert_null(err);
}

static void parse_fails(const char *json, const char *want)
{
        struct res_resources r;
        berth_error *err = NULL;
        assert_true(res_parse_text(json, "t", &r, &err) < 0);
        assert_non_null(err);
        assert_string_equal(err->msg, want);
        berth_error_free(err);
        res_clear(&r);
}

static void test_full_document(void **state)
{
        (void)state;
        struct res_resources r;
        parse_ok("{\"memory\":{\"limit\":536870912,\"reservation\":-1,\"swap\":-1,\"swappiness\":0,"
                 "\"disableOOMKiller\":true,\"checkBeforeUpdate\":true},"
                 "\"cpu\":{\"shares\":1024,\"quota\":1000000,\"burst\":0,\"period\":500000,"
                 "\"realtimeRuntime\":950000,\"realtimePeriod\":1000000,\"cpus\":\"2-3\",\"mems\":\"0-7\","
                 "\"idle\":0},"
                 "\"pids\":{\"limit\":32771},"
                 "\"blockIO\":{\"weight\":10,\"leafWeight\":10,\"weightDevice\":[{\"major\":8,\"minor\":0,"
                 "\"weight\":500,\"leafWeight\":300},{\"major\":8,\"minor\":16,\"weight\":500}],"
                 "\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":600}],"
                 "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":16,\"rate\":300}]},"
                 "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":209715200},{\"pageSize\":\"64KB\","
                 "\"limit\":1000000}],"
                 "\"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"eth0\",\"priority\":500}]},"
                 "\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3,\"hcaObjects\":10000},\"mlx4_0\":{\"hcaObjects\":"
                 "1000}},"
                 "\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":"
                 "10,"
                 "\"minor\":229,\"access\":\"rw\"}],"
                 "\"unified\":{\"io.max\":\"259:0 rbps=2097152\",\"hugetlb.1GB.max\":\"1073741824\"}}",
                 &r);
        assert_true(r.memory.limit.set);
        assert_int_equal(r.memory.limit.v, 536870912);
        assert_int_equal(r.memory.reservation.v, -1);
        assert_true(r.memory.swappiness.set); /* 0 is a real swappiness */
        assert_int_equal(r.memory.swappiness.v, 0);
        assert_true(r.memory.disable_oom_killer && r.memory.check_before_update && !r.memory.use_hierarchy);
        assert_int_equal(r.cpu.shares.v, 1024);
        assert_true(r.cpu.burst.set); /* so is a zero burst */
        assert_true(r.cpu.idle.set);
        assert_string_equal(r.cpu.cpus, "2-3");
        assert_string_equal(r.cpu.mems, "0-7");
        assert_int_equal(r.pids_limit.v, 32771);
        assert_int_equal(r.blkio.n_weight_devices, 2);
        assert_int_equal(r.blkio.weight_devices[0].leaf_weight.v, 300);
        assert_false(r.blkio.weight_devices[1].leaf_weight.set);
        assert_int_equal(r.blkio.n_throttle[RES_THROTTLE_READ_BPS], 1);
        assert_int_equal(r.blkio.throttle[RES_THROTTLE_WRITE_IOPS][0].minor, 16);
        assert_int_equal(r.n_hugepages, 2);
        assert_string_equal(r.hugepages[1].page_size, "64KB");
        assert_int_equal(r.net_class_id.v, 1048577);
        assert_string_equal(r.net_prios[0].name, "eth0");
        assert_int_equal(r.n_rdma, 2);
        assert_int_equal(r.n_devices, 2);
        assert_int_equal(r.devices[0].type, 'a');
        assert_int_equal(r.devices[0].major, -1);
        assert_int_equal(r.devices[1].minor, 229);
        assert_string_equal(r.devices[1].access, "rw");
        assert_string_equal(r.unified[0], "io.max");
        assert_string_equal(r.unified[3], "1073741824");
        res_clear(&r);
}

static void test_zeros_and_nulls_are_unset(void **state)
{
        (void)state;
        struct res_resources r;
        parse_ok("{\"memory\":{\"limit\":0,\"reservation\":0,\"swap\":0,\"kernel\":0,\"kernelTCP\":null},"
                 "\"cpu\":{\"shares\":0,\"quota\":0,\"period\":0,\"cpus\":\"\",\"mems\":null},"
                 "\"pids\":{\"limit\":0},\"blockIO\":{\"weight\":0},\"network\":null,\"unified\":{}}",
                 &r);
        assert_false(r.memory.limit.set || r.memory.reservation.set || r.memory.swap.set ||
                     r.memory.kernel.set || r.memory.kernel_tcp.set);
        assert_false(r.cpu.shares.set || r.cpu.quota.set || r.cpu.period.set);
        assert_null(r.cpu.cpus);
        assert_null(r.cpu.mems);
        assert_false(r.pids_limit.set || r.blkio.weight.set);
        assert_null(r.unified);
        assert_false(r.has_devices);
        res_clear(&r);
        /* any negative pids limit is "max", as runc reads it */
        parse_ok("{\"pids\":{\"limit\":-7}}", &r);
        assert_true(r.pids_limit.set);
        assert_int_equal(r.pids_limit.v, -1);
        res_clear(&r);
}

static void test_errors(void **state)
{
        (void)state;
        parse_fails("[]", "t: expected a JSON object");
        parse_fails("{\"memory\":{\"limit\":1.5}}", "linux.resources.memory.limit: expected an integer");
        parse_fails("{\"memory\":{\"limit\":-2}}",
                    "linux.resources.memory.limit: expected -1 (unlimited) or a number of bytes");
        parse_fails("{\"memory\":{\"limit\":100,\"swap\":50}}",
                    "linux.resources.memory.swap: must be at least `memory.limit` (it limits memory+swap)");
        parse_fails("{\"memory\":{\"useHierarchy\":1}}",
                    "linux.resources.memory.useHierarchy: expected a boolean");
        parse_fails("{\"cpu\":{\"shares\":300000}}",
                    "linux.resources.cpu.shares: expected an integer between 0 and 262144");
        parse_fails("{\"cpu\":{\"quota\":-2}}",
                    "linux.resources.cpu.quota: expected an integer between -1 and 9223372036854775807");
        parse_fails("{\"cpu\":{\"mems\":7}}", "linux.resources.cpu.mems: expected a string");
        parse_fails("{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":5}]}}",
                    "linux.resources.blockIO.weightDevice[0]: weights must be between 10 and 1000");
        parse_fails("{\"blockIO\":{\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":0}]}}",
                    "linux.resources.blockIO.throttleWriteBpsDevice[0].rate: required");
        parse_fails("{\"hugepageLimits\":[{\"limit\":1}]}",
                    "linux.resources.hugepageLimits[0].pageSize: required");
        parse_fails("{\"hugepageLimits\":[{\"pageSize\":\"2MB\"}]}",
                    "linux.resources.hugepageLimits[0].limit: required");
        parse_fails("{\"network\":{\"priorities\":[{\"name\":\"a b\",\"priority\":1}]}}",
                    "linux.resources.network.priorities[0].name: expected an interface name");
        parse_fails("{\"network\":{\"classID\":4294967296}}",
                    "linux.resources.network.classID: expected an integer between 0 and 4294967295");
        parse_fails("{\"rdma\":{\"mlx\":[]}}", "linux.resources.rdma.mlx: expected an object");
        parse_fails("{\"devices\":[{\"allow\":true,\"access\":\"rrw\"}]}",
                    "linux.resources.devices[0].access: expected letters of `rwm`, got `rrw`");
        parse_fails("{\"devices\":[{\"allow\":true,\"major\":-3}]}",
                    "linux.resources.devices[0].major: expected an integer between -1 and 4294967295");
        parse_fails("{\"unified\":{\"nodot\":\"1\"}}",
                    "linux.resources.unified.nodot: expected a cgroup file name like `memory.high`");
        parse_fails("{\"unified\":{\"cgroup.subtree_control\":\"+memory\"}}",
                    "linux.resources.unified.cgroup.subtree_control: `cgroup.subtree_control` is managed by "
                    "berth");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full_document),
                cmocka_unit_test(test_zeros_and_nulls_are_unset),
                cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
