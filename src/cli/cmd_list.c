/* berth list: the containers under --root, as a table, JSON or bare ids. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "cli.h"

enum list_format {
        LIST_TABLE,
        LIST_JSON,
};

struct list_args {
        enum list_format format;
        bool quiet;
};

static const struct cli_option list_options[] = {
        {"format", 'f', "FORMAT", "table or json (default: table)"},
        {"quiet", 'q', NULL, "print only the container ids"},
        {NULL, 0, NULL, NULL},
};

#define N_COLUMNS 6

/* The states that could be read, in the order of the ids. */
struct state_list {
        struct berth_state *v;
        size_t n;
};

static void state_list_free(struct state_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                berth_state_clear(&l->v[i]);
        free(l->v);
}

static int list_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        struct list_args *a = opts;

        if (val == 'q') {
                a->quiet = true;
        } else if (val != 'f') {
                abort();
        } else if (strcmp(arg, "table") == 0) {
                a->format = LIST_TABLE;
        } else if (strcmp(arg, "json") == 0) {
                a->format = LIST_JSON;
        } else {
                return cli_usage_error(cli, "list", "list: --format: expected `table` or `json`, got `%s`",
                                       arg);
        }
        return 0;
}

/* A container deleted since the listing: the library reports that as
 * "container `ID` does not exist" (errno 0); a raw ENOENT can surface when
 * the state directory goes away while it is being read. */
static bool state_gone(const berth_error *err)
{
        return berth_error_errno(err) == ENOENT || strstr(berth_error_message(err), "does not exist");
}

/* Read every container's state; one that vanished since the listing is skipped. */
static int read_states(struct cli *cli, berth_context *ctx, struct state_list *out)
{
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_strv_ char **ids = NULL;
        size_t n = 0;

        if (berth_list(ctx, &ids, &err) < 0)
                return cli_error(cli, err);
        while (ids && ids[n])
                n++;
        out->v = cli_xcalloc(n, sizeof *out->v);
        for (size_t i = 0; i < n; i++) {
                if (berth_state_get(ctx, ids[i], &out->v[out->n], &err) == 0) {
                        out->n++;
                        continue;
                }
                if (!state_gone(err)) {
                        /* One unreadable state must not hide the others (as runc). */
                        _cleanup_free_ char *text =
                                berth_error_errno(err)
                                        ? cli_xasprintf("%s: %s", berth_error_message(err),
                                                        strerror(berth_error_errno(err)))
                                        : cli_xasprintf("%s", berth_error_message(err));
                        cli_warn_log(cli, text);
                } else {
                        cli_debug(cli, "container `%s`: gone while listing", ids[i]);
                }
                berth_state_clear(&out->v[out->n]);
                out->v[out->n] = (struct berth_state){0};
                berth_error_free(err);
                err = NULL;
        }
        return 0;
}

static void row_cells(const struct berth_state *st, const char **cells, char *pid, size_t pidsize)
{
        snprintf(pid, pidsize, "%d", st->pid);
        cells[0] = st->id;
        cells[1] = pid;
        cells[2] = berth_status_name(st->status);
        cells[3] = st->bundle;
        cells[4] = st->created;
        cells[5] = st->owner;
}

static void print_row(const char **cells, const size_t *width)
{
        for (int c = 0; c < N_COLUMNS - 1; c++)
                printf("%-*s", (int)width[c], cells[c] ? cells[c] : "");
        printf("%s\n", cells[N_COLUMNS - 1] ? cells[N_COLUMNS - 1] : "");
}

/* Columns as wide as their widest cell plus two spaces, like runc's tabwriter. */
static void print_table(const struct state_list *l)
{
        const char *header[N_COLUMNS] = {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"};
        const char *cells[N_COLUMNS];
        size_t width[N_COLUMNS];
        char pid[32];

        for (int c = 0; c < N_COLUMNS; c++)
                width[c] = strlen(header[c]) + 2;
        for (size_t i = 0; i < l->n; i++) {
                row_cells(&l->v[i], cells, pid, sizeof pid);
                for (int c = 0; c < N_COLUMNS; c++) {
                        size_t w = (cells[c] ? strlen(cells[c]) : 0) + 2;
                        width[c] = w > width[c] ? w : width[c];
                }
        }
        print_row(header, width);
        for (size_t i = 0; i < l->n; i++) {
                row_cells(&l->v[i], cells, pid, sizeof pid);
                print_row(cells, width);
        }
}

static void print_json(const struct state_list *l)
{
        putchar('[');
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_free_ char *json = berth_state_json(&l->v[i], false);
                printf("%s%s", i ? "," : "", json);
        }
        puts("]");
}

static int list_main(struct cli *cli, int argc, char **argv)
{
        struct list_args a = {LIST_TABLE, false};
        struct cli_args pos;
        _cleanup_context_ berth_context *ctx = NULL;
        __attribute__((cleanup(state_list_free))) struct state_list states = {NULL, 0};
        int r = cli_parse(cli, &cli_cmd_list, argc, argv, &a, &pos);

        if (r != CLI_CONTINUE)
                return r;
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        r = read_states(cli, ctx, &states);
        if (r != 0)
                return r;
        if (a.quiet) {
                for (size_t i = 0; i < states.n; i++)
                        printf("%s\n", states.v[i].id);
        } else if (a.format == LIST_JSON) {
                print_json(&states);
        } else {
                print_table(&states);
        }
        return 0;
}

const struct cli_command cli_cmd_list = {
        .name = "list",
        .args = "",
        .summary = "List the containers under the state directory.",
        .min_args = 0,
        .max_args = 0,
        .options = list_options,
        .set_option = list_set_option,
        .main = list_main,
};
