/* Unit tests for the pure parts of cgroups.c: path computation, parsing of
 * /proc/self/cgroup and /proc/self/mountinfo, resolving hierarchies on v1,
 * v2 and hybrid hosts, and the state.json form.  Plus destroy's parent
 * walk, run on an ordinary temporary directory tree. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>

#include "cgroups.h"

/* ---- helpers ---------------------------------------------------------- */

static char *path_ok(const char *caller, const char *cgroups_path, const char *id)
{
        berth_error *err = NULL;
        char *p = cgroup_compute_path(caller, cgroups_path, id, &err);
        if (!p)
                fail_msg("unexpected error: %s", err->msg);
        assert_null(err);
        return p;
}

static void path_fails(const char *caller, const char *cgroups_path, const char *id, const char *msg)
{
        berth_error *err = NULL;
        char *p = cgroup_compute_path(caller, cgroups_path, id, &err);
        assert_null(p);
        assert_non_null(err);
        assert_string_equal(err->msg, msg);
        assert_int_equal(err->errnum, EINVAL);
        berth_error_free(err);
}

#define assert_path(expect, caller, cp, id)                                                                  \
        do {                                                                                                 \
                char *p_ = path_ok(caller, cp, id);                                                          \
                assert_string_equal(p_, expect);                                                             \
                free(p_);                                                                                    \
        } while (0)

static const struct cgroup_dir *find_dir(const struct cgroup *cg, const char *controllers)
{
        for (size_t i = 0; i < cg->n; i++)
                if (strcmp(cg->dirs[i].controllers, controllers) == 0)
                        return &cg->dirs[i];
        return NULL;
}

static void assert_dir(const struct cgroup *cg, const char *controllers, const char *mount, const char *path,
                       bool v2)
{
        const struct cgroup_dir *d = find_dir(cg, controllers);
        if (!d)
                fail_msg("no hierarchy `%s`", controllers);
        assert_string_equal(d->mount, mount);
        assert_string_equal(d->path, path);
        assert_null(d->top);
        assert_int_equal(d->v2, v2);
}

/* ---- sample /proc text -------------------------------------------------- */

/* This development machine: hybrid, memory owned by the machine's tooling. */
static const char hybrid_self[] = "9:name=systemd:/\n"
                                  "8:pids:/\n"
                                  "7:blkio:/\n"
                                  "6:freezer:/\n"
                                  "5:devices:/\n"
                                  "4:memory:/process_api/b668\n"
                                  "3:cpuset:/\n"
                                  "2:cpuacct:/\n"
                                  "1:cpu:/\n"
                                  "0::/\n";

static const char hybrid_mountinfo[] =
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
        "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
        "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
        "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
        "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* A systemd v2 host. */
static const char v2_self[] = "0::/user.slice/user-1000.slice/session-2.scope\n";
static const char v2_mountinfo[] =
        "24 1 252:1 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
        "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
        "rw,nsdelegate,memory_recursiveprot\n";

/* A classic v1 host with co-mounted controllers and no cgroup2 mount. */
static const char v1_self[] = "12:net_cls,net_prio:/ci\n"
                              "11:cpu,cpuacct:/ci\n"
                              "10:name=systemd:/system.slice/ci.service\n"
                              "9:memory:/ci\n"
                              "0::/system.slice/ci.service\n";
static const char v1_mountinfo[] =
        "25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
        "26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid shared:10 - cgroup cgroup "
        "rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
        "29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:13 - cgroup cgroup rw,cpu,cpuacct\n"
        "30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid shared:14 - cgroup cgroup "
        "rw,net_cls,net_prio\n"
        "31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid shared:15 - cgroup cgroup rw,memory\n";

/* ---- cgroup_compute_path ---------------------------------------------- */

static void test_path_default(void **state)
{
        (void)state;
        assert_path("/berth/web", "/", NULL, "web");
        assert_path("/process_api/b668/berth/web", "/process_api/b668", NULL, "web");
        assert_path("/berth/web", NULL, NULL, "web");
        /* an empty cgroupsPath is "not set" */
        assert_path("/a/berth/web", "/a", "", "web");
}

