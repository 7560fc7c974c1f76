/* berth(1): global options, then dispatch to the command named next. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"

enum {
        OPT_ROOT = 256,
        OPT_LOG,
        OPT_LOG_FORMAT,
        OPT_DEBUG,
        OPT_SYSTEMD_CGROUP,
        OPT_CRIU,
};

static const struct cli_option global_options[] = {
        {"root", OPT_ROOT, "DIR",
         "directory for container state (default: " BERTH_DEFAULT_ROOT
         ", or $XDG_RUNTIME_DIR/berth when not root)"},
        {"log", OPT_LOG, "FILE", "append log lines to FILE"},
        {"log-format", OPT_LOG_FORMAT, "FORMAT", "format of log lines: text or json (default: text)"},
        {"debug", OPT_DEBUG, NULL, "log debug messages"},
        {"systemd-cgroup", OPT_SYSTEMD_CGROUP, NULL, "manage cgroups through systemd (not supported yet)"},
        {"criu", OPT_CRIU, "PATH", "the criu binary for checkpoint and restore (default: criu in $PATH)"},
        {"version", 'v', NULL, "print the version"},
        {NULL, 0, NULL, NULL},
};

static const struct cli_command *const commands[] = {
        &cli_cmd_spec,  &cli_cmd_create, &cli_cmd_start,  &cli_cmd_run,    &cli_cmd_exec,
        &cli_cmd_state, &cli_cmd_kill,   &cli_cmd_delete, &cli_cmd_list,
        &cli_cmd_pause, &cli_cmd_resume, &cli_cmd_ps,     &cli_cmd_events, &cli_cmd_update,
        &cli_cmd_check,  &cli_cmd_stop,  &cli_cmd_checkpoint, &cli_cmd_restore,
};

/* What the global options asked for besides settings in struct cli; errors
 * wait until the whole line is parsed, so that they honour --log wherever
 * it stands. */
struct globals {
        bool help, version, systemd_cgroup;
        char bad[256];
};

void cli_oom(void)
{
        static const char msg[] = "berth: out of memory\n";

        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        exit(1);
}

char *cli_xasprintf(const char *fmt, ...)
{
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                cli_oom();
        va_end(ap);
        return s;
}

void *cli_xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size ? size : 1);

        if (!p)
                cli_oom();
        return p;
}

/* As runc: a non-root caller cannot write /run, so its state goes where its
 * session keeps runtime files. */
static const char *default_root(void)
{
        static char *root;
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        if (geteuid() == 0 || !xdg || !*xdg)
                return NULL;
        if (!root)
                root = cli_xasprintf("%s/berth", xdg);
        return root;
}

berth_context *cli_context(struct cli *cli)
{
        _cleanup_error_ berth_error *err = NULL;
        if (!cli->root)
                cli->root = default_root();
        berth_context *ctx = berth_context_new(cli->root, cli->debug ? cli_debug_log : NULL, cli, &err);

        if (!ctx)
                cli_error(cli, err);
        else
                berth_context_set_warn(ctx, cli_warn_log, cli);
        return ctx;
}

static void usage(FILE *f)
{
        fputs("Usage: berth [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
              "berth runs OCI containers.\n\nCommands:\n",
              f);
        for (size_t i = 0; i < CLI_ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
        fputs("\nGlobal options:\n", f);
        cli_options_print(f, global_options);
        fputs("\nRun `berth COMMAND --help` for a command's options.\n", f);
}

static void global_set(struct cli *cli, struct globals *g, int c, const char *arg)
{
        switch (c) {
        case OPT_ROOT:
                cli->root = arg;
                break;
        case OPT_LOG:
                cli->log_path = arg;
                break;
        case OPT_LOG_FORMAT:
                if (strcmp(arg, "text") == 0)
                        cli->log_format = CLI_LOG_TEXT;
                else if (strcmp(arg, "json") == 0)
                        cli->log_format = CLI_LOG_JSON;
                else if (!g->bad[0])
                        snprintf(g->bad, sizeof g->bad, "--log-format: expected `text` or `json`, got `%s`",
                                 arg);
                break;
        case OPT_DEBUG:
                cli->debug = true;
                break;
        case OPT_SYSTEMD_CGROUP:
                g->systemd_cgroup = true;
                break;
        case OPT_CRIU:
                cli->criu = arg;
                break;
        case 'v':
                g->version = true;
                break;
        case 'h':
                g->help = true;
                break;
        default:
                abort();
        }
}

/* Parse the options before the command; returns the index of the command. */
static int parse_globals(struct cli *cli, struct globals *g, int argc, char **argv)
{
        struct option longopts[CLI_MAX_OPTIONS + 2];
        char shortopts[2 * CLI_MAX_OPTIONS + 8];
        int c;

        cli_options_build(global_options, "+:", longopts, shortopts, sizeof shortopts);
        opterr = 0;
        while ((c = getopt_long_only(argc, argv, shortopts, longopts, NULL)) != -1) {
                if (c != '?' && c != ':')
                        global_set(cli, g, c, optarg);
                else if (!g->bad[0])
                        cli_options_describe_error(global_options, c, argv, g->bad, sizeof g->bad);
        }
        return optind;
}

static const struct cli_command *find_command(const char *name)
{
        for (size_t i = 0; i < CLI_ARRAY_SIZE(commands); i++)
                if (strcmp(commands[i]->name, name) == 0)
                        return commands[i];
        return NULL;
}

static int finish(struct cli *cli, int status)
{
        if (fflush(stdout) != 0 || ferror(stdout))
                return cli_fail(cli, errno, "write standard output");
        return status;
}

int main(int argc, char **argv)
{
        struct cli cli = {0};
        struct globals g = {0};
        const struct cli_command *cmd;
        int first = parse_globals(&cli, &g, argc, argv);

        if (g.bad[0])
                return cli_usage_error(&cli, NULL, "%s", g.bad);
        if (g.help) {
                usage(stdout);
                return finish(&cli, 0);
        }
        if (g.version) {
                printf("berth version %s\nspec: %s\n", BERTH_VERSION, BERTH_OCI_VERSION);
                return finish(&cli, 0);
        }
        if (g.systemd_cgroup)
                return cli_fail(&cli, 0, "--systemd-cgroup: not supported yet");
        if (first >= argc)
                return cli_usage_error(&cli, NULL, "missing command");
        cmd = find_command(argv[first]);
        if (!cmd)
                return cli_usage_error(&cli, NULL, "unknown command `%s`", argv[first]);
        cli_debug(&cli, "berth %s: %s", BERTH_VERSION, cmd->name);
        return finish(&cli, cmd->main(&cli, argc - first, argv + first));
}
