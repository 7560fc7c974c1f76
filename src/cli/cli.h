/* berth(1): what the subcommands share — the global settings, the option
 * tables that drive parsing and --help, error reporting and ownership helpers.
 * The CLI sees the library only through <berth.h>. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <berth.h>

#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define CLI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Returned by parsing helpers when the command should go on; any other
 * value is the exit status to return right away. */
#define CLI_CONTINUE (-1)
/* The most options one command (or the global table) may declare. */
#define CLI_MAX_OPTIONS 32

enum cli_log_format {
        CLI_LOG_TEXT,
        CLI_LOG_JSON,
};

/* The global options, shared by every command. */
struct cli {
        const char *root; /* NULL: the library's default */
        const char *log_path;
        enum cli_log_format log_format;
        bool debug;
        bool log_failed; /* the log file could not be opened; said so once */
        const char *criu; /* --criu: the criu binary for checkpoint and restore, or NULL */
};

/* One option of a command: `val` is its short letter, or a code >= 256 for
 * options that only have a long form. */
struct cli_option {
        const char *name;
        int val;
        const char *arg; /* the argument's name in --help; NULL when it takes none */
        const char *help;
};

struct cli_command {
        const char *name;
        const char *args; /* the positional arguments, for the usage line */
        const char *summary;
        int min_args, max_args;
        bool in_order; /* options stop at the first argument (exec: the command's own follow) */
        const struct cli_option *options; /* ends with a zeroed entry; --help is implicit */
        /* Store one parsed option in `opts`; 0, or an exit status after reporting. */
        int (*set_option)(struct cli *cli, void *opts, int val, const char *arg);
        int (*main)(struct cli *cli, int argc, char **argv);
};

/* The positional arguments left after the options. */
struct cli_args {
        char **v;
        int n;
};

extern const struct cli_command cli_cmd_spec, cli_cmd_create, cli_cmd_start, cli_cmd_run, cli_cmd_state,
    cli_cmd_kill, cli_cmd_delete, cli_cmd_list, cli_cmd_exec;
extern const struct cli_command cli_cmd_update, cli_cmd_pause, cli_cmd_resume, cli_cmd_ps, cli_cmd_events;
extern const struct cli_command cli_cmd_stop;
extern const struct cli_command cli_cmd_check, cli_cmd_checkpoint, cli_cmd_restore;

/* ---- options.c: getopt tables built from cli_option arrays --------------- */

/* getopt_long_only tables for `opts` plus --help/-h; `prefix` starts the
 * short-option string ("+:" stops at the first argument, ":" permutes). */
void cli_options_build(const struct cli_option *opts, const char *prefix, struct option *longopts,
                       char *shortopts, size_t shortsize);
/* Describe the bad option getopt just returned `c` ('?' or ':') for. */
void cli_options_describe_error(const struct cli_option *opts, int c, char **argv, char *buf, size_t size);
void cli_options_print(FILE *f, const struct cli_option *opts);
void cli_command_usage(FILE *f, const struct cli_command *cmd);
/* Parse argv (argv[0] is the command's name) for `cmd`, storing options in
 * `opts`, and check the number of positional arguments.  Returns
 * CLI_CONTINUE, or an exit status (0 after --help). */
int cli_parse(struct cli *cli, const struct cli_command *cmd, int argc, char **argv, void *opts,
              struct cli_args *pos);

/* ---- log.c: the one place that prints errors and log lines -------------- */

/* Report a library error; returns the exit status 1. */
int cli_error(struct cli *cli, const berth_error *err);
/* Report a CLI error: the formatted text, then ": strerror(errnum)" when errnum > 0. */
int cli_fail(struct cli *cli, int errnum, const char *fmt, ...) CLI_PRINTF(3, 4);
/* Report bad usage of `cmd` (NULL for the global level) with a hint at --help. */
int cli_usage_error(struct cli *cli, const char *cmd, const char *fmt, ...) CLI_PRINTF(3, 4);
void cli_debug(struct cli *cli, const char *fmt, ...) CLI_PRINTF(2, 3);
/* The berth_log_fn given to the library when --debug is on; `data` is the struct cli. */
void cli_debug_log(void *data, const char *msg);
/* The library's warning sink (berth_context_set_warn); `data` is the struct cli. */
void cli_warn_log(void *data, const char *msg);

