/* berth create, and the option handling `run` shares with it. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "cli.h"

static const struct cli_option create_options[] = {
        CLI_CREATE_OPTIONS,
        {NULL, 0, NULL, NULL},
};

void cli_create_args_init(struct cli_create_args *a)
{
        *a = (struct cli_create_args){.bundle = "."};
}

/* A whole decimal number in 0..INT_MAX - 3, so that 3 + N stays an int. */
static int parse_fd_count(const char *s, int *out)
{
        char *end;
        long v;

        if (*s < '0' || *s > '9')
                return -1;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end != '\0' || v > INT_MAX - 3)
                return -1;
        *out = (int)v;
        return 0;
}

int cli_create_set_option(struct cli *cli, const char *cmd, struct cli_create_args *a, int val,
                          const char *arg)
{
        switch (val) {
        case 'b':
                a->bundle = arg;
                return 0;
        case CLI_OPT_PID_FILE:
                a->opts.pid_file = arg;
                return 0;
        case CLI_OPT_CONSOLE_SOCKET:
                a->opts.console_socket = arg;
                return 0;
        case CLI_OPT_NO_PIVOT:
                a->opts.no_pivot = true;
                return 0;
        case CLI_OPT_NO_NEW_KEYRING:
                a->opts.no_new_keyring = true;
                return 0;
        case CLI_OPT_PRESERVE_FDS:
                if (parse_fd_count(arg, &a->opts.preserve_fds) == 0)
                        return 0;
                return cli_usage_error(
                        cli, cmd, "%s: --preserve-fds: expected a non-negative integer, got `%s`", cmd, arg);
        default:
                abort();
        }
}

berth_bundle *cli_bundle_load(struct cli *cli, const char *id, const char *dir)
{
        _cleanup_error_ berth_error *err = NULL;
        berth_bundle *bundle;

        if (berth_id_check(id, &err) < 0) {
                cli_error(cli, err);
                return NULL;
        }
        cli_debug(cli, "container `%s`: load bundle `%s`", id, dir);
        bundle = berth_bundle_load(dir, &err);
        if (!bundle)
                cli_error(cli, err);
        return bundle;
}

static int create_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        return cli_create_set_option(cli, "create", opts, val, arg);
}

static int create_main(struct cli *cli, int argc, char **argv)
{
        struct cli_create_args a;
        struct cli_args pos;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        _cleanup_bundle_ berth_bundle *bundle = NULL;
        int r;

        cli_create_args_init(&a);
        r = cli_parse(cli, &cli_cmd_create, argc, argv, &a, &pos);
        if (r != CLI_CONTINUE)
                return r;
        bundle = cli_bundle_load(cli, pos.v[0], a.bundle);
        if (!bundle)
                return 1;
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        if (berth_create(ctx, pos.v[0], bundle, &a.opts, &err) < 0)
                return cli_error(cli, err);
        return 0;
}

const struct cli_command cli_cmd_create = {
        .name = "create",
        .args = "ID",
        .summary = "Create a container from a bundle; its process waits for `berth start`.",
        .min_args = 1,
        .max_args = 1,
        .options = create_options,
        .set_option = create_set_option,
        .main = create_main,
};
