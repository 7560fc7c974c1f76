/*
 * benchtool.c - the timing side of `make bench` (see bench/README.md).
 *
 * Commands are started with posix_spawn (stdin and stdout on /dev/null) and
 * timed with CLOCK_MONOTONIC from spawn to wait4.  Several groups (one per
 * runtime) are measured by this one process in interleaved blocks: every
 * round runs BLOCK iterations of each group, in an order reshuffled every
 * round (fixed seed), so slow drifts of the machine's load hit all runtimes
 * alike and no runtime always inherits the same neighbour's asynchronous
 * kernel work (network namespace and cgroup teardown).  Every "{id}" in a
 * template becomes a unique container id PREFIX-NAME-<iteration>.
 *
 *   benchtool loop -n N [-w W] [-b BLOCK] -p PREFIX -o OUTPAT [-e ERRPAT] --
 *          NAME BEFORE ONFAIL CMD ARG... [::: NAME BEFORE ONFAIL CMD ARG...]...
 *       N timed runs per group, after W untimed warm-ups per group.  BEFORE
 *       and ONFAIL are /bin/sh -c templates ("-" = none) run untimed before
 *       every run and after a failed one.  One line per timed run:
 *         wall_us user_us sys_us maxrss_kb minflt nvcsw nivcsw rc
 *       (rusage from wait4: the command and every descendant it reaped).
 *
 *   benchtool lifecycle -n N [-w W] [-b BLOCK] -p PREFIX -o OUTPAT [-e ERRPAT] --
 *          NAME BUNDLE RUNTIME [GLOBAL-OPTION...] [::: ...]...
 *       One cycle: `create -b BUNDLE id`, `state id` (untimed, for the pid),
 *       `start id`, the wait for the container process to exit (pidfd poll;
 *       we are a child subreaper, so it is re-parented to us and reaped),
 *       `delete id`.  One line per cycle:
 *         create_us start_us wait_us delete_us total_us memcg_peak_bytes rc
 *       memcg_peak: memory.max_usage_in_bytes (v1) or memory.peak (v2) of the
 *       memory cgroup the runtime put the container in, read after the exit
 *       and before delete (-1 when it stayed in our own cgroup).  Read only.
 *
 *   benchtool par -n N -P P [-r ROUNDS] -p PREFIX -o OUTPAT [-e ERRPAT] --
 *          NAME ONFAIL CMD ARG... [::: ...]...
 *       ROUNDS rounds (groups reshuffled every round); per round and group,
 *       once the CPUs are idle, N runs with at most P at a time.  One line
 *       per batch:  wall_us succeeded N 0
 *
 *   benchtool stats FILE COL
 *       "n nfail mean median stddev min max p90" of column COL (1-based)
 *       over the lines whose last column (rc) is 0.
 *
 *   benchtool reap -- CMD ARG...
 *       Runs CMD as a child subreaper and reaps every orphan until CMD exits.
 *
 *   benchtool settle [MAX_MS [IDLE_PCT]]
 *       Waits until the CPUs are >= IDLE_PCT % idle over 50 ms (or MAX_MS).
 *
 * Build: gcc -O2 -o benchtool benchtool.c -lm
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

extern char **environ;

static int devnull = -1;
static int errfd = 2;

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double tv_us(struct timeval tv)
{
        return tv.tv_sec * 1e6 + tv.tv_usec;
}

static void *xmalloc(size_t n)
{
        void *p = malloc(n);
        if (!p)
                abort();
        return p;
}

/* tmpl with every occurrence of key replaced by val (malloc'd). */
static char *subst(const char *tmpl, const char *key, const char *val)
{
        size_t kl = strlen(key), vl = strlen(val), n = 0;
        const char *p;
        char *out, *o;

        for (p = tmpl; (p = strstr(p, key)); p += kl)
                n++;
        out = xmalloc(strlen(tmpl) + n * vl + 1);
        for (o = out, p = tmpl; *p;) {
                if (strncmp(p, key, kl) == 0) {
                        memcpy(o, val, vl);
                        o += vl;
                        p += kl;
                } else {
                        *o++ = *p++;
                }
        }
        *o = 0;
        return out;
}