static void test_path_relative(void **state)
{
        (void)state;
        assert_path("/a/b", "/", "a/b", "web");
        assert_path("/x/y/a/b", "/x/y", "a/b", "web");
        assert_path("/x/y/a/b", "/x/y/", "a//b/", "web");
        assert_path("/x/a/b", "/x", "./a/./b", "web");
        /* the id plays no part in an explicit path */
        assert_path("/x/a", "/x", "a", NULL);
}

static void test_path_absolute(void **state)
{
        (void)state;
        assert_path("/a/b", "/caller", "/a/b", "web");
        assert_path("/a/b", "/caller", "//a///b//", "web");
        assert_path("/process_api/b668/t", "/process_api/b668", "/process_api/b668/t", "web");
}

static void test_path_invalid(void **state)
{
        (void)state;
        path_fails("/", "..", "web", "linux.cgroupsPath `..`: must not contain `..`");
        path_fails("/", "a/../b", "web", "linux.cgroupsPath `a/../b`: must not contain `..`");
        path_fails("/", "/a/..", "web", "linux.cgroupsPath `/a/..`: must not contain `..`");
        path_fails("/", "/", "web", "linux.cgroupsPath `/`: must not be the root cgroup");
        path_fails("/", "//", "web", "linux.cgroupsPath `//`: must not be the root cgroup");
        path_fails("/x", ".", "web", "linux.cgroupsPath `.`: must name a cgroup below the caller's own");
        path_fails("/", NULL, "", "container id must not be empty");
        path_fails("/", NULL, NULL, "container id must not be empty");
        path_fails("/", NULL, "a/b", "container id `a/b`: must be a single path component");
        path_fails("/", NULL, "..", "container id `..`: must be a single path component");
        /* "..." is an ordinary name */
        assert_path("/.../x", "/", "/.../x", "web");
        assert_path("/..a", "/", "..a", "web");
}

/* ---- /proc/self/cgroup -------------------------------------------------- */

static void test_parse_self_hybrid(void **state)
{
        (void)state;
        struct cgroup_membership *m = NULL;
        size_t n = 0;
        assert_int_equal(cgroup_parse_self(hybrid_self, &m, &n, NULL), 0);
        assert_int_equal(n, 10);
        assert_string_equal(m[0].controllers, "name=systemd");
        assert_string_equal(m[0].path, "/");
        assert_false(m[0].v2);
        assert_string_equal(m[5].controllers, "memory");
        assert_string_equal(m[5].path, "/process_api/b668");
        assert_string_equal(m[9].controllers, "");
        assert_string_equal(m[9].path, "/");
        assert_true(m[9].v2);
        cgroup_memberships_free(m, n);
}

static void test_parse_self_odd(void **state)
{
        (void)state;
        struct cgroup_membership *m = NULL;
        size_t n = 0;
        /* colons in a path, no final newline, blank lines */
        assert_int_equal(cgroup_parse_self("\n3:cpu,cpuacct:/a:b\n\n0::/x:y", &m, &n, NULL), 0);
        assert_int_equal(n, 2);
        assert_string_equal(m[0].controllers, "cpu,cpuacct");
        assert_string_equal(m[0].path, "/a:b");
        assert_false(m[0].v2);
        assert_string_equal(m[1].path, "/x:y");
        assert_true(m[1].v2);
        cgroup_memberships_free(m, n);

        assert_int_equal(cgroup_parse_self("", &m, &n, NULL), 0);
        assert_int_equal(n, 0);
        cgroup_memberships_free(m, n);
}

static void test_parse_self_malformed(void **state)
{
        (void)state;
        static const char *const bad[] = {"1:cpu\n", "garbage\n", ":cpu:/\n", "1:cpu:relative\n", "0::\n"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct cgroup_membership *m = NULL;
                size_t n = 0;
                berth_error *err = NULL;
                assert_int_equal(cgroup_parse_self(bad[i], &m, &n, &err), -EINVAL);
                assert_non_null(err);
                assert_true(str_has_prefix(err->msg, "/proc/self/cgroup: malformed line `"));
                berth_error_free(err);
        }
}

/* ---- /proc/self/mountinfo ----------------------------------------------- */

