/* Unit tests: hooks parsing, and running hooks (small /bin/sh programs):
 * exit status, output in the error, state on stdin, env and args, exec
 * failure, timeout, and warnings that let the rest run. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <jansson.h>

#include <cmocka.h>

#include "hooks.h"

static struct hooks *parse(const char *text, berth_error **err)
{
        json_error_t jerr;
        json_t *j = json_loads(text, 0, &jerr);
        if (!j)
                fail_msg("bad test JSON: %s", jerr.text);
        struct hooks *h = NULL;
        int r = hooks_parse(j, &h, err);
        json_decref(j);
        if (r < 0)
                assert_null(h);
        return h;
}

static void expect_parse_error(const char *text, const char *msg)
{
        berth_error *err = NULL;
        assert_null(parse(text, &err));
        assert_non_null(err);
        if (strcmp(berth_error_message(err), msg) != 0)
                fail_msg("error `%s`, wanted `%s`", berth_error_message(err), msg);
        berth_error_free(err);
}

static void parse_ok(void **state)
{
        (void)state;
        berth_error *err = NULL;
        struct hooks *h = parse("{\"prestart\": [{\"path\": \"/a\"}], \"createRuntime\": [{\"path\": \"/b\", "
                                "\"args\": [\"b\", \"1\"], \"env\": [\"X=1\"], \"timeout\": 5}], "
                                "\"poststop\": [{\"path\": \"/c\"}], \"unknownKind\": 7}",
                                &err);
        assert_non_null(h);
        assert_true(hooks_have(h, HOOK_PRESTART));
        assert_true(hooks_have(h, HOOK_CREATE_RUNTIME));
        assert_false(hooks_have(h, HOOK_POSTSTART));
        const struct hook *b = &h->list[HOOK_CREATE_RUNTIME][0];
        assert_string_equal(b->path, "/b");
        assert_string_equal(b->args[1], "1");
        assert_null(b->args[2]);
        assert_string_equal(b->env[0], "X=1");
        assert_int_equal(b->timeout, 5);
        /* only what start and delete run is kept for state.json */
        assert_non_null(h->saved);
        assert_non_null(json_object_get(h->saved, "poststop"));
        assert_null(json_object_get(h->saved, "prestart"));
        hooks_free(h);
        assert_null(parse("{}", &err));
        assert_null(parse("{\"prestart\": []}", &err));
        assert_null(parse("{\"prestart\": null}", &err));
        assert_null(err);
}

static void parse_errors(void **state)
{
        (void)state;
        expect_parse_error("[]", "hooks: expected an object");
        expect_parse_error("{\"prestart\": {}}", "hooks.prestart: expected an array");
        expect_parse_error("{\"poststart\": [7]}", "hooks.poststart[0]: expected an object");
        expect_parse_error("{\"poststop\": [{\"args\": []}]}", "hooks.poststop[0].path: required");
        expect_parse_error("{\"createRuntime\": [{\"path\": \"/a\"}, {\"path\": \"rel\"}]}",
                           "hooks.createRuntime[1].path: expected an absolute path");
        expect_parse_error("{\"createContainer\": [{\"path\": \"/a\", \"args\": [1]}]}",
                           "hooks.createContainer[0].args: expected an array of strings");
        expect_parse_error("{\"startContainer\": [{\"path\": \"/a\", \"env\": \"X=1\"}]}",
                           "hooks.startContainer[0].env: expected an array of strings");
        expect_parse_error("{\"prestart\": [{\"path\": \"/a\", \"timeout\": 0}]}",
                           "hooks.prestart[0].timeout: expected a positive integer (seconds)");
        expect_parse_error("{\"prestart\": [{\"path\": \"/a\", \"timeout\": \"5\"}]}",
                           "hooks.prestart[0].timeout: expected a positive integer (seconds)");
}

/* One createRuntime hook running `sh -c script`, with `extra` JSON fields. */
static int run_script(const char *script, const char *extra, berth_error **err)
{
        json_t *args = json_pack("[s,s,s]", "sh", "-c", script);
        json_t *hook = json_pack("{s:s, s:o}", "path", "/bin/sh", "args", args);
        if (extra) {
                json_t *more = json_loads(extra, 0, NULL);
                json_object_update(hook, more);
                json_decref(more);
        }
        json_t *doc = json_pack("{s:[o]}", "createRuntime", hook);
        struct hooks *h = NULL;
        assert_int_equal(hooks_parse(doc, &h, NULL), 0);
        json_decref(doc);
        char *ann[] = {"k", "v", NULL};
        char *state = hooks_state_json("web", "creating", 42, "/b", ann);
        int r = hooks_run(h, HOOK_CREATE_RUNTIME, state, NULL, NULL, err);
        free(state);
        hooks_free(h);
        return r;
}

