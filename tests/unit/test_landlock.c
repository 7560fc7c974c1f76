/* Unit tests: the berth.landlock.* annotations and the rights per ABI. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "landlock.h"
#include "unit.h"

static struct landlock_config *parse_ok(const char *const *kv)
{
        struct landlock_config *c = NULL;
        berth_error *err = NULL;
        if (landlock_config_parse((char *const *)kv, &c, &err) < 0)
                fail_msg("unexpected error: %s", berth_error_message(err));
        return c;
}

static void expect_error(const char *const *kv, const char *msg)
{
        struct landlock_config *c = NULL;
        berth_error *err = NULL;
        int r = landlock_config_parse((char *const *)kv, &c, &err);
        assert_null(c);
        expect_failure(r, err, msg);
}

static void none_given(void **state)
{
        (void)state;
        const char *kv[] = {"berth.net.mode", "none", "org.example", "/x", NULL};
        assert_null(parse_ok(kv));
        assert_null(parse_ok(NULL));
}

static void paths(void **state)
{
        (void)state;
        const char *kv[] = {"berth.landlock.ro", "/bin:/etc/passwd::/usr/lib:", "berth.landlock.rw", "/tmp",
                            NULL};
        struct landlock_config *c = parse_ok(kv);
        assert_non_null(c);
        assert_int_equal(strv_len(c->ro), 3);
        assert_string_equal(c->ro[0], "/bin");
        assert_string_equal(c->ro[1], "/etc/passwd");
        assert_string_equal(c->ro[2], "/usr/lib");
        assert_int_equal(strv_len(c->rw), 1);
        assert_string_equal(c->rw[0], "/tmp");
        landlock_config_free(c);
}

static void one_side_only(void **state)
{
        (void)state;
        const char *kv[] = {"berth.landlock.rw", "/data", NULL};
        struct landlock_config *c = parse_ok(kv);
        assert_non_null(c->ro);
        assert_int_equal(strv_len(c->ro), 0);
        assert_int_equal(strv_len(c->rw), 1);
        landlock_config_free(c);
        /* An empty value restricts too: nothing is allowed. */
        const char *empty[] = {"berth.landlock.ro", "", NULL};
        c = parse_ok(empty);
        assert_non_null(c);
        assert_int_equal(strv_len(c->ro) + strv_len(c->rw), 0);
        landlock_config_free(c);
}

static void bad_values(void **state)
{
        (void)state;
        const char *rel[] = {"berth.landlock.ro", "/bin:etc", NULL};
        expect_error(rel, "berth.landlock.ro: expected absolute paths separated by `:`, got `etc`");
        const char *unknown[] = {"berth.landlock.rwx", "/", NULL};
        expect_error(unknown,
                     "berth.landlock.rwx: unknown setting (known: berth.landlock.ro, berth.landlock.rw)");
}

static void rights_per_abi(void **state)
{
        (void)state;
        assert_int_equal(landlock_fs_rights(0), 0);
        assert_int_equal(landlock_fs_rights(1), 0x1fff);
        assert_int_equal(landlock_fs_rights(2), 0x3fff);
        assert_int_equal(landlock_fs_rights(3), 0x7fff);
        assert_int_equal(landlock_fs_rights(4), 0x7fff); /* ABI 4 added network rights only */
        assert_int_equal(landlock_fs_rights(5), 0xffff);
        assert_int_equal(landlock_fs_rights(7), 0xffff);
        assert_int_equal(landlock_ro_rights() & ~landlock_fs_rights(1), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(none_given),     cmocka_unit_test(paths),
                cmocka_unit_test(one_side_only),  cmocka_unit_test(bad_values),
                cmocka_unit_test(rights_per_abi),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