static void test_parse_mounts_hybrid(void **state)
{
        (void)state;
        struct cgroup_mount *m = NULL;
        size_t n = 0;
        assert_int_equal(cgroup_parse_mounts(hybrid_mountinfo, &m, &n, NULL), 0);
        assert_int_equal(n, 10);
        assert_string_equal(m[0].mountpoint, "/sys/fs/cgroup/cpu");
        assert_string_equal(m[0].root, "/");
        assert_string_equal(m[0].options, "rw,cpu");
        assert_false(m[0].v2);
        assert_string_equal(m[8].options, "rw,name=systemd");
        assert_string_equal(m[9].mountpoint, "/sys/fs/cgroup/unified");
        assert_true(m[9].v2);
        cgroup_mounts_free(m, n);
}

static void test_parse_mounts_fields(void **state)
{
        (void)state;
        /* octal escapes, several optional fields, a sub-tree root */
        const char text[] =
                "50 31 0:32 /docker/abc /mnt/my\\040cg\\134x rw shared:3 master:1 propagate_from:2 - "
                "cgroup cgroup rw,memory\n"
                "51 31 0:40 / /sys/fs/cgroup/pidsx rw - cgroupfoo none rw\n"
                "52 31 0:41 / /run/cgroup2 rw - cgroup2 none rw,nsdelegate";
        struct cgroup_mount *m = NULL;
        size_t n = 0;
        assert_int_equal(cgroup_parse_mounts(text, &m, &n, NULL), 0);
        assert_int_equal(n, 2);
        assert_string_equal(m[0].root, "/docker/abc");
        assert_string_equal(m[0].mountpoint, "/mnt/my cg\\x");
        assert_string_equal(m[0].options, "rw,memory");
        assert_false(m[0].v2);
        assert_string_equal(m[1].mountpoint, "/run/cgroup2");
        assert_string_equal(m[1].options, "rw,nsdelegate");
        assert_true(m[1].v2);
        cgroup_mounts_free(m, n);
}

static void test_parse_mounts_malformed(void **state)
{
        (void)state;
        struct cgroup_mount *m = NULL;
        size_t n = 0;
        berth_error *err = NULL;
        assert_int_equal(cgroup_parse_mounts("32 31 0:29 / - cgroup\n", &m, &n, &err), -EINVAL);
        assert_string_equal(err->msg, "/proc/self/mountinfo: malformed line `32 31 0:29 / - cgroup`");
        berth_error_free(err);
}

/* ---- resolving hierarchies ---------------------------------------------- */

static void test_resolve_hybrid(void **state)
{
        (void)state;
        struct cgroup *cg = cgroup_resolve(hybrid_self, hybrid_mountinfo, "web", NULL, NULL);
        assert_non_null(cg);
        assert_int_equal(cg->n, 10);
        assert_dir(cg, "memory", "/sys/fs/cgroup/memory", "/process_api/b668/berth/web", false);
        assert_dir(cg, "cpu", "/sys/fs/cgroup/cpu", "/berth/web", false);
        assert_dir(cg, "name=systemd", "/sys/fs/cgroup/systemd", "/berth/web", false);
        assert_dir(cg, "", "/sys/fs/cgroup/unified", "/berth/web", true);
        cgroup_free(cg);

        cg = cgroup_resolve(hybrid_self, hybrid_mountinfo, "web", "a/b", NULL);
        assert_dir(cg, "memory", "/sys/fs/cgroup/memory", "/process_api/b668/a/b", false);
        assert_dir(cg, "pids", "/sys/fs/cgroup/pids", "/a/b", false);
        cgroup_free(cg);

        cg = cgroup_resolve(hybrid_self, hybrid_mountinfo, "web", "/process_api/b668/t", NULL);
        assert_dir(cg, "memory", "/sys/fs/cgroup/memory", "/process_api/b668/t", false);
        assert_dir(cg, "cpuset", "/sys/fs/cgroup/cpuset", "/process_api/b668/t", false);
        cgroup_free(cg);
}