/* ---- cmd_kill.c ---------------------------------------------------------- */

/* A number 1..64, or a name like `KILL`, `SIGKILL`, `sigkill`; -1 if neither. */
int cli_parse_signal(const char *s);

/* ---- main.c ------------------------------------------------------------- */

/* A context for the global options, or NULL after reporting the error. */
berth_context *cli_context(struct cli *cli);
/* Out of memory is fatal: report it and exit 1. */
void cli_oom(void) __attribute__((noreturn));
char *cli_xasprintf(const char *fmt, ...) CLI_PRINTF(1, 2);
void *cli_xcalloc(size_t n, size_t size);

/* ---- cmd_create.c: what create and run share ---------------------------- */

/* The annotations the network options set, one slot each (cmd_create.c names them). */
enum {
        CLI_NET_MODE,
        CLI_NET_CONTAINER,
        CLI_NET_BRIDGE, /* from here on in the order of CLI_OPT_NET_BRIDGE.. */
        CLI_NET_ADDRESS,
        CLI_NET_GATEWAY,
        CLI_NET_ADDRESS6,
        CLI_NET_GATEWAY6,
        CLI_NET_MTU,
        CLI_NET_IFNAME,
        CLI_NET_MAC,
        CLI_IPC_CONTAINER,
        CLI_NET_SLOTS,
};

struct cli_create_args {
        const char *bundle;
        struct berth_create_options opts;
        const char *net[CLI_NET_SLOTS]; /* values given by --net, --net-*, --ipc; NULL when not */
        bool dry_run;                   /* --dry-run: print the plan, do nothing */
        enum berth_format format;       /* --format of the plan */
};

enum {
        CLI_OPT_PID_FILE = 256,
        CLI_OPT_CONSOLE_SOCKET,
        CLI_OPT_NO_PIVOT,
        CLI_OPT_NO_NEW_KEYRING,
        CLI_OPT_PRESERVE_FDS,
        CLI_OPT_NET,
        CLI_OPT_NET_BRIDGE, /* ..to CLI_OPT_NET_MAC in the order of CLI_NET_BRIDGE.. */
        CLI_OPT_NET_ADDRESS,
        CLI_OPT_NET_GATEWAY,
        CLI_OPT_NET_ADDRESS6,
        CLI_OPT_NET_GATEWAY6,
        CLI_OPT_NET_MTU,
        CLI_OPT_NET_IFNAME,
        CLI_OPT_NET_MAC,
        CLI_OPT_IPC,
        CLI_OPT_NOTIFY_SOCKET,
        CLI_OPT_DRY_RUN,
        CLI_OPT_FORMAT,
        CLI_OPT_MONITOR,
        CLI_OPT_EXIT_FILE,
        CLI_OPT_IGNORE_UNSUPPORTED,
        CLI_OPT_CREATE_END, /* run's own long-only options start here */
};

