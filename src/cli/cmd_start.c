/* berth start: let a created container's process run. */
#include "cli.h"

static const struct cli_option start_options[] = {
        {NULL, 0, NULL, NULL},
};

static int start_main(struct cli *cli, int argc, char **argv)
{
        struct cli_args pos;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        int r = cli_parse(cli, &cli_cmd_start, argc, argv, NULL, &pos);

        if (r != CLI_CONTINUE)
                return r;
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        if (berth_start(ctx, pos.v[0], &err) < 0)
                return cli_error(cli, err);
        return 0;
}

const struct cli_command cli_cmd_start = {
        .name = "start",
        .args = "ID",
        .summary = "Start a created container: its process executes the user's program.",
        .min_args = 1,
        .max_args = 1,
        .options = start_options,
        .set_option = NULL,
        .main = start_main,
};