/* `base`: where cgroup2 controllers are turned on from at create. */
static void test_resolve_base(void **state)
{
        (void)state;
        struct cgroup *cg = cgroup_resolve(hybrid_self, hybrid_mountinfo, "web", NULL, NULL);
        assert_string_equal(find_dir(cg, "memory")->base, "/process_api/b668");
        assert_string_equal(find_dir(cg, "")->base, "/");
        cgroup_free(cg);
        cg = cgroup_resolve(v2_self, v2_mountinfo, "web", "x", NULL);
        assert_string_equal(find_dir(cg, "")->base, "/user.slice/user-1000.slice/session-2.scope");
        cgroup_free(cg);
        cg = cgroup_resolve(v2_self, v2_mountinfo, "web", "/abs/x", NULL);
        assert_string_equal(find_dir(cg, "")->base, "/");
        cgroup_free(cg);
}

static void test_resolve_v2(void **state)
{
        (void)state;
        struct cgroup *cg = cgroup_resolve(v2_self, v2_mountinfo, "web", NULL, NULL);
        assert_non_null(cg);
        assert_int_equal(cg->n, 1);
        assert_dir(cg, "", "/sys/fs/cgroup", "/user.slice/user-1000.slice/session-2.scope/berth/web", true);
        cgroup_free(cg);
}

static void test_resolve_v1(void **state)
{
        (void)state;
        struct cgroup *cg = cgroup_resolve(v1_self, v1_mountinfo, "web", "sub", NULL);
        assert_non_null(cg);
        /* the 0:: line has no cgroup2 mount: skipped */
        assert_int_equal(cg->n, 4);
        assert_dir(cg, "cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct", "/ci/sub", false);
        assert_dir(cg, "net_cls,net_prio", "/sys/fs/cgroup/net_cls,net_prio", "/ci/sub", false);
        assert_dir(cg, "name=systemd", "/sys/fs/cgroup/systemd", "/system.slice/ci.service/sub", false);
        assert_dir(cg, "memory", "/sys/fs/cgroup/memory", "/ci/sub", false);
        assert_null(find_dir(cg, ""));
        cgroup_free(cg);
}

static void test_resolve_mount_root(void **state)
{
        (void)state;
        /* Inside a container without a cgroup namespace: the hierarchy's
         * /docker/abc is what is mounted at /sys/fs/cgroup/memory. */
        const char self[] = "4:memory:/docker/abc\n1:cpu:/docker/abc\n0::/\n";
        const char mi[] = "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                          "36 31 0:29 /docker/other /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
                          "37 31 0:38 /.. /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        struct cgroup *cg = cgroup_resolve(self, mi, "web", NULL, NULL);
        assert_non_null(cg);
        /* cpu: the mount shows another sub-tree; v2: a "/.." root from outside
         * our cgroup namespace.  Neither reaches our cgroup. */
        assert_int_equal(cg->n, 1);
        assert_dir(cg, "memory", "/sys/fs/cgroup/memory", "/berth/web", false);
        char *dir = cgroup_dir_path(&cg->dirs[0]);
        assert_string_equal(dir, "/sys/fs/cgroup/memory/berth/web");
        free(dir);
        cgroup_free(cg);

        /* an absolute path is taken relative to the mount's root */
        cg = cgroup_resolve(self, mi, "web", "/docker/abc/x", NULL);
        assert_dir(cg, "memory", "/sys/fs/cgroup/memory", "/x", false);
        cgroup_free(cg);
}

static void test_resolve_first_mount(void **state)
{
        (void)state;
        const char self[] = "4:memory:/\n";
        const char mi[] = "35 31 0:32 /sub /mnt/sub rw - cgroup cgroup rw,memory\n"
                          "36 31 0:32 / /first rw - cgroup cgroup rw,memory\n"
                          "37 31 0:32 / /second rw - cgroup cgroup rw,memory\n"
                          "38 31 0:40 / /cpu rw - cgroup cgroup rw,cpu\n";
        struct cgroup *cg = cgroup_resolve(self, mi, "web", NULL, NULL);
        assert_int_equal(cg->n, 1);
        assert_dir(cg, "memory", "/first", "/berth/web", false);
        cgroup_free(cg);

        /* a path inside the sub-tree mount takes that first mount */
        cg = cgroup_resolve(self, mi, "web", "/sub/x", NULL);
        assert_dir(cg, "memory", "/mnt/sub", "/x", false);
        cgroup_free(cg);
}

