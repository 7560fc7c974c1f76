/* Unit tests for what create --dry-run and check say about a config
 * (src/lib/cgroup_forecast.c, preflight.c): mount flags named as config.json
 * names them, and berth's field paths as JSON pointers. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "plan.h"

static void expect_str(char *got, const char *want)
{
        assert_string_equal(got, want);
        free(got);
}

static void mount_flag_names(void **state)
{
        (void)state;
        expect_str(plan_mount_flags(MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID, 0), "rbind,ro,nosuid");
        expect_str(plan_mount_flags(MS_BIND, MS_RDONLY | MS_NOEXEC), "bind,rw,exec");
        expect_str(plan_mount_flags(MS_NODEV | MS_STRICTATIME, MS_NOSUID), "suid,nodev,strictatime");
        expect_str(plan_mount_flags(0, 0), "");
}

static void recursive_attr_names(void **state)
{
        (void)state;
        expect_str(plan_mount_attrs(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV),
                   "rro,rnosuid,rdev");
        /* rrelatime is the atime field cleared with nothing set in it */
        expect_str(plan_mount_attrs(0, MOUNT_ATTR__ATIME), "rrelatime");
        expect_str(plan_mount_attrs(MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME), "rnoatime");
}

static void propagation_names(void **state)
{
        (void)state;
        assert_string_equal(plan_propagation_name(MS_PRIVATE | MS_REC), "rprivate");
        assert_string_equal(plan_propagation_name(MS_SLAVE), "slave");
        assert_string_equal(plan_propagation_name(MS_UNBINDABLE | MS_REC), "runbindable");
        assert_null(plan_propagation_name(0));
}

static void field_pointers(void **state)
{
        (void)state;
        expect_str(preflight_pointer("linux.seccomp.syscalls[3].action"), "/linux/seccomp/syscalls/3/action");
        expect_str(preflight_pointer("mounts[12].options"), "/mounts/12/options");
        /* a unified key is one member, dots and all */
        expect_str(preflight_pointer("linux.resources.unified.memory.max"),
                   "/linux/resources/unified/memory.max");
        expect_str(preflight_pointer("berth.net.mtu"), "/annotations/berth.net.mtu");
        expect_str(preflight_pointer("annotations.berth.net.bridge"), "/annotations/berth.net.bridge");
        expect_str(preflight_pointer("a~b"), "/a~0b");
}

static void message_pointers(void **state)
{
        (void)state;
        expect_str(preflight_pointer_of_message("process.user.uid: expected a non-negative integer"),
                   "/process/user/uid");
        expect_str(
                preflight_pointer_of_message("linux.resources.hugepageLimits[1].pageSize: this host has no"),
                "/linux/resources/hugepageLimits/1/pageSize");
        /* not a field: the whole document */
        expect_str(preflight_pointer_of_message("/b/config.json: line 1, column 2: x"), "");
        expect_str(preflight_pointer_of_message("container `x` already exists"), "");
        expect_str(preflight_pointer_of_message("no colon here"), "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(mount_flag_names),  cmocka_unit_test(recursive_attr_names),
                cmocka_unit_test(propagation_names), cmocka_unit_test(field_pointers),
                cmocka_unit_test(message_pointers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
