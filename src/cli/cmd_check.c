/* berth check BUNDLE: a preflight of the bundle against this host; exits 0
 * only when create would not fail for a reason it found. */
#include "cli.h"

enum {
        OPT_FORMAT = 256,
};

struct check_args {
        enum berth_format format;
};

static const struct cli_option check_options[] = {
        {"format", OPT_FORMAT, "FORMAT", "text (default) or json"},
        {NULL, 0, NULL, NULL},
};

static int check_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        struct check_args *a = opts;

        if (val != OPT_FORMAT)
                abort();
        return cli_parse_format(cli, "check", arg, &a->format);
}

static int check_main(struct cli *cli, int argc, char **argv)
{
        struct check_args a = {BERTH_FORMAT_TEXT};
        struct cli_args pos;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        _cleanup_free_ char *report = NULL;
        bool ok = false;
        int r;

        r = cli_parse(cli, &cli_cmd_check, argc, argv, &a, &pos);
        if (r != CLI_CONTINUE)
                return r;
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        report = berth_check(ctx, pos.n > 0 ? pos.v[0] : ".", a.format, &ok, &err);
        if (!report)
                return cli_error(cli, err);
        fputs(report, stdout);
        if (a.format == BERTH_FORMAT_JSON)
                putchar('\n');
        return ok ? 0 : 1;
}

const struct cli_command cli_cmd_check = {
        .name = "check",
        .args = "[BUNDLE]",
        .summary = "Check a bundle against this host without creating anything (berth extension).",
        .min_args = 0,
        .max_args = 1,
        .options = check_options,
        .set_option = check_set_option,
        .main = check_main,
};