static int status_rc(int st)
{
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
        return 1;
}

/* Start argv with stdin on /dev/null, stdout on outfd (or /dev/null),
 * stderr on errfd.  Returns the pid, or -1 after reporting the failure. */
static pid_t spawn(char *const argv[], int outfd)
{
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int rc;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, devnull, 0);
        posix_spawn_file_actions_adddup2(&fa, outfd >= 0 ? outfd : devnull, 1);
        posix_spawn_file_actions_adddup2(&fa, errfd, 2);
        rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) {
                dprintf(errfd, "benchtool: spawn %s: %s\n", argv[0], strerror(rc));
                return -1;
        }
        return pid;
}

/* Run argv and wait.  Returns the exit code (128+sig if signalled, 127 if
 * it could not be started); *ru and *wall get its rusage and wall time. */
static int run_cmd(char *const argv[], int outfd, struct rusage *ru, double *wall)
{
        struct rusage dummy;
        double t0 = now_us();
        pid_t pid;
        int st;

        if (!ru)
                ru = &dummy;
        memset(ru, 0, sizeof(*ru));
        pid = spawn(argv, outfd);
        if (pid < 0) {
                if (wall)
                        *wall = 0;
                return 127;
        }
        while (wait4(pid, &st, 0, ru) < 0) {
                if (errno != EINTR) {
                        st = 127 << 8;
                        break;
                }
        }
        if (wall)
                *wall = now_us() - t0;
        return status_rc(st);
}

/* tmpl ("-" or NULL: nothing) with {id} replaced, through /bin/sh -c. */
static void run_shell(const char *tmpl, const char *id)
{
        char *cmd, *argv[4] = {"/bin/sh", "-c", NULL, NULL};

        if (!tmpl)
                return;
        cmd = subst(tmpl, "{id}", id);
        argv[2] = cmd;
        run_cmd(argv, -1, NULL, NULL);
        free(cmd);
}

static void reap_zombies(void)
{
        while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
                ;
}

/* ------------------------------------------------------------ groups -- */

enum mode { MODE_LOOP, MODE_LIFECYCLE, MODE_PAR };

struct group {
        const char *name;
        const char *before; /* loop: sh template run before each run, or NULL */
        const char *onfail; /* loop, par: sh template run after a failure, or NULL */
        const char *bundle; /* lifecycle */
        char **tmpl;        /* loop, par: argv template; lifecycle: runtime argv prefix */
        int ntmpl;
        FILE *out;
        int errfd;
        int fails;
};

struct opts {
        int n, w, block, par, rounds;
        const char *prefix, *outpat, *errpat;
        struct group *g;
        int ng;
};

static void usage_exit(const char *msg)
{
        fprintf(stderr, "benchtool: %s (see the comment at the top of benchtool.c)\n", msg);
        exit(2);
}

static int parse_flags(int argc, char **argv, struct opts *o)
{
        int i;

        for (i = 2; i < argc && strcmp(argv[i], "--"); i++) {
                const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (!v)
                        usage_exit("an option needs a value");
                i++;
                if (!strcmp(f, "-n"))
                        o->n = atoi(v);
                else if (!strcmp(f, "-w"))
                        o->w = atoi(v);
                else if (!strcmp(f, "-b"))
                        o->block = atoi(v);
                else if (!strcmp(f, "-P"))
                        o->par = atoi(v);
                else if (!strcmp(f, "-r"))
                        o->rounds = atoi(v);
                else if (!strcmp(f, "-p"))
                        o->prefix = v;
                else if (!strcmp(f, "-o"))
                        o->outpat = v;
                else if (!strcmp(f, "-e"))
                        o->errpat = v;
                else
                        usage_exit("unknown option");
        }
        if (i >= argc || !o->outpat)
                usage_exit("need -o OUTPAT and -- GROUP [::: GROUP]...");
        return i + 1;
}

static const char *opt_template(const char *s)
{
        return strcmp(s, "-") ? s : NULL;
}

