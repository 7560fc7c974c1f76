/* berth ps: the processes of a container, as runc shows them: ps(1)'s
 * output (ps -ef unless other ps options follow the id) filtered to the
 * container's pids, or with --format json the array of pids. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"

extern char **environ;

struct ps_args {
        bool json;
};

static const struct cli_option ps_options[] = {
        {"format", 'f', "FORMAT", "table (ps output, the default) or json (the pids)"},
        {NULL, 0, NULL, NULL},
};

static int ps_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        struct ps_args *a = opts;

        (void)val;
        if (strcmp(arg, "json") == 0)
                a->json = true;
        else if (strcmp(arg, "table") != 0)
                return cli_fail(cli, 0, "--format: expected `table` or `json`, got `%s`", arg);
        return 0;
}

/* Run ps with `args` and return its standard output; NULL after reporting. */
static char *ps_output(struct cli *cli, char **args, int nargs)
{
        char **argv = cli_xcalloc((size_t)nargs + 3, sizeof *argv);
        int fds[2], status;
        pid_t pid;

        argv[0] = "ps";
        if (nargs == 0)
                argv[1] = "-ef";
        for (int i = 0; i < nargs; i++)
                argv[i + 1] = args[i];
        if (pipe2(fds, O_CLOEXEC) < 0) {
                free(argv);
                cli_fail(cli, errno, "pipe");
                return NULL;
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
        int e = posix_spawnp(&pid, "ps", &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        free(argv);
        close(fds[1]);
        if (e != 0) {
                close(fds[0]);
                cli_fail(cli, e, "run `ps`");
                return NULL;
        }
        size_t len = 0, cap = 8192;
        char *out = malloc(cap);
        ssize_t n;
        if (!out)
                cli_oom();
        while ((n = read(fds[0], out + len, cap - len - 1)) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                len += (size_t)n;
                if (len + 1 == cap && !(out = realloc(out, cap *= 2)))
                        cli_oom();
        }
        out[len] = '\0';
        close(fds[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                free(out);
                cli_fail(cli, 0, "`ps` failed (exit status %d)",
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                return NULL;
        }
        return out;
}

/* The column of `PID` in ps's header, or -1. */
static int pid_column(const char *header)
{
        int col = 0;
        for (const char *p = header; *p;) {
                p += strspn(p, " \t");
                size_t n = strcspn(p, " \t\n");
                if (n == 0)
                        break;
                if (n == 3 && strncmp(p, "PID", 3) == 0)
                        return col;
                col++;
                p += n;
        }
        return -1;
}

static bool line_has_pid(const char *line, int col, const int *pids, size_t n)
{
        const char *p = line;
        for (int i = 0;; i++) {
                p += strspn(p, " \t");
                if (!*p || *p == '\n')
                        return false;
                if (i == col)
                        break;
                p += strcspn(p, " \t\n");
        }
        char *end;
        long v = strtol(p, &end, 10);
        for (size_t i = 0; i < n; i++)
                if (pids[i] == v)
                        return end != p;
        return false;
}

static int print_table(struct cli *cli, char **args, int nargs, const int *pids, size_t n)
{
        _cleanup_free_ char *out = ps_output(cli, args, nargs);
        if (!out)
                return 1;
        char *eol = strchr(out, '\n');
        if (eol)
                *eol = '\0';
        int col = pid_column(out);
        if (col < 0)
                return cli_fail(cli, 0, "no PID column in the output of `ps`");
        printf("%s\n", out);
        for (char *line = eol ? eol + 1 : NULL; line && *line;) {
                char *next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (line_has_pid(line, col, pids, n))
                        printf("%s\n", line);
                line = next;
        }
        return 0;
}

static int ps_main(struct cli *cli, int argc, char **argv)
{
        struct ps_args a = {0};
        struct cli_args pos;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        _cleanup_free_ int *pids = NULL;
        size_t n = 0;
        int r = cli_parse(cli, &cli_cmd_ps, argc, argv, &a, &pos);

        if (r != CLI_CONTINUE)
                return r;
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        if (berth_pids(ctx, pos.v[0], &pids, &n, &err) < 0)
                return cli_error(cli, err);
        if (!a.json)
                return print_table(cli, pos.v + 1, pos.n - 1, pids, n);
        if (pos.n > 1)
                return cli_usage_error(cli, "ps", "ps: ps options do not go with --format json");
        putchar('[');
        for (size_t i = 0; i < n; i++)
                printf("%s%d", i ? "," : "", pids[i]);
        puts("]");
        return 0;
}

const struct cli_command cli_cmd_ps = {
        .name = "ps",
        .args = "ID [PS OPTIONS]",
        .summary = "List the processes of a container (ps -ef filtered, or their pids as JSON).",
        .min_args = 1,
        .max_args = INT_MAX,
        .in_order = true,
        .options = ps_options,
        .set_option = ps_set_option,
        .main = ps_main,
};