static void test_resolve_errors(void **state)
{
        (void)state;
        berth_error *err = NULL;
        assert_null(cgroup_resolve(hybrid_self, hybrid_mountinfo, "web", "../x", &err));
        assert_string_equal(err->msg, "linux.cgroupsPath `../x`: must not contain `..`");
        berth_error_free(err);

        err = NULL;
        assert_null(cgroup_resolve(hybrid_self, "22 1 8:1 / / rw - ext4 /dev/vda rw\n", "web", NULL, &err));
        assert_int_equal(err->errnum, ENOENT);
        assert_string_equal(err->msg, "no cgroup hierarchy of this process is mounted");
        berth_error_free(err);

        err = NULL;
        assert_null(cgroup_resolve("bad\n", hybrid_mountinfo, "web", NULL, &err));
        assert_int_equal(err->errnum, EINVAL);
        berth_error_free(err);
}

/* ---- state.json ----------------------------------------------------------- */

static void test_json_roundtrip(void **state)
{
        (void)state;
        struct cgroup *cg = cgroup_resolve(hybrid_self, hybrid_mountinfo, "web", NULL, NULL);
        cg->dirs[0].top = xstrdup("/berth");
        json_t *j = cgroup_to_json(cg);
        char *text = json_dumps(j, JSON_COMPACT);
        assert_true(strstr(text, "{\"controllers\":\"name=systemd\",\"mount\":\"/sys/fs/cgroup/systemd\","
                                 "\"path\":\"/berth/web\",\"top\":\"/berth\",\"v2\":false}") != NULL);
        assert_true(strstr(text, "\"top\":null") != NULL);
        free(text);

        berth_error *err = NULL;
        struct cgroup *back = cgroup_from_json(j, &err);
        assert_null(err);
        assert_non_null(back);
        assert_int_equal(back->n, cg->n);
        for (size_t i = 0; i < cg->n; i++) {
                assert_string_equal(back->dirs[i].controllers, cg->dirs[i].controllers);
                assert_string_equal(back->dirs[i].mount, cg->dirs[i].mount);
                assert_string_equal(back->dirs[i].path, cg->dirs[i].path);
                if (cg->dirs[i].top)
                        assert_string_equal(back->dirs[i].top, cg->dirs[i].top);
                else
                        assert_null(back->dirs[i].top);
                assert_int_equal(back->dirs[i].v2, cg->dirs[i].v2);
        }
        json_decref(j);
        cgroup_free(back);
        cgroup_free(cg);

        /* no hierarchies at all is still a valid (empty) state */
        j = json_array();
        back = cgroup_from_json(j, NULL);
        assert_non_null(back);
        assert_int_equal(back->n, 0);
        cgroup_free(back);
        json_decref(j);
}

static void from_json_fails(const char *text, const char *msg)
{
        json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        berth_error *err = NULL;
        assert_null(cgroup_from_json(j, &err));
        assert_non_null(err);
        assert_string_equal(err->msg, msg);
        assert_int_equal(err->errnum, EINVAL);
        berth_error_free(err);
        json_decref(j);
}

static void test_json_invalid(void **state)
{
        (void)state;
        from_json_fails("{}", "cgroup state: must be an array");
        from_json_fails("[1]", "cgroup state: entry 0 must be an object");
        from_json_fails("[{\"controllers\":\"\",\"mount\":\"/m\",\"path\":\"/p\",\"top\":null,\"v2\":true},"
                        "{\"mount\":\"/m\",\"path\":\"/p\",\"top\":null,\"v2\":true}]",
                        "cgroup state: entry 1: `controllers` must be a string");
        from_json_fails("[{\"controllers\":\"\",\"mount\":5,\"path\":\"/p\",\"top\":null,\"v2\":true}]",
                        "cgroup state: entry 0: `mount` must be a string");
        from_json_fails("[{\"controllers\":\"\",\"mount\":\"/m\",\"path\":\"/p\",\"top\":3,\"v2\":true}]",
                        "cgroup state: entry 0: `top` must be a string or null");
        from_json_fails("[{\"controllers\":\"\",\"mount\":\"/m\",\"path\":\"/p\",\"top\":null,\"v2\":1}]",
                        "cgroup state: entry 0: `v2` must be a boolean");
        from_json_fails("[{\"controllers\":\"\",\"mount\":\"m\",\"path\":\"/p\",\"v2\":true}]",
                        "cgroup state: entry 0: `mount` must be an absolute path");
        from_json_fails("[{\"controllers\":\"\",\"mount\":\"/m\",\"path\":\"/p/../..\",\"v2\":true}]",
                        "cgroup state: entry 0: `path` must be absolute without `..`");
        from_json_fails(
                "[{\"controllers\":\"\",\"mount\":\"/m\",\"path\":\"/a/b\",\"top\":\"/c\",\"v2\":true}]",
                "cgroup state: entry 0: `top` must be an ancestor of `path`");
        from_json_fails(
                "[{\"controllers\":\"\",\"mount\":\"/m\",\"path\":\"/ab\",\"top\":\"/a\",\"v2\":true}]",
                "cgroup state: entry 0: `top` must be an ancestor of `path`");
}

