/* Unit tests for the LSM labels (src/lib/lsm.c): detection from a fake
 * sysfs tree, the exec-label writes against a fake attr directory, the
 * errors when a label is asked for on a host without its LSM, and the
 * mount label in the spec's mount data. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "lsm.h"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        return remove(path);
}

static int tree_setup(void **state)
{
        char tmpl[] = "/tmp/berth-test-lsm-XXXXXX";
        if (!mkdtemp(tmpl))
                return -1;
        *state = xstrdup(tmpl);
        return 0;
}

static int tree_teardown(void **state)
{
        char *root = *state;
        int r = nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(root);
        return r;
}

static void put(const char *root, const char *rel, const char *content)
{
        _cleanup_free_ char *path = xasprintf("%s%s", root, rel);
        _cleanup_free_ char *dir = xstrdup(path);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(mkdir_p(dir, 0755), 0);
        assert_int_equal(write_file_at(AT_FDCWD, path, content, strlen(content), 0644), 0);
}

static char *get(const char *root, const char *rel)
{
        _cleanup_free_ char *path = xasprintf("%s%s", root, rel);
        char *text = read_file_at(AT_FDCWD, path, NULL);
        assert_non_null(text);
        return text;
}

static void test_detection(void **state)
{
        const char *root = *state;
        assert_false(lsm_apparmor_enabled(root));
        assert_false(lsm_selinux_enabled(root));
        put(root, "/sys/module/apparmor/parameters/enabled", "N\n");
        _cleanup_free_ char *sec = xasprintf("%s/sys/kernel/security/apparmor", root);
        assert_int_equal(mkdir_p(sec, 0755), 0);
        assert_false(lsm_apparmor_enabled(root));
        put(root, "/sys/module/apparmor/parameters/enabled", "Y\n");
        assert_true(lsm_apparmor_enabled(root));
        put(root, "/sys/fs/selinux/enforce", "1\n");
        assert_true(lsm_selinux_enabled(root));
}

static void test_check_refuses_without_lsm(void **state)
{
        const char *root = *state;
        struct spec_process p = {.apparmor_profile = "docker-default"};
        berth_error *err = NULL;
        assert_true(lsm_check(&p, NULL, root, &err) < 0);
        assert_string_equal(berth_error_message(err),
                            "process.apparmorProfile `docker-default`: AppArmor is not enabled on this host");
        berth_error_free(err);
        err = NULL;
        p = (struct spec_process){.selinux_label = "system_u:system_r:container_t:s0"};
        assert_true(lsm_check(&p, NULL, root, &err) < 0);
        assert_string_equal(berth_error_message(err),
                            "process.selinuxLabel `system_u:system_r:container_t:s0`: "
                            "SELinux is not enabled on this host");
        berth_error_free(err);
        err = NULL;
        p = (struct spec_process){0};
        assert_true(lsm_check(&p, "system_u:object_r:container_file_t:s0", root, &err) < 0);
        assert_string_equal(berth_error_message(err),
                            "linux.mountLabel `system_u:object_r:container_file_t:s0`: "
                            "SELinux is not enabled on this host");
        berth_error_free(err);
        err = NULL;
        /* Nothing asked for: fine anywhere. */
        assert_int_equal(lsm_check(&p, NULL, root, &err), 0);
        assert_null(err);
}

static void test_check_accepts_with_lsm(void **state)
{
        const char *root = *state;
        put(root, "/sys/module/apparmor/parameters/enabled", "Y\n");
        _cleanup_free_ char *sec = xasprintf("%s/sys/kernel/security/apparmor", root);
        assert_int_equal(mkdir_p(sec, 0755), 0);
        put(root, "/sys/fs/selinux/enforce", "0\n");
        struct spec_process p = {.apparmor_profile = "x", .selinux_label = "a:b:c:s0"};
        berth_error *err = NULL;
        assert_int_equal(lsm_check(&p, "a:b:c:s0", root, &err), 0);
        assert_null(err);
}

