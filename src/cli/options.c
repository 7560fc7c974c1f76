/* Option parsing and --help, driven by the cli_option tables of each command.
 * getopt_long_only lets runc users keep writing `-bundle DIR`. */
#define _GNU_SOURCE
#include <string.h>

#include "cli.h"

static const struct cli_option help_option = {"help", 'h', NULL, "show this help"};

static size_t options_count(const struct cli_option *opts)
{
        size_t n = 0;

        while (opts[n].name)
                n++;
        return n;
}

static void options_add(const struct cli_option *o, struct option *lo, char **s, const char *end)
{
        *lo = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->val};
        if (o->val >= 256)
                return;
        if (*s + 3 > end)
                abort(); /* a table that outgrew the buffer is a programming error */
        *(*s)++ = (char)o->val;
        if (o->arg)
                *(*s)++ = ':';
}

/* `longopts` must hold CLI_MAX_OPTIONS + 2 entries (--help and the terminator). */
void cli_options_build(const struct cli_option *opts, const char *prefix, struct option *longopts,
                       char *shortopts, size_t shortsize)
{
        size_t n = options_count(opts);
        size_t plen = strlen(prefix);
        char *s = shortopts + plen;
        const char *end = shortopts + shortsize;

        if (n > CLI_MAX_OPTIONS || plen + 1 > shortsize)
                abort();
        memcpy(shortopts, prefix, plen);
        for (size_t i = 0; i < n; i++)
                options_add(&opts[i], &longopts[i], &s, end);
        options_add(&help_option, &longopts[n], &s, end);
        longopts[n + 1] = (struct option){NULL, 0, NULL, 0};
        *s = '\0';
}

static const char *options_name(const struct cli_option *opts, int val)
{
        for (; opts->name; opts++)
                if (opts->val == val)
                        return opts->name;
        return val == 'h' ? "help" : NULL;
}

/* getopt leaves optopt = 0 for an unknown long option (the text is then the
 * argument it just skipped), the letter for an unknown short one, and the
 * option's val for a long option that got `=value` but takes none. */
void cli_options_describe_error(const struct cli_option *opts, int c, char **argv, char *buf, size_t size)
{
        const char *name = options_name(opts, optopt);

        if (c == ':') {
                if (name)
                        snprintf(buf, size, "option `--%s` requires an argument", name);
                else
                        snprintf(buf, size, "option `-%c` requires an argument", optopt);
        } else if (optopt == 0) {
                const char *text = argv[optind - 1];
                snprintf(buf, size, "unknown option `%.*s`", (int)strcspn(text, "="), text);
        } else if (name) {
                snprintf(buf, size, "option `--%s` takes no argument", name);
        } else {
                snprintf(buf, size, "unknown option `-%c`", optopt);
        }
}

static void option_print(FILE *f, const struct cli_option *o)
{
        char left[64];

        if (o->val < 256)
                snprintf(left, sizeof left, "-%c, --%s%s%s", o->val, o->name, o->arg ? " " : "",
                         o->arg ? o->arg : "");
        else
                snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-28s %s\n", left, o->help);
}

void cli_options_print(FILE *f, const struct cli_option *opts)
{
        for (; opts->name; opts++)
                option_print(f, opts);
        option_print(f, &help_option);
}

void cli_command_usage(FILE *f, const struct cli_command *cmd)
{
        fprintf(f, "Usage: berth %s [OPTIONS]%s%s\n\n%s\n\nOptions:\n", cmd->name, *cmd->args ? " " : "",
                cmd->args, cmd->summary);
        cli_options_print(f, cmd->options);
}

static int check_positional(struct cli *cli, const struct cli_command *cmd, const struct cli_args *pos)
{
        if (pos->n < cmd->min_args)
                return cli_usage_error(cli, cmd->name, "%s: missing container id", cmd->name);
        if (pos->n > cmd->max_args)
                return cli_usage_error(cli, cmd->name, "%s: unexpected argument `%s`", cmd->name,
                                       pos->v[cmd->max_args]);
        return CLI_CONTINUE;
}

int cli_parse(struct cli *cli, const struct cli_command *cmd, int argc, char **argv, void *opts,
              struct cli_args *pos)
{
        struct option longopts[CLI_MAX_OPTIONS + 2];
        char shortopts[2 * CLI_MAX_OPTIONS + 8];
        char msg[256];
        int c;

        cli_options_build(cmd->options, cmd->in_order ? "+:" : ":", longopts, shortopts, sizeof shortopts);
        optind = 0; /* glibc: start over on a new argv */
        opterr = 0;
        while ((c = getopt_long_only(argc, argv, shortopts, longopts, NULL)) != -1) {
                if (c == 'h') {
                        cli_command_usage(stdout, cmd);
                        return 0;
                }
                if (c == '?' || c == ':') {
                        cli_options_describe_error(cmd->options, c, argv, msg, sizeof msg);
                        return cli_usage_error(cli, cmd->name, "%s: %s", cmd->name, msg);
                }
                int r = cmd->set_option ? cmd->set_option(cli, opts, c, optarg) : 1;
                if (r != 0)
                        return r;
        }
        pos->v = argv + optind;
        pos->n = argc - optind;
        return check_positional(cli, cmd, pos);
}