/* ---- destroy's walk up to `top`, on an ordinary directory tree ------------- */

static char *tmp_tree(void)
{
        char *dir = xstrdup("/tmp/berth-test-cg-XXXXXX");
        assert_non_null(mkdtemp(dir));
        return dir;
}

static bool exists(const char *base, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s%s", base, rel);
        struct stat st;
        return stat(p, &st) == 0;
}

static void mk(const char *base, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s%s", base, rel);
        assert_int_equal(mkdir_p(p, 0755), 0);
}

static void test_destroy_parents(void **state)
{
        (void)state;
        _cleanup_free_ char *base = tmp_tree();
        mk(base, "/keep/berth/web");
        mk(base, "/keep/berth/other");
        mk(base, "/solo/x/y");
        struct cgroup_dir dirs[] = {
                {.controllers = (char *)"a",
                 .mount = base,
                 .path = (char *)"/keep/berth/web",
                 .top = (char *)"/keep/berth"},
                {.controllers = (char *)"b",
                 .mount = base,
                 .path = (char *)"/solo/x/y",
                 .top = (char *)"/solo"},
                {.controllers = (char *)"c",
                 .mount = base,
                 .path = (char *)"/gone/z",
                 .top = (char *)"/gone"},
        };
        struct cgroup cg = {.dirs = dirs, .n = ARRAY_SIZE(dirs)};
        berth_error *err = NULL;
        assert_int_equal(cgroup_destroy(&cg, &err), 0);
        assert_null(err);
        /* the shared parent still holds `other`: left alone, quietly */
        assert_false(exists(base, "/keep/berth/web"));
        assert_true(exists(base, "/keep/berth/other"));
        /* everything up to and including top goes, nothing above it */
        assert_false(exists(base, "/solo"));
        assert_true(exists(base, ""));

        /* a second destroy finds nothing and succeeds */
        assert_int_equal(cgroup_destroy(&cg, &err), 0);
        assert_null(err);

        static const char *const leftovers[] = {"/keep/berth/other", "/keep/berth", "/keep", ""};
        for (size_t i = 0; i < ARRAY_SIZE(leftovers); i++) {
                _cleanup_free_ char *p = xasprintf("%s%s", base, leftovers[i]);
                assert_int_equal(rmdir(p), 0);
        }
}

static void test_free_null(void **state)
{
        (void)state;
        cgroup_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path_default),
                cmocka_unit_test(test_path_relative),
                cmocka_unit_test(test_path_absolute),
                cmocka_unit_test(test_path_invalid),
                cmocka_unit_test(test_parse_self_hybrid),
                cmocka_unit_test(test_parse_self_odd),
                cmocka_unit_test(test_parse_self_malformed),
                cmocka_unit_test(test_parse_mounts_hybrid),
                cmocka_unit_test(test_parse_mounts_fields),
                cmocka_unit_test(test_parse_mounts_malformed),
                cmocka_unit_test(test_resolve_hybrid),
                cmocka_unit_test(test_resolve_base),
                cmocka_unit_test(test_resolve_v2),
                cmocka_unit_test(test_resolve_v1),
                cmocka_unit_test(test_resolve_mount_root),
                cmocka_unit_test(test_resolve_first_mount),
                cmocka_unit_test(test_resolve_errors),
                cmocka_unit_test(test_json_roundtrip),
                cmocka_unit_test(test_json_invalid),
                cmocka_unit_test(test_destroy_parents),
                cmocka_unit_test(test_free_null),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
