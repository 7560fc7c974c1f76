/* Unit tests: the exit report's JSON, its round trip through the state dir,
 * and its cgroup readers on a fake cgroup tree. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "exit_report.h"

static void json_fields(void **state)
{
        (void)state;
        struct berth_exit_report r = {.status = {.exit_code = 137, .signal = 9, .oom_killed = true},
                                      .peak_memory = -1,
                                      .cpu_time_ns = 42,
                                      .started_at = NULL,
                                      .finished_at = "2026-01-01T00:00:00.000000000Z"};
        json_t *j = exit_report_to_json(&r);
        char *text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT);
        assert_string_equal(text, "{\"exitCode\":137,\"signal\":9,\"oomKilled\":true,\"peakMemory\":null,"
                                  "\"cpuTimeNs\":42,\"startedAt\":null,\"finishedAt\":"
                                  "\"2026-01-01T00:00:00.000000000Z\"}");
        free(text);
        json_decref(j);
}

static void round_trip(void **state)
{
        (void)state;
        char dir[] = "/tmp/berth-exit-report-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dirfd >= 0);
        assert_null(exit_report_load(dirfd)); /* none yet */
        struct berth_exit_report r = {.status = {.exit_code = 3},
                                      .peak_memory = 1 << 20,
                                      .cpu_time_ns = 7,
                                      .started_at = "2026-01-01T00:00:00.000000001Z",
                                      .finished_at = "2026-01-01T00:00:01.000000000Z"};
        char *file = NULL;
        assert_true(asprintf(&file, "%s/copy.json", dir) > 0);
        assert_int_equal(exit_report_save(&r, dirfd, file, NULL), 0);
        struct berth_exit_report *back = exit_report_load(dirfd);
        assert_non_null(back);
        assert_int_equal(back->status.exit_code, 3);
        assert_int_equal(back->status.signal, 0);
        assert_false(back->status.oom_killed);
        assert_int_equal(back->peak_memory, 1 << 20);
        assert_int_equal(back->cpu_time_ns, 7);
        assert_string_equal(back->started_at, r.started_at);
        assert_string_equal(back->finished_at, r.finished_at);
        exit_report_free(back);
        char *a = read_file_at(dirfd, EXIT_REPORT_FILE, NULL), *b = read_file_at(AT_FDCWD, file, NULL);
        assert_string_equal(a, b); /* --exit-file gets the same JSON */
        free(a);
        free(b);
        unlinkat(dirfd, EXIT_REPORT_FILE, 0);
        unlink(file);
        free(file);
        close(dirfd);
        rmdir(dir);
}

static void write_at(const char *dir, const char *name, const char *text)
{
        char *path = NULL;
        assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
        assert_int_equal(write_file_at(AT_FDCWD, path, text, strlen(text), 0644), 0);
        free(path);
}

/* A v1 memory + cpuacct hierarchy and a cgroup2 one, as plain directories. */
static void counters(void **state)
{
        (void)state;
        char root[] = "/tmp/berth-exit-cg-XXXXXX";
        assert_non_null(mkdtemp(root));
        char *mem = NULL, *acct = NULL, *v2 = NULL;
        assert_true(asprintf(&mem, "%s/memory", root) > 0 && mkdir(mem, 0755) == 0);
        assert_true(asprintf(&acct, "%s/cpuacct", root) > 0 && mkdir(acct, 0755) == 0);
        assert_true(asprintf(&v2, "%s/unified", root) > 0 && mkdir(v2, 0755) == 0);
        write_at(mem, "memory.max_usage_in_bytes", "4096\n");
        write_at(acct, "cpuacct.usage", "123456\n");
        write_at(v2, "memory.peak", "8192\n");
        write_at(v2, "cpu.stat", "usage_usec 5\nuser_usec 3\nsystem_usec 2\n");
        struct cgroup_dir dirs[] = {
                {.controllers = "", .mount = v2, .path = "/", .v2 = true},
                {.controllers = "memory", .mount = mem, .path = "/"},
                {.controllers = "cpu,cpuacct", .mount = acct, .path = "/"},
        };
        struct cgroup hybrid = {.dirs = dirs, .n = 3}, unified = {.dirs = dirs, .n = 1};
        /* The v1 hierarchy holding the controller wins, as for the resources. */
        assert_int_equal(exit_report_peak_memory(&hybrid), 4096);
        assert_int_equal(exit_report_cpu_time(&hybrid), 123456);
        assert_int_equal(exit_report_peak_memory(&unified), 8192);
        assert_int_equal(exit_report_cpu_time(&unified), 5000);
        struct cgroup none = {0};
        assert_int_equal(exit_report_peak_memory(&none), -1);
        assert_int_equal(exit_report_cpu_time(&none), -1);
        char *cmd = NULL;
        assert_true(asprintf(&cmd, "rm -rf '%s'", root) > 0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        free(mem);
        free(acct);
        free(v2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(json_fields),
                cmocka_unit_test(round_trip),
                cmocka_unit_test(counters),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
