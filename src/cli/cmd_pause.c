/* berth pause / resume: freeze every process of a container, and thaw it. */
#include "cli.h"

static const struct cli_option no_options[] = {
        {NULL, 0, NULL, NULL},
};

static int freeze_main(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
                       int (*op)(berth_context *, const char *, berth_error **))
{
        struct cli_args pos;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        int r = cli_parse(cli, cmd, argc, argv, NULL, &pos);

        if (r != CLI_CONTINUE)
                return r;
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        if (op(ctx, pos.v[0], &err) < 0)
                return cli_error(cli, err);
        return 0;
}

static int pause_main(struct cli *cli, int argc, char **argv)
{
        return freeze_main(cli, &cli_cmd_pause, argc, argv, berth_pause);
}

static int resume_main(struct cli *cli, int argc, char **argv)
{
        return freeze_main(cli, &cli_cmd_resume, argc, argv, berth_resume);
}

const struct cli_command cli_cmd_pause = {
        .name = "pause",
        .args = "ID",
        .summary = "Freeze every process of a running container.",
        .min_args = 1,
        .max_args = 1,
        .options = no_options,
        .set_option = NULL,
        .main = pause_main,
};

const struct cli_command cli_cmd_resume = {
        .name = "resume",
        .args = "ID",
        .summary = "Thaw a paused container.",
        .min_args = 1,
        .max_args = 1,
        .options = no_options,
        .set_option = NULL,
        .main = resume_main,
};