/* Fill g from argv[start..start+len) for mode m; open its files. */
static void group_init(struct opts *o, struct group *g, char **a, int len, enum mode m)
{
        static const int min_len[] = {[MODE_LOOP] = 4, [MODE_LIFECYCLE] = 3, [MODE_PAR] = 3};
        char *path;

        if (len < min_len[m])
                usage_exit(m == MODE_LOOP        ? "bad group (NAME BEFORE ONFAIL CMD...)"
                           : m == MODE_LIFECYCLE ? "bad group (NAME BUNDLE RUNTIME...)"
                                                 : "bad group (NAME ONFAIL CMD...)");
        g->name = a[0];
        if (m == MODE_LOOP) {
                g->before = opt_template(a[1]);
                g->onfail = opt_template(a[2]);
                g->tmpl = a + 3;
                g->ntmpl = len - 3;
        } else if (m == MODE_LIFECYCLE) {
                g->bundle = a[1];
                g->tmpl = a + 2;
                g->ntmpl = len - 2;
        } else {
                g->onfail = opt_template(a[1]);
                g->tmpl = a + 2;
                g->ntmpl = len - 2;
        }
        path = subst(o->outpat, "{name}", g->name);
        g->out = fopen(path, "a");
        if (!g->out) {
                perror(path);
                exit(2);
        }
        free(path);
        g->errfd = 2;
        if (o->errpat) {
                path = subst(o->errpat, "{name}", g->name);
                g->errfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (g->errfd < 0) {
                        perror(path);
                        exit(2);
                }
                free(path);
        }
}

static void parse_opts(int argc, char **argv, struct opts *o, enum mode m)
{
        int i, start;

        memset(o, 0, sizeof(*o));
        o->n = 10;
        o->block = 10;
        o->par = 8;
        o->rounds = 1;
        o->prefix = "bench";
        start = parse_flags(argc, argv, o);
        if (o->block < 1)
                o->block = 1;
        o->g = calloc(argc, sizeof(struct group));
        for (i = start; i <= argc; i++) {
                if (i < argc && strcmp(argv[i], ":::"))
                        continue;
                group_init(o, &o->g[o->ng++], argv + start, i - start, m);
                start = i + 1;
        }
}

/* Fresh random order (fixed seed: reproducible).  A rotation would keep
 * cyclic neighbours fixed: one runtime would always inherit the same
 * predecessor's asynchronous teardown. */
static void shuffle(int *perm, int n, unsigned int *seed)
{
        int i, j, tmp;

        for (i = n - 1; i > 0; i--) {
                j = (int)(rand_r(seed) % (unsigned)(i + 1));
                tmp = perm[i];
                perm[i] = perm[j];
                perm[j] = tmp;
        }
}

typedef void (*iter_fn)(struct opts *o, struct group *g, int i);

/* Warm-ups (i < 0) for every group, then rounds of BLOCK timed iterations
 * per group, in a fresh order every round. */
static void drive(struct opts *o, iter_fn fn)
{
        int gi, i, done, *perm = xmalloc(o->ng * sizeof(int));
        unsigned int seed = 0x5eed;

        for (gi = 0; gi < o->ng; gi++)
                for (i = -o->w; i < 0; i++)
                        fn(o, &o->g[gi], i);
        for (gi = 0; gi < o->ng; gi++)
                perm[gi] = gi;
        for (done = 0; done < o->n;) {
                int cnt = o->n - done < o->block ? o->n - done : o->block;
                shuffle(perm, o->ng, &seed);
                for (gi = 0; gi < o->ng; gi++) {
                        struct group *g = &o->g[perm[gi]];
                        for (i = done; i < done + cnt; i++)
                                fn(o, g, i);
                        fflush(g->out);
                }
                done += cnt;
        }
        free(perm);
}

static int finish(struct opts *o)
{
        int gi, all_failed = o->n > 0;

        for (gi = 0; gi < o->ng; gi++) {
                fclose(o->g[gi].out);
                if (o->g[gi].fails < o->n)
                        all_failed = 0;
        }
        return all_failed;
}