static void expect_run_error(const char *script, const char *extra, const char *msg)
{
        berth_error *err = NULL;
        assert_int_equal(run_script(script, extra, &err), -1);
        assert_non_null(err);
        if (strcmp(berth_error_message(err), msg) != 0)
                fail_msg("error `%s`, wanted `%s`", berth_error_message(err), msg);
        berth_error_free(err);
}

static void run_status_and_output(void **state)
{
        (void)state;
        assert_int_equal(run_script("exit 0", NULL, NULL), 0);
        expect_run_error("exit 3", NULL, "hooks.createRuntime[0]: `/bin/sh` exited with status 3");
        expect_run_error("echo no network >&2; echo; exit 1", NULL,
                         "hooks.createRuntime[0]: `/bin/sh` exited with status 1: no network");
        expect_run_error("kill -TERM $$", NULL, "hooks.createRuntime[0]: `/bin/sh` was killed by signal 15");
        /* The state arrives on stdin, env and args as given, nothing else. */
        assert_int_equal(run_script("read s; [ \"$s\" = '{\"ociVersion\":\"" BERTH_OCI_VERSION
                                    "\",\"id\":\"web\","
                                    "\"status\":\"creating\",\"pid\":42,\"bundle\":\"/b\",\"annotations\":"
                                    "{\"k\":\"v\"}}' ] && [ \"$X\" = 1 ] && [ -z \"$HOME\" ]",
                                    "{\"env\": [\"X=1\"]}", NULL),
                         0);
}

static void run_exec_failure(void **state)
{
        (void)state;
        json_t *doc = json_loads("{\"poststart\": [{\"path\": \"/nonexistent/hook\"}]}", 0, NULL);
        struct hooks *h = NULL;
        assert_int_equal(hooks_parse(doc, &h, NULL), 0);
        json_decref(doc);
        berth_error *err = NULL;
        assert_int_equal(hooks_run(h, HOOK_POSTSTART, "{}", NULL, NULL, &err), -1);
        assert_string_equal(berth_error_message(err), "hooks.poststart[0]: exec `/nonexistent/hook`");
        assert_int_equal(berth_error_errno(err), ENOENT);
        berth_error_free(err);
        hooks_free(h);
}

static void run_timeout(void **state)
{
        (void)state;
        /* The sleep is the hook's child: the whole process group goes. */
        expect_run_error("sleep 30; exit 0", "{\"timeout\": 1}",
                         "hooks.createRuntime[0]: `/bin/sh` timed out after 1 s");
}

struct warnings {
        int n;
        char last[256];
};

static void collect(void *data, const char *msg)
{
        struct warnings *w = data;
        w->n++;
        snprintf(w->last, sizeof w->last, "%s", msg);
}

static void run_warn_goes_on(void **state)
{
        (void)state;
        json_t *doc =
                json_loads("{\"poststop\": [{\"path\": \"/bin/false\"}, {\"path\": \"/bin/sh\", \"args\": "
                           "[\"sh\", \"-c\", \"exit 4\"]}, {\"path\": \"/bin/true\"}]}",
                           0, NULL);
        struct hooks *h = NULL;
        assert_int_equal(hooks_parse(doc, &h, NULL), 0);
        json_decref(doc);
        struct warnings w = {0};
        assert_int_equal(hooks_run(h, HOOK_POSTSTOP, "{}", collect, &w, NULL), 0);
        assert_int_equal(w.n, 2);
        assert_string_equal(w.last, "hooks.poststop[1]: `/bin/sh` exited with status 4");
        hooks_free(h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parse_ok),
                cmocka_unit_test(parse_errors),
                cmocka_unit_test(run_status_and_output),
                cmocka_unit_test(run_exec_failure),
                cmocka_unit_test(run_timeout),
                cmocka_unit_test(run_warn_goes_on),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
