/* libberth-cycles ROOT BUNDLE PREFIX CYCLES ALIVE: drive libberth in one
 * long-lived process, as an engine would, and check that it loses nothing.
 * libberth-cycles ROOT BUNDLE --inspect: the operations that clone nothing,
 * on the containers already under ROOT.
 * libberth-cycles ROOT BUNDLE --full PREFIX CYCLES RUN_BUNDLE: CYCLES times
 * create, start, exec (`sh -c 'exit 5'`, its status checked), kill and
 * delete of PREFIX-f0, PREFIX-f1, ..., then a foreground run of RUN_BUNDLE
 * (as PREFIX-run);
 * prints "full=<n> run=<exit code>".  Both modes are what the valgrind test
 * runs (tests/integration/test_load.py): under valgrind 3.19, which has no
 * clone3, pidfd_open or pidfd_send_signal, the library takes its fallbacks
 * (src/lib/pidfd.h).
 *
 *   1. CYCLES times: create, start, state, kill (SIGKILL), delete of one
 *      container (ids PREFIX-c0, PREFIX-c1, ...), each through the API;
 *   2. ALIVE containers created and started (PREFIX-a0, ...), all listed as
 *      running at once, then each killed and deleted.
 *
 * The process's open fds are counted after the first cycle and at the end:
 * a leak of one descriptor per operation shows as a difference.  The
 * bundle's process must keep running until killed (e.g. `sleep 1000`).
 * Prints
 *   cycles=<n> alive=<n> fds_first=<n> fds_last=<n>
 * and exits 0; on a library error prints "libberth-cycles: <op> <id>:
 * <message>" and exits 1; on a lost descriptor or a wrong status exits 2.
 * Built with the sanitizers, LeakSanitizer checks at exit that every
 * allocation of the library was freed too. */
#include <berth.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count_fds(void)
{
        int n = 0;
        DIR *d = opendir("/proc/self/fd");
        if (d == NULL)
                return -1;
        while (readdir(d) != NULL)
                n++;
        closedir(d);
        return n - 3; /* ".", ".." and the fd of the listing itself */
}

static int fail(const char *op, const char *id, berth_error *err)
{
        int e = berth_error_errno(err);
        fprintf(stderr, "libberth-cycles: %s %s: %s%s%s\n", op, id, berth_error_message(err), e ? ": " : "",
                e ? strerror(e) : "");
        berth_error_free(err);
        return 1;
}

static int expect_status(berth_context *ctx, const char *id, enum berth_status want)
{
        berth_error *err = NULL;
        struct berth_state st;
        if (berth_state_get(ctx, id, &st, &err) < 0)
                return fail("state", id, err);
        enum berth_status got = st.status;
        berth_state_clear(&st);
        if (got != want) {
                fprintf(stderr, "libberth-cycles: %s is %s, expected %s\n", id, berth_status_name(got),
                        berth_status_name(want));
                return 2;
        }
        return 0;
}

static int up(berth_context *ctx, const berth_bundle *bundle, const char *id)
{
        berth_error *err = NULL;
        if (berth_create(ctx, id, bundle, NULL, &err) < 0)
                return fail("create", id, err);
        if (berth_start(ctx, id, &err) < 0)
                return fail("start", id, err);
        return expect_status(ctx, id, BERTH_RUNNING);
}

static int down(berth_context *ctx, const char *id)
{
        berth_error *err = NULL;
        if (berth_kill(ctx, id, SIGKILL, false, &err) < 0)
                return fail("kill", id, err);
        /* The init may not have died yet: force waits for it. */
        if (berth_delete(ctx, id, true, &err) < 0)
                return fail("delete", id, err);
        return 0;
}

static int count_running(berth_context *ctx, const char *prefix, int *running)
{
        berth_error *err = NULL;
        char **ids = NULL;
        if (berth_list(ctx, &ids, &err) < 0)
                return fail("list", prefix, err);
        *running = 0;
        for (char **p = ids; *p != NULL; p++) {
                struct berth_state st;
                if (berth_state_get(ctx, *p, &st, &err) < 0) {
                        berth_strv_free(ids);
                        return fail("state", *p, err);
                }
                *running += st.status == BERTH_RUNNING;
                berth_state_clear(&st);
        }
        berth_strv_free(ids);
        return 0;
}

static int run(berth_context *ctx, const berth_bundle *bundle, const char *prefix, long cycles, long alive,
               int *fds_first)
{
        char id[256];
        int r;
        for (long i = 0; i < cycles; i++) {
                snprintf(id, sizeof id, "%s-c%ld", prefix, i);
                if ((r = up(ctx, bundle, id)) != 0 || (r = down(ctx, id)) != 0)
                        return r;
                if (i == 0)
                        *fds_first = count_fds();
        }
        for (long i = 0; i < alive; i++) {
                snprintf(id, sizeof id, "%s-a%ld", prefix, i);
                if ((r = up(ctx, bundle, id)) != 0)
                        return r;
        }
        int running = 0;
        if ((r = count_running(ctx, prefix, &running)) != 0)
                return r;
        if (running != alive) {
                fprintf(stderr, "libberth-cycles: %d running, expected %ld\n", running, alive);
                return 2;
        }
        for (long i = 0; i < alive; i++) {
                snprintf(id, sizeof id, "%s-a%ld", prefix, i);
                if ((r = down(ctx, id)) != 0)
                        return r;
        }
        if (cycles == 0)
                *fds_first = count_fds();
        return 0;
}