static void make_id(char *buf, size_t len, struct opts *o, struct group *g, int i)
{
        snprintf(buf, len, "%s-%s-%s%d", o->prefix, g->name, i < 0 ? "w" : "", i < 0 ? -i : i);
}

static char **expand(struct group *g, const char *id)
{
        char **av = xmalloc((g->ntmpl + 1) * sizeof(char *));
        int j;

        for (j = 0; j < g->ntmpl; j++)
                av[j] = subst(g->tmpl[j], "{id}", id);
        av[g->ntmpl] = NULL;
        return av;
}

static void free_argv(char **av)
{
        char **p;

        for (p = av; *p; p++)
                free(*p);
        free(av);
}

/* --------------------------------------------------------------- settle -- */

/* Waits until the machine is idle (>= pct % idle over a 50 ms window) or
 * max_ms passed; returns the ms waited.  Lets the asynchronous kernel work
 * of one batch (namespace and cgroup teardown) finish before the next. */
static double settle(int max_ms, double pct)
{
        double t0 = now_us();
        unsigned long long a[8], b[8];

        for (;;) {
                unsigned long long tot = 0, idle;
                int k, ok = 1;
                for (k = 0; k < 2 && ok; k++) {
                        unsigned long long *v = k ? b : a;
                        FILE *f = fopen("/proc/stat", "r");
                        if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                                         &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
                                ok = 0;
                        if (f)
                                fclose(f);
                        if (!k)
                                usleep(50000);
                }
                if (!ok)
                        break;
                for (k = 0; k < 8; k++)
                        tot += b[k] - a[k];
                idle = (b[3] - a[3]) + (b[4] - a[4]);
                if (tot == 0 || 100.0 * idle / tot >= pct || (now_us() - t0) / 1000 >= max_ms)
                        break;
        }
        return (now_us() - t0) / 1000;
}

static int cmd_settle(int argc, char **argv)
{
        printf("%.0f\n", settle(argc > 2 ? atoi(argv[2]) : 1000, argc > 3 ? atof(argv[3]) : 90.0));
        return 0;
}

/* -------------------------------------------------------------- loop -- */

static void loop_iter(struct opts *o, struct group *g, int i)
{
        char id[256], **av;
        struct rusage ru;
        double wall;
        int rc;

        make_id(id, sizeof(id), o, g, i);
        errfd = g->errfd;
        run_shell(g->before, id);
        av = expand(g, id);
        rc = run_cmd(av, -1, &ru, &wall);
        free_argv(av);
        if (rc != 0) {
                dprintf(errfd, "benchtool: %s failed rc=%d\n", id, rc);
                if (i >= 0)
                        g->fails++;
                run_shell(g->onfail, id);
        }
        if (i >= 0)
                fprintf(g->out, "%.1f %.0f %.0f %ld %ld %ld %ld %d\n", wall, tv_us(ru.ru_utime),
                        tv_us(ru.ru_stime), ru.ru_maxrss, ru.ru_minflt, ru.ru_nvcsw, ru.ru_nivcsw, rc);
}

static int cmd_loop(int argc, char **argv)
{
        struct opts o;

        parse_opts(argc, argv, &o, MODE_LOOP);
        drive(&o, loop_iter);
        return finish(&o);
}

/* --------------------------------------------------------------- par -- */

/* N runs of g, at most P at a time; returns how many exited 0. */
static int par_batch(struct opts *o, struct group *g, int round, double *wall)
{
        pid_t *pids = calloc(o->n, sizeof(pid_t));
        int *rcs = calloc(o->n, sizeof(int));
        int started = 0, running = 0, ok = 0, k, st;
        char id[256];
        double t0 = now_us();
        pid_t w;

        errfd = g->errfd;
        while (started < o->n || running > 0) {
                while (running < o->par && started < o->n) {
                        char **av;
                        snprintf(id, sizeof(id), "%s-%s-r%d-%d", o->prefix, g->name, round, started);
                        av = expand(g, id);
                        pids[started] = spawn(av, -1);
                        free_argv(av);
                        rcs[started] = 127;
                        running += pids[started] > 0;
                        started++;
                }
                if (running == 0)
                        continue;
                w = waitpid(-1, &st, 0);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (k = 0; k < started; k++)
                        if (pids[k] == w) {
                                rcs[k] = status_rc(st);
                                pids[k] = 0;
                                running--;
                        }
        }
        *wall = now_us() - t0;
        for (k = 0; k < o->n; k++) {
                if (rcs[k] == 0) {
                        ok++;
                        continue;
                }
                snprintf(id, sizeof(id), "%s-%s-r%d-%d", o->prefix, g->name, round, k);
                dprintf(errfd, "benchtool: %s failed rc=%d\n", id, rcs[k]);
                run_shell(g->onfail, id);
        }
        free(pids);
        free(rcs);
        return ok;
}

