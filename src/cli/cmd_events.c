/* berth events: a container's resource usage and OOM events, one JSON
 * object a line in runc's format: {"type":"stats","id":…,"data":{…}} every
 * --interval, {"type":"oom","id":…} when the OOM killer strikes; with
 * --stats one stats object and exit.  The stream ends with the container. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <string.h>

#include "cli.h"

enum {
        OPT_INTERVAL = 256,
        OPT_STATS,
};

struct events_args {
        unsigned interval_ms;
        bool stats;
};

static const struct cli_option events_options[] = {
        {"interval", OPT_INTERVAL, "DURATION", "how often to print stats, e.g. 5s, 500ms (default: 5s)"},
        {"stats", OPT_STATS, NULL, "print one stats object and exit"},
        {NULL, 0, NULL, NULL},
};

/* A Go duration ("5s", "1m30s", "250ms", "1.5s") in milliseconds; -1 when
 * malformed, not positive, or longer than a day. */
static long long parse_duration(const char *s)
{
        static const struct {
                const char *unit;
                double ms;
        } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"µs", 1e-3}, {"ms", 1},
                     {"s", 1e3},   {"m", 60e3},  {"h", 3600e3}};
        double total = 0;
        if (!*s)
                return -1;
        while (*s) {
                char *end;
                errno = 0;
                double v = strtod(s, &end);
                if (end == s || errno || v < 0 || *end == '\0' || isinf(v) || isnan(v))
                        return -1;
                size_t best = 0, best_len = 0;
                for (size_t i = 0; i < CLI_ARRAY_SIZE(units); i++) {
                        size_t len = strlen(units[i].unit);
                        if (strncmp(end, units[i].unit, len) == 0 && len > best_len)
                                best = i, best_len = len;
                }
                if (best_len == 0)
                        return -1;
                total += v * units[best].ms;
                s = end + best_len;
        }
        if (total < 1 || total > 86400e3)
                return -1;
        return (long long)total;
}

static int events_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        struct events_args *a = opts;

        if (val == OPT_STATS) {
                a->stats = true;
                return 0;
        }
        long long ms = parse_duration(arg);
        if (ms < 0)
                return cli_fail(cli, 0,
                                "--interval: expected a duration like 5s or 500ms (at least 1ms), got `%s`",
                                arg);
        a->interval_ms = (unsigned)ms;
        return 0;
}

static int print_event(void *data, const struct berth_event *ev)
{
        (void)data;
        if (ev->type == BERTH_EVENT_STATS)
                printf("{\"type\":\"stats\",\"id\":\"%s\",\"data\":%s}\n", ev->id, ev->stats_json);
        else
                printf("{\"type\":\"oom\",\"id\":\"%s\"}\n", ev->id);
        /* A reader waits on each line; stop when nobody reads any more. */
        return fflush(stdout) != 0 || ferror(stdout);
}

static int events_main(struct cli *cli, int argc, char **argv)
{
        struct events_args a = {.interval_ms = 5000};
        struct cli_args pos;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        _cleanup_free_ char *stats = NULL;
        int r = cli_parse(cli, &cli_cmd_events, argc, argv, &a, &pos);

        if (r != CLI_CONTINUE)
                return r;
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        /* Container ids are letters, digits and `_+-.`: nothing to escape in JSON. */
        if (a.stats) {
                stats = berth_stats(ctx, pos.v[0], &err);
                if (!stats)
                        return cli_error(cli, err);
                printf("{\"type\":\"stats\",\"id\":\"%s\",\"data\":%s}\n", pos.v[0], stats);
                return 0;
        }
        r = berth_events(ctx, pos.v[0], a.interval_ms, print_event, NULL, &err);
        if (r < 0)
                return cli_error(cli, err);
        return 0;
}

const struct cli_command cli_cmd_events = {
        .name = "events",
        .args = "ID",
        .summary = "Print a container's stats and OOM events as JSON lines until it stops.",
        .min_args = 1,
        .max_args = 1,
        .options = events_options,
        .set_option = events_set_option,
        .main = events_main,
};
