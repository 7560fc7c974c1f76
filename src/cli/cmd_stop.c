/* berth stop (berth extension): signal, wait, then kill everything left. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>

#include "cli.h"

enum {
        OPT_TIMEOUT = 256,
        OPT_SIGNAL,
};

struct stop_args {
        unsigned timeout_s;
        int signal;
};

static const struct cli_option stop_options[] = {
        {"timeout", OPT_TIMEOUT, "N",
         "seconds to wait for the init after the signal (default 10; 0: kill at once)"},
        {"signal", OPT_SIGNAL, "SIG", "the signal to stop with, a name or number (default SIGTERM)"},
        {NULL, 0, NULL, NULL},
};

static int stop_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        struct stop_args *a = opts;
        char *end;
        unsigned long v;

        if (val == OPT_SIGNAL) {
                a->signal = cli_parse_signal(arg);
                return a->signal > 0
                               ? 0
                               : cli_usage_error(cli, "stop", "stop: --signal: unknown signal `%s`", arg);
        }
        errno = 0;
        v = strtoul(arg, &end, 10);
        /* The wait is in milliseconds and must fit an unsigned. */
        if (*arg < '0' || *arg > '9' || *end != '\0' || errno != 0 || v > UINT_MAX / 1000)
                return cli_usage_error(cli, "stop",
                                       "stop: --timeout: expected a whole number of seconds, got `%s`", arg);
        a->timeout_s = (unsigned)v;
        return 0;
}

static int stop_main(struct cli *cli, int argc, char **argv)
{
        struct stop_args a = {.timeout_s = 10, .signal = SIGTERM};
        struct cli_args pos;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        int r = cli_parse(cli, &cli_cmd_stop, argc, argv, &a, &pos);

        if (r != CLI_CONTINUE)
                return r;
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        if (berth_stop(ctx, pos.v[0], a.signal, a.timeout_s * 1000, &err) < 0)
                return cli_error(cli, err);
        return 0;
}

const struct cli_command cli_cmd_stop = {
        .name = "stop",
        .args = "ID",
        .summary =
                "Stop a container: send SIGNAL, wait up to --timeout, then kill every process in its cgroup.",
        .min_args = 1,
        .max_args = 1,
        .options = stop_options,
        .set_option = stop_set_option,
        .main = stop_main,
};
