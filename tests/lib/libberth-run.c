/* libberth-run ROOT BUNDLE ID [--watch-oom]: run a container through
 * libberth alone (no CLI) and report how it ended.
 *
 * The start callback checks, at the moment it is called, that the pid it got
 * is alive, lives in another pid namespace than ours, and is pid 1 there (the
 * container's init, not some helper).  On success prints
 *   pid=<n> exit=<code> signal=<n> oom=<0|1>
 * and exits 0.  With --watch-oom the start callback also opens an OOM watch
 * (berth_oom_watch_new), the container is kept after it exits so that the
 * watch can be read, then deleted, and the line ends with " oom_events=<n>".
 * A library error prints
 *   libberth-run: <message>[: <strerror>] (errno=<n>)
 * and exits 1; a failed callback check exits 2. */
#include <berth.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct start_record {
        int calls;
        int pid;
        char problem[256];
        berth_context *ctx;
        bool watch_oom;
        berth_oom_watch *watch;
        int oom_events;
};

static void note_problem(struct start_record *rec, const char *what, int pid)
{
        if (rec->problem[0] == '\0')
                snprintf(rec->problem, sizeof rec->problem, "start callback: pid %d: %s", pid, what);
}

/* The last field of /proc/PID/status's NSpid line: the pid as its own
 * namespace sees it; -1 when unknown. */
static int innermost_pid(int pid)
{
        char path[64], line[256];
        int inner = -1;
        snprintf(path, sizeof path, "/proc/%d/status", pid);
        FILE *f = fopen(path, "re");
        if (f == NULL)
                return -1;
        while (fgets(line, sizeof line, f) != NULL) {
                if (strncmp(line, "NSpid:", 6) != 0)
                        continue;
                char *last = strrchr(line, '\t');
                if (last == NULL)
                        last = strrchr(line, ' ');
                if (last != NULL)
                        inner = atoi(last + 1);
                break;
        }
        fclose(f);
        return inner;
}

static void on_start(void *data, const char *id, int pid)
{
        struct start_record *rec = data;
        char path[64], theirs[PATH_MAX], ours[PATH_MAX];
        struct stat st;
        ssize_t n;

        rec->calls++;
        rec->pid = pid;
        if (rec->watch_oom) {
                berth_error *err = NULL;
                rec->watch = berth_oom_watch_new(rec->ctx, id, &err);
                if (rec->watch == NULL) {
                        note_problem(rec, berth_error_message(err), pid);
                        berth_error_free(err);
                }
        }
        if (pid <= 0) {
                note_problem(rec, "not a pid", pid);
                return;
        }
        snprintf(path, sizeof path, "/proc/%d", pid);
        if (stat(path, &st) < 0) {
                note_problem(rec, "no such process", pid);
                return;
        }
        snprintf(path, sizeof path, "/proc/%d/ns/pid", pid);
        n = readlink(path, theirs, sizeof theirs - 1);
        if (n < 0) {
                note_problem(rec, "cannot read its pid namespace", pid);
                return;
        }
        theirs[n] = '\0';
        n = readlink("/proc/self/ns/pid", ours, sizeof ours - 1);
        if (n < 0) {
                note_problem(rec, "cannot read our pid namespace", pid);
                return;
        }
        ours[n] = '\0';
        if (strcmp(theirs, ours) == 0) {
                note_problem(rec, "in our own pid namespace", pid);
                return;
        }
        if (innermost_pid(pid) != 1)
                note_problem(rec, "not pid 1 in its namespace", pid);
}

/* Report a library error the way the CLI does: the message, then the
 * errno's text when there is one. */
static int fail(berth_error *err)
{
        int e = berth_error_errno(err);
        if (e != 0)
                fprintf(stderr, "libberth-run: %s: %s (errno=%d)\n", berth_error_message(err), strerror(e),
                        e);
        else
                fprintf(stderr, "libberth-run: %s (errno=0)\n", berth_error_message(err));
        berth_error_free(err);
        return 1;
}

int main(int argc, char **argv)
{
        berth_error *err = NULL;
        struct start_record rec = {0};
        struct berth_exit_status status = {0};
        struct berth_run_options opts = {0};
        berth_context *ctx;
        berth_bundle *bundle;
        int r;

        if (argc != 4 && !(argc == 5 && strcmp(argv[4], "--watch-oom") == 0)) {
                fprintf(stderr, "usage: libberth-run ROOT BUNDLE ID [--watch-oom]\n");
                return 1;
        }
        rec.watch_oom = argc == 5;
        ctx = berth_context_new(argv[1], NULL, NULL, &err);
        if (ctx == NULL)
                return fail(err);
        bundle = berth_bundle_load(argv[2], &err);
        if (bundle == NULL) {
                berth_context_free(ctx);
                return fail(err);
        }
        rec.ctx = ctx;
        opts.keep = rec.watch_oom;
        opts.on_start = on_start;
        opts.on_start_data = &rec;
        r = berth_run(ctx, argv[3], bundle, &opts, &status, &err);
        berth_bundle_free(bundle);
        if (r == 0 && rec.watch) {
                /* The watch's fd is pollable; what happened is counted while the
                 * container (kept for this) still exists. */
                struct pollfd p = {.fd = berth_oom_watch_fd(rec.watch), .events = POLLIN};
                rec.oom_events = poll(&p, 1, 0) > 0 ? berth_oom_watch_read(rec.watch) : 0;
        }
        berth_oom_watch_free(rec.watch);
        if (r == 0 && opts.keep)
                r = berth_delete(ctx, argv[3], true, &err);
        berth_context_free(ctx);
        if (r < 0)
                return fail(err);
        if (rec.calls != 1) {
                fprintf(stderr, "libberth-run: start callback called %d times\n", rec.calls);
                return 2;
        }
        if (rec.problem[0] != '\0') {
                fprintf(stderr, "libberth-run: %s\n", rec.problem);
                return 2;
        }
        printf("pid=%d exit=%d signal=%d oom=%d", rec.pid, status.exit_code, status.signal,
               status.oom_killed ? 1 : 0);
        if (rec.watch_oom)
                printf(" oom_events=%d", rec.oom_events);
        printf("\n");
        return 0;
}