/* One container through every operation that clones: create, start, exec, kill, delete. */
static int full_cycle(berth_context *ctx, const berth_bundle *bundle, const char *id)
{
        int r = up(ctx, bundle, id);
        if (r != 0)
                return r;
        berth_error *err = NULL;
        char *args[] = {"sh", "-c", "exit 5", NULL};
        struct berth_exec_options eo = {.args = args};
        struct berth_exit_status st;
        if (berth_exec(ctx, id, &eo, &st, &err) < 0)
                return fail("exec", id, err);
        if (st.exit_code != 5) {
                fprintf(stderr, "libberth-cycles: exec in %s exited %d, expected 5\n", id, st.exit_code);
                return 2;
        }
        return down(ctx, id);
}

static int full(berth_context *ctx, const berth_bundle *bundle, const char *prefix, long cycles,
                const char *run_path)
{
        char id[256];
        int r;
        for (long i = 0; i < cycles; i++) {
                snprintf(id, sizeof id, "%s-f%ld", prefix, i);
                if ((r = full_cycle(ctx, bundle, id)) != 0)
                        return r;
        }
        berth_error *err = NULL;
        berth_bundle *run_bundle = berth_bundle_load(run_path, &err);
        if (run_bundle == NULL)
                return fail("load", run_path, err);
        struct berth_exit_status st;
        snprintf(id, sizeof id, "%s-run", prefix);
        r = berth_run(ctx, id, run_bundle, NULL, &st, &err);
        berth_bundle_free(run_bundle);
        if (r < 0)
                return fail("run", id, err);
        printf("full=%ld run=%d\n", cycles, st.exit_code);
        return 0;
}

/* Load the bundle, then for every container under the root: state, pids,
 * stats, pause, resume, an OOM watch, and finally delete --force. */
static int inspect(berth_context *ctx, const berth_bundle *bundle)
{
        (void)bundle;
        berth_error *err = NULL;
        char **ids = NULL;
        if (berth_list(ctx, &ids, &err) < 0)
                return fail("list", "", err);
        int r = 0, n = 0;
        for (char **id = ids; *id != NULL && r == 0; id++, n++) {
                int *pids = NULL;
                size_t npids = 0;
                char *stats = NULL;
                berth_oom_watch *w = NULL;
                if ((r = expect_status(ctx, *id, BERTH_RUNNING)) != 0)
                        break;
                if (berth_pids(ctx, *id, &pids, &npids, &err) < 0 || npids == 0 ||
                    (stats = berth_stats(ctx, *id, &err)) == NULL || berth_pause(ctx, *id, &err) < 0 ||
                    (r = expect_status(ctx, *id, BERTH_PAUSED)) != 0 || berth_resume(ctx, *id, &err) < 0 ||
                    (w = berth_oom_watch_new(ctx, *id, &err)) == NULL) {
                        r = r ? r : err ? fail("inspect", *id, err) : 2;
                }
                free(pids);
                free(stats);
                berth_oom_watch_free(w);
                if (r == 0 && berth_delete(ctx, *id, true, &err) < 0)
                        r = fail("delete", *id, err);
        }
        berth_strv_free(ids);
        if (r == 0)
                printf("inspected=%d\n", n);
        return r;
}

int main(int argc, char **argv)
{
        bool is_full = argc == 7 && strcmp(argv[3], "--full") == 0;
        if ((argc == 4 && strcmp(argv[3], "--inspect") == 0) || is_full) {
                berth_error *err = NULL;
                berth_context *ctx = berth_context_new(argv[1], NULL, NULL, &err);
                if (ctx == NULL)
                        return fail("context", argv[1], err);
                berth_bundle *bundle = berth_bundle_load(argv[2], &err);
                int r = !bundle   ? fail("load", argv[2], err)
                        : is_full ? full(ctx, bundle, argv[4], strtol(argv[5], NULL, 10), argv[6])
                                  : inspect(ctx, bundle);
                berth_bundle_free(bundle);
                berth_context_free(ctx);
                return r;
        }
        if (argc != 6) {
                fprintf(stderr, "usage: libberth-cycles ROOT BUNDLE PREFIX CYCLES ALIVE\n"
                                "       libberth-cycles ROOT BUNDLE --inspect\n"
                                "       libberth-cycles ROOT BUNDLE --full PREFIX CYCLES RUN_BUNDLE\n");
                return 1;
        }
        long cycles = strtol(argv[4], NULL, 10), alive = strtol(argv[5], NULL, 10);
        berth_error *err = NULL;
        berth_context *ctx = berth_context_new(argv[1], NULL, NULL, &err);
        if (ctx == NULL)
                return fail("context", argv[1], err);
        berth_bundle *bundle = berth_bundle_load(argv[2], &err);
        if (bundle == NULL) {
                berth_context_free(ctx);
                return fail("load", argv[2], err);
        }
        int fds_first = -1;
        int r = run(ctx, bundle, argv[3], cycles, alive, &fds_first);
        int fds_last = count_fds();
        berth_bundle_free(bundle);
        berth_context_free(ctx);
        if (r != 0)
                return r;
        printf("cycles=%ld alive=%ld fds_first=%d fds_last=%d\n", cycles, alive, fds_first, fds_last);
        if (fds_first != fds_last) {
                fprintf(stderr, "libberth-cycles: %d fds after the first cycle, %d at the end\n", fds_first,
                        fds_last);
                return 2;
        }
        return 0;
}