static int cmd_par(int argc, char **argv)
{
        struct opts o;
        unsigned int seed = 0x9a7;
        int r, gi, ok, *perm;
        double wall;

        parse_opts(argc, argv, &o, MODE_PAR);
        perm = xmalloc(o.ng * sizeof(int));
        for (gi = 0; gi < o.ng; gi++)
                perm[gi] = gi;
        for (r = 0; r < o.rounds; r++) {
                shuffle(perm, o.ng, &seed);
                for (gi = 0; gi < o.ng; gi++) {
                        struct group *g = &o.g[perm[gi]];
                        settle(1000, 90.0);
                        ok = par_batch(&o, g, r, &wall);
                        fprintf(g->out, "%.0f %d %d 0\n", wall, ok, o.n);
                        fflush(g->out);
                }
        }
        free(perm);
        for (gi = 0; gi < o.ng; gi++)
                fclose(o.g[gi].out);
        return 0; /* failed runs show in the batch lines */
}

/* --------------------------------------------------------- lifecycle -- */

static char own_cg[4096];

/* Memory cgroup path of pid ("" = unknown); *v2 set for the unified one. */
static void memcg_of(pid_t pid, char *buf, size_t len, int *v2)
{
        char path[64], line[4096];
        FILE *f;

        buf[0] = 0;
        *v2 = 0;
        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        f = fopen(path, "r");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                char *c1 = strchr(line, ':'), *c2, *nl, *ctl;
                if (!c1 || !(c2 = strchr(c1 + 1, ':')))
                        continue;
                if ((nl = strchr(c2, '\n')))
                        *nl = 0;
                *c2 = 0;
                ctl = c1 + 1;
                if (!strcmp(ctl, "memory") || !strncmp(ctl, "memory,", 7) || strstr(ctl, ",memory")) {
                        snprintf(buf, len, "%s", c2 + 1);
                        *v2 = 0;
                        break;
                }
                if (c1 == line + 1 && line[0] == '0' && ctl[0] == 0 && !buf[0]) {
                        snprintf(buf, len, "%s", c2 + 1); /* unified; a v1 memory line wins */
                        *v2 = 1;
                }
        }
        fclose(f);
}

static long long read_ll(const char *dir, const char *file)
{
        char path[4400];
        long long v = -1;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        f = fopen(path, "r");
        if (!f)
                return -1;
        if (fscanf(f, "%lld", &v) != 1)
                v = -1;
        fclose(f);
        return v;
}

/* RUNTIME [GLOBAL-OPTION...] followed by the given arguments (up to 4). */
static char **rt_argv(struct group *g, const char *a0, const char *a1, const char *a2, const char *a3)
{
        const char *extra[] = {a0, a1, a2, a3};
        char **av = xmalloc((g->ntmpl + 5) * sizeof(char *));
        int n = 0, k;

        for (k = 0; k < g->ntmpl; k++)
                av[n++] = g->tmpl[k];
        for (k = 0; k < 4 && extra[k]; k++)
                av[n++] = (char *)extra[k];
        av[n] = NULL;
        return av;
}

