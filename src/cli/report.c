/* What `check` and `create --dry-run` / `run --dry-run` print: a report or
 * a plan the library has already put in the format asked for. */
#define _GNU_SOURCE
#include <string.h>

#include "cli.h"

int cli_parse_format(struct cli *cli, const char *cmd, const char *arg, enum berth_format *out)
{
        if (strcmp(arg, "text") == 0)
                *out = BERTH_FORMAT_TEXT;
        else if (strcmp(arg, "json") == 0)
                *out = BERTH_FORMAT_JSON;
        else
                return cli_usage_error(cli, cmd, "%s: --format: expected `text` or `json`, got `%s`", cmd, arg);
        return 0;
}

int cli_dry_run(struct cli *cli, berth_context *ctx, const char *id, const berth_bundle *bundle,
                enum berth_plan_command cmd, const struct berth_run_options *opts, enum berth_format format)
{
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_free_ char *plan = berth_plan(ctx, id, bundle, cmd, opts, format, &err);

        if (!plan)
                return cli_error(cli, err);
        fputs(plan, stdout);
        if (format == BERTH_FORMAT_JSON)
                putchar('\n');
        return 0;
}
