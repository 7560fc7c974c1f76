/* berth kill: send a signal to a container's init (or all its processes). */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

struct kill_args {
        bool all;
};

static const struct cli_option kill_options[] = {
        {"all", 'a', NULL, "signal every process in the container's cgroup"},
        {NULL, 0, NULL, NULL},
};

static int kill_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        struct kill_args *a = opts;

        (void)cli;
        (void)arg;
        if (val == 'a')
                a->all = true;
        return 0;
}

int cli_parse_signal(const char *s)
{
        const char *name = s;

        if (*s >= '0' && *s <= '9') {
                char *end;
                long v = strtol(s, &end, 10);
                return *end == '\0' && v >= 1 && v <= 64 ? (int)v : -1;
        }
        if (strncasecmp(name, "SIG", 3) == 0)
                name += 3;
        for (int sig = 1; sig < NSIG; sig++) {
                const char *abbrev = sigabbrev_np(sig);
                if (abbrev && strcasecmp(abbrev, name) == 0)
                        return sig;
        }
        return -1;
}

static int kill_main(struct cli *cli, int argc, char **argv)
{
        struct kill_args a = {0};
        struct cli_args pos;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        int sig = SIGTERM;
        int r = cli_parse(cli, &cli_cmd_kill, argc, argv, &a, &pos);

        if (r != CLI_CONTINUE)
                return r;
        if (pos.n > 1 && (sig = cli_parse_signal(pos.v[1])) < 0)
                return cli_fail(cli, 0, "unknown signal `%s`", pos.v[1]);
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        if (berth_kill(ctx, pos.v[0], sig, a.all, &err) < 0)
                return cli_error(cli, err);
        return 0;
}

const struct cli_command cli_cmd_kill = {
        .name = "kill",
        .args = "ID [SIGNAL]",
        .summary = "Send SIGNAL (a name or number; default SIGTERM) to the container's init.",
        .min_args = 1,
        .max_args = 2,
        .options = kill_options,
        .set_option = kill_set_option,
        .main = kill_main,
};
