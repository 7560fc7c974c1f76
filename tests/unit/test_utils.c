/* Unit tests: container id checks, error chaining, small file helpers. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <time.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "utils.h"

static void id_ok(void **state)
{
        (void)state;
        const char *good[] = {"a", "web-1", "A.b_c+d", "x1234567890"};
        for (size_t i = 0; i < ARRAY_SIZE(good); i++)
                assert_int_equal(berth_id_check(good[i], NULL), 0);
}

static void expect_bad_id(const char *id, const char *msg)
{
        berth_error *err = NULL;
        assert_true(berth_id_check(id, &err) < 0);
        assert_non_null(err);
        assert_non_null(strstr(berth_error_message(err), msg));
        berth_error_free(err);
}

static void id_bad(void **state)
{
        (void)state;
        expect_bad_id("", "invalid container id: empty");
        expect_bad_id("a/b", "invalid container id `a/b`");
        expect_bad_id("..", "invalid container id `..`");
        expect_bad_id(".", "invalid container id `.`");
        expect_bad_id("a b", "only letters, digits");
        char long_id[1026];
        memset(long_id, 'x', 1025);
        long_id[1025] = '\0';
        expect_bad_id(long_id, "longer than 1024 bytes");
        long_id[1024] = '\0';
        assert_int_equal(berth_id_check(long_id, NULL), 0);
}

static void error_chain(void **state)
{
        (void)state;
        berth_error *err = NULL;
        assert_int_equal(error_set(&err, EPERM, "mount `%s` on `%s`", "proc", "/proc"), -EPERM);
        /* A second error never replaces the first: the root cause wins. */
        error_set(&err, ENOENT, "later");
        error_wrap(&err, "container `%s`", "web");
        assert_string_equal(berth_error_message(err), "container `web`: mount `proc` on `/proc`");
        assert_int_equal(berth_error_errno(err), EPERM);
        char *text = error_text(err);
        assert_string_equal(text, "container `web`: mount `proc` on `/proc`: Operation not permitted");
        free(text);
        berth_error_free(err);
        assert_int_equal(error_set(NULL, 0, "ignored"), -1);
}

static void files(void **state)
{
        (void)state;
        char dir[] = "/tmp/berth-unit-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char *deep = xasprintf("%s/a/b/c", dir);
        assert_int_equal(mkdir_p(deep, 0755), 0);
        assert_int_equal(mkdir_p(deep, 0755), 0);
        char *file = xasprintf("%s/a/f", dir);
        assert_int_equal(write_file_atomic(AT_FDCWD, file, "hello", 5, 0600), 0);
        size_t len;
        char *got = read_file_at(AT_FDCWD, file, &len);
        assert_string_equal(got, "hello");
        assert_int_equal(len, 5);
        struct stat st;
        assert_int_equal(stat(file, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        /* A path whose parent is a file cannot become a directory. */
        char *under_file = xasprintf("%s/x", file);
        assert_int_equal(mkdir_p(under_file, 0755), -ENOTDIR);
        assert_null(read_file_at(AT_FDCWD, under_file, NULL));
        free(under_file);
        free(got);
        free(file);
        free(deep);
        char *cmd = xasprintf("rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
        free(cmd);
}

static void numbers_and_strv(void **state)
{
        (void)state;
        long v;
        assert_int_equal(parse_long("42", 0, 100, &v), 0);
        assert_int_equal(v, 42);
        assert_int_equal(parse_long("-1", 0, 100, &v), -EINVAL);
        assert_int_equal(parse_long("4x", 0, 100, &v), -EINVAL);
        assert_int_equal(parse_long("", 0, 100, &v), -EINVAL);
        char **sv = NULL;
        size_t n = 0;
        strv_push(&sv, &n, "a");
        strv_push(&sv, &n, "b");
        assert_int_equal(strv_len(sv), 2);
        assert_string_equal(sv[1], "b");
        assert_null(sv[2]);
        strv_free(sv);
        char *t = now_rfc3339();
        assert_int_equal(strlen(t), strlen("2026-01-01T00:00:00.000000000Z"));
        assert_int_equal(t[strlen(t) - 1], 'Z');
        free(t);
}

/* rfc3339_utc computes the civil date itself: the same as gmtime's for
 * every day from 1901 to 2399, at a second before midnight. */
static void rfc3339_matches_gmtime(void **state)
{
        (void)state;
        for (long long day = -25202; day < 157000; day++) {
                struct timespec ts = {.tv_sec = (time_t)(day * 86400 + 86399), .tv_nsec = 5};
                struct tm tm;
                char want[64], full[80];
                gmtime_r(&ts.tv_sec, &tm);
                strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
                snprintf(full, sizeof full, "%s.000000005Z", want);
                char *got = rfc3339_utc(&ts);
                assert_string_equal(got, full);
                free(got);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(id_ok), cmocka_unit_test(id_bad),           cmocka_unit_test(error_chain),
                cmocka_unit_test(files), cmocka_unit_test(numbers_and_strv),
                cmocka_unit_test(rfc3339_matches_gmtime),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