/* clang-format off */
#define CLI_CREATE_OPTIONS \
        {"bundle", 'b', "DIR", "bundle directory holding config.json (default: .)"}, \
        {"pid-file", CLI_OPT_PID_FILE, "FILE", "write the container's pid to FILE"}, \
        {"console-socket", CLI_OPT_CONSOLE_SOCKET, "SOCKET", "send the pty master to this unix socket"}, \
        {"no-pivot", CLI_OPT_NO_PIVOT, NULL, "move the rootfs and chroot instead of pivot_root"}, \
        {"no-new-keyring", CLI_OPT_NO_NEW_KEYRING, NULL, "keep the caller's session keyring"}, \
        {"preserve-fds", CLI_OPT_PRESERVE_FDS, "N", "pass fds 3 .. 3+N-1 on to the process"}, \
        {"net", CLI_OPT_NET, "MODE", "`none`, `bridge` or `container:ID` (berth.net.mode/.container)"}, \
        {"net-bridge", CLI_OPT_NET_BRIDGE, "NAME", "existing bridge for the veth pair (berth.net.bridge)"}, \
        {"net-address", CLI_OPT_NET_ADDRESS, "CIDR", "IPv4 address/prefix inside (berth.net.address)"}, \
        {"net-gateway", CLI_OPT_NET_GATEWAY, "IP", "IPv4 default route via IP (berth.net.gateway)"}, \
        {"net-address6", CLI_OPT_NET_ADDRESS6, "CIDR", "IPv6 address/prefix inside (berth.net.address6)"}, \
        {"net-gateway6", CLI_OPT_NET_GATEWAY6, "IP", "IPv6 default route via IP (berth.net.gateway6)"}, \
        {"net-mtu", CLI_OPT_NET_MTU, "N", "MTU of both veth ends (berth.net.mtu)"}, \
        {"net-ifname", CLI_OPT_NET_IFNAME, "NAME", "name inside, default eth0 (berth.net.ifname)"}, \
        {"net-mac", CLI_OPT_NET_MAC, "MAC", "MAC address inside (berth.net.mac)"}, \
        {"ipc", CLI_OPT_IPC, "container:ID", "join the IPC namespace of ID (berth.ipc.container)"}, \
        {"notify-socket", CLI_OPT_NOTIFY_SOCKET, "SOCKET", "pass the container's sd_notify READY here (default: $NOTIFY_SOCKET)"}, \
        {"dry-run", CLI_OPT_DRY_RUN, NULL, "print what would be done, in order, and do none of it"}, \
        {"format", CLI_OPT_FORMAT, "FORMAT", "of the --dry-run plan: text (default) or json"}, \
        {"monitor", CLI_OPT_MONITOR, NULL, "detached: a monitor process waits for the container and keeps its exit report"}, \
        {"exit-file", CLI_OPT_EXIT_FILE, "FILE", "write the exit report (JSON) to FILE when the container ends"}, \
        {"ignore-unsupported", CLI_OPT_IGNORE_UNSUPPORTED, NULL, "a berth.landlock ruleset this kernel cannot apply is a warning"}
/* clang-format on */

void cli_create_args_init(struct cli_create_args *a);
/* Store one of CLI_CREATE_OPTIONS; 0, or 1 after reporting a bad value. */
int cli_create_set_option(struct cli *cli, const char *cmd, struct cli_create_args *a, int val,
                          const char *arg);
/* Check the id, load the bundle and apply the network options to it; NULL
 * after reporting the error. */
berth_bundle *cli_bundle_load(struct cli *cli, const char *id, const struct cli_create_args *a);
/* --dry-run: print the plan of `cmd` for the bundle; the exit status. */
int cli_dry_run(struct cli *cli, berth_context *ctx, const char *id, const berth_bundle *bundle,
                enum berth_plan_command cmd, const struct berth_run_options *opts, enum berth_format format);
/* --format text|json (`cmd` names the command in the error); 0, or 1 after reporting. */
int cli_parse_format(struct cli *cli, const char *cmd, const char *arg, enum berth_format *out);

/* ---- ownership ---------------------------------------------------------- */

static inline void cli_free_(void *p)
{
        free(*(void **)p);
}
static inline void cli_close_(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}
static inline void cli_error_free_(berth_error **e)
{
        if (*e)
                berth_error_free(*e);
}
static inline void cli_context_free_(berth_context **c)
{
        if (*c)
                berth_context_free(*c);
}
static inline void cli_bundle_free_(berth_bundle **b)
{
        if (*b)
                berth_bundle_free(*b);
}
static inline void cli_strv_free_(char ***v)
{
        if (*v)
                berth_strv_free(*v);
}
static inline void cli_state_clear_(struct berth_state *s)
{
        berth_state_clear(s);
}

#define _cleanup_free_ __attribute__((cleanup(cli_free_)))
#define _cleanup_close_ __attribute__((cleanup(cli_close_)))
#define _cleanup_error_ __attribute__((cleanup(cli_error_free_)))
#define _cleanup_context_ __attribute__((cleanup(cli_context_free_)))
#define _cleanup_bundle_ __attribute__((cleanup(cli_bundle_free_)))
#define _cleanup_strv_ __attribute__((cleanup(cli_strv_free_)))
#define _cleanup_state_ __attribute__((cleanup(cli_state_clear_)))

#endif
