/* Unit tests: exec's process overrides, --cgroup sub-paths, environment merging. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "exec.h"
#include "process.h"
#include "unit.h"

static void env_merge(void **state)
{
        (void)state;
        char *env[] = {"PATH=/bin", "A=1", "B=2", NULL};
        char *add[] = {"A=x", "C=3", "C=4", NULL};
        char **out = process_env_merge(env, add);
        /* replaced keys drop out of place, additions come last, last duplicate wins */
        const char *want[] = {"PATH=/bin", "B=2", "A=x", "C=4", NULL};
        for (size_t i = 0; want[i]; i++)
                assert_string_equal(out[i], want[i]);
        assert_null(out[4]);
        strv_free(out);
}

static struct spec_process base(void)
{
        struct spec_process p = {0};
        p.cwd = xstrdup("/");
        p.env = xzalloc(2 * sizeof *p.env);
        p.env[0] = xstrdup("PATH=/bin");
        p.caps.present = true;
        p.caps.effective = p.caps.permitted = p.caps.bounding = 1;
        return p;
}

static void override(void **state)
{
        (void)state;
        struct spec_process p = base();
        char *env[] = {"PATH=/usr/bin", "X=1", NULL};
        char *caps[] = {"CAP_NET_ADMIN", "SYS_ADMIN", NULL};
        uint32_t gids[] = {10, 20};
        struct berth_exec_options o = {.tty = true,
                                       .cwd = "/tmp",
                                       .env = env,
                                       .set_uid = true,
                                       .uid = 5,
                                       .additional_gids = gids,
                                       .n_additional_gids = 2,
                                       .caps = caps,
                                       .no_new_privs = true};
        assert_int_equal(exec_override(&p, &o, NULL), 0);
        assert_true(p.terminal);
        assert_string_equal(p.cwd, "/tmp");
        assert_string_equal(p.env[0], "PATH=/usr/bin");
        assert_string_equal(p.env[1], "X=1");
        assert_int_equal(p.user.uid, 5);
        assert_int_equal(p.user.gid, 0); /* not set: kept */
        assert_int_equal(p.user.n_additional_gids, 2);
        uint64_t want = 1 | (1ULL << 12) | (1ULL << 21);
        assert_true(p.caps.effective == want && p.caps.permitted == want && p.caps.bounding == want);
        assert_int_equal(p.caps.ambient, 0); /* no inheritable capabilities: none ambient */
        assert_true(p.no_new_privileges);
        spec_process_clear(&p);
}

static void override_errors(void **state)
{
        (void)state;
        struct spec_process p = base();
        berth_error *err = NULL;
        int r;
        char *bad_env[] = {"=x", NULL};
        char *bad_cap[] = {"CAP_NOPE", NULL};
        struct berth_exec_options o = {.env = bad_env};
        r = exec_override(&p, &o, &err);
        expect_failure(r, err, "--env: expected `KEY=value`, got `=x`");
        err = NULL;
        o = (struct berth_exec_options){.cwd = "tmp"};
        r = exec_override(&p, &o, &err);
        expect_failure(r, err, "--cwd: expected an absolute path, got `tmp`");
        err = NULL;
        o = (struct berth_exec_options){.caps = bad_cap};
        r = exec_override(&p, &o, &err);
        expect_failure(r, err, "--cap: unknown capability `CAP_NOPE`");
        spec_process_clear(&p);
}

static struct cgroup *sample(void)
{
        struct cgroup *cg = xzalloc(sizeof *cg);
        cg->dirs = xzalloc(3 * sizeof *cg->dirs);
        const char *ctrls[] = {"cpu,cpuacct", "pids", ""};
        for (size_t i = 0; i < 3; i++) {
                cg->dirs[i].controllers = xstrdup(ctrls[i]);
                cg->dirs[i].mount = xasprintf("/sys/fs/cgroup/%zu", i);
                cg->dirs[i].path = xstrdup("/c/id");
                cg->dirs[i].v2 = i == 2;
                cg->n++;
        }
        return cg;
}

static void sub_cgroup(void **state)
{
        (void)state;
        struct cgroup *cg = sample();
        char *all[] = {"/sub", NULL};
        struct cgroup *out = exec_sub_cgroup(cg, all, NULL);
        for (size_t i = 0; i < 3; i++)
                assert_string_equal(out->dirs[i].path, "/c/id/sub");
        cgroup_free(out);
        char *some[] = {"cpuacct,pids:a/b", "pids:c", NULL};
        out = exec_sub_cgroup(cg, some, NULL);
        assert_string_equal(out->dirs[0].path, "/c/id/a/b");
        assert_string_equal(out->dirs[1].path, "/c/id/c"); /* a later entry wins */
        assert_string_equal(out->dirs[2].path, "/c/id");   /* cgroup2 only by the plain form */
        cgroup_free(out);
        berth_error *err = NULL;
        int r;
        char *escape[] = {"pids:a/../..", NULL};
        r = exec_sub_cgroup(cg, escape, &err) ? 0 : -1;
        expect_failure(r, err, "expected a path below");
        err = NULL;
        char *unknown[] = {"memory:x", NULL};
        r = exec_sub_cgroup(cg, unknown, &err) ? 0 : -1;
        expect_failure(r, err, "no cgroup hierarchy has controller `memory`");
        cgroup_free(cg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(env_merge),
                cmocka_unit_test(override),
                cmocka_unit_test(override_errors),
                cmocka_unit_test(sub_cgroup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
