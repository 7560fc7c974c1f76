/* berth delete: remove a stopped container (any container with --force). */
#include "cli.h"

struct delete_args {
        bool force;
};

static const struct cli_option delete_options[] = {
        {"force", 'f', NULL, "kill the container if it is running; succeed if it does not exist"},
        {NULL, 0, NULL, NULL},
};

static int delete_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        struct delete_args *a = opts;

        (void)cli;
        (void)arg;
        if (val == 'f')
                a->force = true;
        return 0;
}

static int delete_main(struct cli *cli, int argc, char **argv)
{
        struct delete_args a = {0};
        struct cli_args pos;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        int r = cli_parse(cli, &cli_cmd_delete, argc, argv, &a, &pos);

        if (r != CLI_CONTINUE)
                return r;
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        if (berth_delete(ctx, pos.v[0], a.force, &err) < 0)
                return cli_error(cli, err);
        return 0;
}

const struct cli_command cli_cmd_delete = {
        .name = "delete",
        .args = "ID",
        .summary = "Delete a stopped container and everything it holds on the host.",
        .min_args = 1,
        .max_args = 1,
        .options = delete_options,
        .set_option = delete_set_option,
        .main = delete_main,
};
