/* berth state: print a container's OCI state document. */
#include "cli.h"

static const struct cli_option state_options[] = {
        {NULL, 0, NULL, NULL},
};

static int state_main(struct cli *cli, int argc, char **argv)
{
        struct cli_args pos;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        _cleanup_state_ struct berth_state st = {0};
        _cleanup_free_ char *json = NULL;
        int r = cli_parse(cli, &cli_cmd_state, argc, argv, NULL, &pos);

        if (r != CLI_CONTINUE)
                return r;
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        if (berth_state_get(ctx, pos.v[0], &st, &err) < 0)
                return cli_error(cli, err);
        json = berth_state_json(&st, true);
        printf("%s\n", json);
        return 0;
}

const struct cli_command cli_cmd_state = {
        .name = "state",
        .args = "ID",
        .summary = "Print the OCI state of a container as JSON.",
        .min_args = 1,
        .max_args = 1,
        .options = state_options,
        .set_option = NULL,
        .main = state_main,
};