static void test_exec_labels_legacy(void **state)
{
        const char *root = *state;
        put(root, "/attr/exec", "");
        _cleanup_free_ char *attr = xasprintf("%s/attr", root);
        berth_error *err = NULL;
        assert_int_equal(lsm_set_exec_labels(attr, "docker-default", NULL, &err), 0);
        _cleanup_free_ char *got = get(root, "/attr/exec");
        assert_string_equal(got, "exec docker-default");
        assert_int_equal(lsm_set_exec_labels(attr, NULL, "system_u:system_r:container_t:s0:c1,c2", &err), 0);
        _cleanup_free_ char *got2 = get(root, "/attr/exec");
        assert_string_equal(got2, "system_u:system_r:container_t:s0:c1,c2");
}

static void test_exec_labels_stacked(void **state)
{
        const char *root = *state;
        put(root, "/attr/exec", "");
        put(root, "/attr/apparmor/exec", "");
        _cleanup_free_ char *attr = xasprintf("%s/attr", root);
        berth_error *err = NULL;
        assert_int_equal(lsm_set_exec_labels(attr, "unconfined", NULL, &err), 0);
        _cleanup_free_ char *stacked = get(root, "/attr/apparmor/exec");
        _cleanup_free_ char *legacy = get(root, "/attr/exec");
        assert_string_equal(stacked, "exec unconfined");
        assert_string_equal(legacy, "");
}

static void test_exec_labels_error(void **state)
{
        const char *root = *state;
        _cleanup_free_ char *attr = xasprintf("%s/none", root);
        berth_error *err = NULL;
        assert_true(lsm_set_exec_labels(attr, NULL, "a:b:c:s0", &err) < 0);
        _cleanup_free_ char *want = xasprintf("process.selinuxLabel: open `%s/none/exec`", root);
        assert_string_equal(berth_error_message(err), want);
        assert_int_equal(berth_error_errno(err), ENOENT);
        berth_error_free(err);
}

static void test_mount_data(void **state)
{
        (void)state;
        _cleanup_free_ char *a = lsm_mount_data(NULL, "s:o:t:s0:c1,c2");
        assert_string_equal(a, "context=\"s:o:t:s0:c1,c2\"");
        _cleanup_free_ char *b = lsm_mount_data("mode=755,size=65536k", "s:o:t:s0");
        assert_string_equal(b, "mode=755,size=65536k,context=\"s:o:t:s0\"");
}

/* linux.mountLabel reaches the data of the mounts that take a context
 * (tmpfs, devpts, mqueue), not binds or proc; the process labels are kept. */
static void test_spec_labels(void **state)
{
        (void)state;
        const char *text =
                "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
                "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"apparmorProfile\":\"prof\","
                "\"selinuxLabel\":\"u:r:t:s0\"},"
                "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\","
                "\"mode=755\"]},"
                "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\"},"
                "{\"destination\":\"/b\",\"type\":\"bind\",\"source\":\"/tmp\",\"options\":[\"rbind\"]}],"
                "\"linux\":{\"mountLabel\":\"u:o:t:s0:c1,c2\"}}";
        berth_error *err = NULL;
        struct spec *s = spec_parse(text, NULL, "config.json", &err);
        if (!s)
                fail_msg("%s", berth_error_message(err));
        assert_string_equal(s->process.apparmor_profile, "prof");
        assert_string_equal(s->process.selinux_label, "u:r:t:s0");
        assert_string_equal(s->mount_label, "u:o:t:s0:c1,c2");
        assert_null(s->mounts[0].data);
        assert_string_equal(s->mounts[1].data, "mode=755,context=\"u:o:t:s0:c1,c2\"");
        assert_string_equal(s->mounts[2].data, "context=\"u:o:t:s0:c1,c2\"");
        assert_null(s->mounts[3].data);
        spec_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_detection, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(test_check_refuses_without_lsm, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(test_check_accepts_with_lsm, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(test_exec_labels_legacy, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(test_exec_labels_stacked, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(test_exec_labels_error, tree_setup, tree_teardown),
                cmocka_unit_test(test_mount_data),
                cmocka_unit_test(test_spec_labels),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
