/* berth run: create and start in one go; in the foreground, wait and exit
 * with the container's status. */
#include "cli.h"

enum {
        OPT_KEEP = CLI_OPT_CREATE_END,
};

struct run_args {
        struct cli_create_args create;
        bool detach;
        bool keep;
};

static const struct cli_option run_options[] = {
        CLI_CREATE_OPTIONS,
        {"detach", 'd', NULL, "return once the container has started"},
        {"keep", OPT_KEEP, NULL, "do not delete the container after it exits"},
        {NULL, 0, NULL, NULL},
};

static int run_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        struct run_args *a = opts;

        if (val == 'd')
                a->detach = true;
        else if (val == OPT_KEEP)
                a->keep = true;
        else
                return cli_create_set_option(cli, "run", &a->create, val, arg);
        return 0;
}

static int run_main(struct cli *cli, int argc, char **argv)
{
        struct run_args a = {0};
        struct cli_args pos;
        struct berth_exit_status status = {0};
        struct berth_run_options opts;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        _cleanup_bundle_ berth_bundle *bundle = NULL;
        int r;

        cli_create_args_init(&a.create);
        r = cli_parse(cli, &cli_cmd_run, argc, argv, &a, &pos);
        if (r != CLI_CONTINUE)
                return r;
        bundle = cli_bundle_load(cli, pos.v[0], &a.create);
        if (!bundle)
                return 1;
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        opts = (struct berth_run_options){
                .create = a.create.opts,
                .detach = a.detach,
                .forward_signals = !a.detach,
                .keep = a.keep,
        };
        if (a.create.dry_run)
                return cli_dry_run(cli, ctx, pos.v[0], bundle, BERTH_PLAN_RUN, &opts, a.create.format);
        if (berth_run(ctx, pos.v[0], bundle, &opts, &status, &err) < 0)
                return cli_error(cli, err);
        return a.detach ? 0 : status.exit_code;
}

const struct cli_command cli_cmd_run = {
        .name = "run",
        .args = "ID",
        .summary = "Create and start a container; unless detached, wait and exit with its status.",
        .min_args = 1,
        .max_args = 1,
        .options = run_options,
        .set_option = run_set_option,
        .main = run_main,
};