/* "pid": N out of `RUNTIME state ID`. */
static pid_t state_pid(struct group *g, const char *id)
{
        char **av = rt_argv(g, "state", id, NULL, NULL), buf[65536], *p;
        int pfd[2], rc;
        ssize_t n, tot = 0;
        pid_t pid = -1;

        if (pipe2(pfd, O_CLOEXEC) < 0) {
                free(av);
                return -1;
        }
        /* the state JSON is far below the pipe's capacity: run, then read */
        rc = run_cmd(av, pfd[1], NULL, NULL);
        free(av);
        close(pfd[1]);
        while ((n = read(pfd[0], buf + tot, sizeof(buf) - 1 - tot)) > 0)
                tot += n;
        close(pfd[0]);
        buf[tot] = 0;
        if (rc != 0)
                return -1;
        if ((p = strstr(buf, "\"pid\""))) {
                p += 5;
                while (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n')
                        p++;
                pid = (pid_t)atol(p);
        }
        return pid > 0 ? pid : -1;
}

static int timed(struct group *g, const char *a0, const char *a1, const char *a2, const char *a3, double *t)
{
        char **av = rt_argv(g, a0, a1, a2, a3);
        int rc = run_cmd(av, -1, NULL, t);
        free(av);
        return rc;
}

/* Waits for pid (a pidfd when we have one) to exit; 0, or -1 after 30 s. */
static int wait_exit(pid_t pid, int pidfd)
{
        double t0 = now_us();
        char pp[64];

        if (pidfd >= 0) {
                struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
                int pr;
                while ((pr = poll(&pfd, 1, 30000)) < 0 && errno == EINTR)
                        ;
                return pr == 0 ? -1 : 0;
        }
        snprintf(pp, sizeof(pp), "/proc/%d", (int)pid);
        while (now_us() - t0 < 30e6) {
                if (waitpid(pid, NULL, WNOHANG | __WALL) == pid || access(pp, F_OK) != 0)
                        return 0;
                usleep(50);
        }
        return -1;
}

static void lc_iter(struct opts *o, struct group *g, int i)
{
        char id[256], cg[4096], cgdir[4200] = "";
        double tc = 0, ts = 0, tw = 0, td = 0, t0;
        long long mem = -1;
        int rc = 0, v2 = 0, pidfd = -1;
        pid_t pid = -1;
        const char *fail = NULL;

        make_id(id, sizeof(id), o, g, i);
        errfd = g->errfd;
        if ((rc = timed(g, "create", "-b", g->bundle, id, &tc)))
                fail = "create";
        if (!fail && (pid = state_pid(g, id)) < 0)
                fail = "state";
        if (!fail) {
                /* untimed: the container process and its memory cgroup */
                pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
                memcg_of(pid, cg, sizeof(cg), &v2);
                if (cg[0] && strcmp(cg, own_cg) != 0)
                        snprintf(cgdir, sizeof(cgdir), v2 ? "/sys/fs/cgroup%s" : "/sys/fs/cgroup/memory%s",
                                 cg);
                if ((rc = timed(g, "start", id, NULL, NULL, &ts)))
                        fail = "start";
        }
        if (!fail) {
                t0 = now_us();
                if (wait_exit(pid, pidfd) < 0)
                        fail = "wait (30 s timeout)";
                tw = now_us() - t0;
                waitpid(pid, NULL, WNOHANG | __WALL);
                reap_zombies();
                if (cgdir[0])
                        mem = read_ll(cgdir, v2 ? "memory.peak" : "memory.max_usage_in_bytes");
        }
        if (!fail && (rc = timed(g, "delete", id, NULL, NULL, &td)))
                fail = "delete";
        if (pidfd >= 0)
                close(pidfd);
        if (fail) {
                dprintf(errfd, "benchtool: lifecycle %s failed at %s rc=%d\n", id, fail, rc);
                timed(g, "delete", "-f", id, NULL, NULL);
                if (i >= 0)
                        g->fails++;
                if (!rc)
                        rc = 1;
        }
        reap_zombies();
        if (i >= 0)
                fprintf(g->out, "%.1f %.1f %.1f %.1f %.1f %lld %d\n", tc, ts, tw, td, tc + ts + tw + td, mem,
                        rc);
}

static int cmd_lifecycle(int argc, char **argv)
{
        struct opts o;
        int v2;

        parse_opts(argc, argv, &o, MODE_LIFECYCLE);
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                perror("PR_SET_CHILD_SUBREAPER");
        memcg_of(getpid(), own_cg, sizeof(own_cg), &v2);
        drive(&o, lc_iter);
        return finish(&o);
}

/* ------------------------------------------------------------- stats -- */

static int cmp_d(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static int cmd_stats(int argc, char **argv)
{
        char line[4096];
        double *v = NULL, sum = 0, sq = 0, mean, med, sd;
        size_t n = 0, cap = 0, nfail = 0, k;
        FILE *f;
        int col;

        if (argc < 4)
                usage_exit("stats FILE COL");
        col = atoi(argv[3]);
        f = fopen(argv[2], "r");
        if (!f) {
                printf("0 0 nan nan nan nan nan nan\n");
                return 0;
        }
        while (fgets(line, sizeof(line), f)) {
                double fields[64];
                int nf = 0;
                char *save, *tok;
                for (tok = strtok_r(line, " \t\n", &save); tok && nf < 64;
                     tok = strtok_r(NULL, " \t\n", &save))
                        fields[nf++] = atof(tok);
                if (nf < 1 || nf < col)
                        continue;
                if (fields[nf - 1] != 0) {
                        nfail++;
                        continue;
                }
                if (n == cap) {
                        cap = cap ? cap * 2 : 256;
                        v = realloc(v, cap * sizeof(double));
                        if (!v)
                                abort();
                }
                v[n++] = fields[col - 1];
        }
        fclose(f);
        if (n == 0) {
                printf("0 %zu nan nan nan nan nan nan\n", nfail);
                return 0;
        }
        qsort(v, n, sizeof(double), cmp_d);
        for (k = 0; k < n; k++)
                sum += v[k];
        mean = sum / n;
        for (k = 0; k < n; k++)
                sq += (v[k] - mean) * (v[k] - mean);
        sd = n > 1 ? sqrt(sq / (n - 1)) : 0;
        med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        printf("%zu %zu %.3f %.3f %.3f %.3f %.3f %.3f\n", n, nfail, mean, med, sd, v[0], v[n - 1],
               v[(size_t)ceil(0.9 * n) - 1]);
        free(v);
        return 0;
}

/* -------------------------------------------------------------- reap -- */

static volatile pid_t reap_child = -1;

static void fwd_signal(int sig)
{
        if (reap_child > 0)
                kill(reap_child, sig);
}

static int cmd_reap(int argc, char **argv)
{
        struct sigaction sa;
        int i, st, rc = 1;
        pid_t pid;

        for (i = 2; i < argc && strcmp(argv[i], "--"); i++)
                ;
        if (i + 1 >= argc)
                usage_exit("reap -- CMD...");
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                perror("PR_SET_CHILD_SUBREAPER");
        pid = fork();
        if (pid < 0) {
                perror("fork");
                return 1;
        }
        if (pid == 0) {
                execvp(argv[i + 1], argv + i + 1);
                perror(argv[i + 1]);
                _exit(127);
        }
        reap_child = pid;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = fwd_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        for (;;) {
                pid_t w = waitpid(-1, &st, __WALL);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (w == pid) {
                        rc = status_rc(st);
                        break;
                }
        }
        reap_zombies();
        return rc;
}

int main(int argc, char **argv)
{
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (argc < 2)
                usage_exit("usage: benchtool loop|lifecycle|par|stats|reap|settle ...");
        if (!strcmp(argv[1], "loop"))
                return cmd_loop(argc, argv);
        if (!strcmp(argv[1], "lifecycle"))
                return cmd_lifecycle(argc, argv);
        if (!strcmp(argv[1], "par"))
                return cmd_par(argc, argv);
        if (!strcmp(argv[1], "stats"))
                return cmd_stats(argc, argv);
        if (!strcmp(argv[1], "reap"))
                return cmd_reap(argc, argv);
        if (!strcmp(argv[1], "settle"))
                return cmd_settle(argc, argv);
        usage_exit("unknown mode");
        return 2;
}
