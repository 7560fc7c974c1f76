/* berth create, and the option handling `run` shares with it. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "cli.h"

static const struct cli_option create_options[] = {
        CLI_CREATE_OPTIONS,
        {NULL, 0, NULL, NULL},
};

/* Socket activation (sd_listen_fds): fds 3 .. 3+N-1 are ours when
 * LISTEN_PID names us; they go to the container as runc passes them. */
static int listen_fds(void)
{
        const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
        char *end;
        long n;

        if (!pid || !fds || strtol(pid, &end, 10) != (long)getpid() || *end != '\0')
                return 0;
        n = strtol(fds, &end, 10);
        return *end == '\0' && n > 0 && n < INT_MAX / 2 ? (int)n : 0;
}

void cli_create_args_init(struct cli_create_args *a)
{
        const char *notify = getenv("NOTIFY_SOCKET");

        *a = (struct cli_create_args){.bundle = "."};
        a->opts.listen_fds = listen_fds();
        a->opts.notify_socket = notify && *notify ? notify : NULL;
}

/* A whole decimal number in 0..INT_MAX - 3, so that 3 + N stays an int. */
static int parse_fd_count(const char *s, int *out)
{
        char *end;
        long v;

        if (*s < '0' || *s > '9')
                return -1;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end != '\0' || v > INT_MAX - 3)
                return -1;
        *out = (int)v;
        return 0;
}

/* The annotation behind each network option (README "Networking"). */
static const char *const net_keys[CLI_NET_SLOTS] = {
        [CLI_NET_MODE] = "berth.net.mode",         [CLI_NET_CONTAINER] = "berth.net.container",
        [CLI_NET_BRIDGE] = "berth.net.bridge",     [CLI_NET_ADDRESS] = "berth.net.address",
        [CLI_NET_GATEWAY] = "berth.net.gateway",   [CLI_NET_ADDRESS6] = "berth.net.address6",
        [CLI_NET_GATEWAY6] = "berth.net.gateway6", [CLI_NET_MTU] = "berth.net.mtu",
        [CLI_NET_IFNAME] = "berth.net.ifname",     [CLI_NET_MAC] = "berth.net.mac",
        [CLI_IPC_CONTAINER] = "berth.ipc.container",
};

static int set_net_option(struct cli *cli, const char *cmd, struct cli_create_args *a, int val,
                          const char *arg)
{
        static const char prefix[] = "container:";
        bool joins = strncmp(arg, prefix, sizeof prefix - 1) == 0;

        if (val == CLI_OPT_NET && joins) {
                a->net[CLI_NET_CONTAINER] = arg + sizeof prefix - 1;
                a->net[CLI_NET_MODE] = NULL;
        } else if (val == CLI_OPT_NET) {
                if (strcmp(arg, "none") != 0 && strcmp(arg, "bridge") != 0)
                        return cli_usage_error(cli, cmd,
                                               "%s: --net: expected `none`, `bridge` or `container:ID`, "
                                               "got `%s`",
                                               cmd, arg);
                a->net[CLI_NET_MODE] = arg;
                a->net[CLI_NET_CONTAINER] = NULL;
        } else if (val == CLI_OPT_IPC) {
                if (!joins)
                        return cli_usage_error(cli, cmd, "%s: --ipc: expected `container:ID`, got `%s`", cmd,
                                               arg);
                a->net[CLI_IPC_CONTAINER] = arg + sizeof prefix - 1;
        } else if (val >= CLI_OPT_NET_BRIDGE && val <= CLI_OPT_NET_MAC) {
                a->net[CLI_NET_BRIDGE + (val - CLI_OPT_NET_BRIDGE)] = arg;
        } else {
                abort();
        }
        return 0;
}

/* The network options, as the annotations they stand for. */
static int apply_net_options(struct cli *cli, berth_bundle *bundle, const struct cli_create_args *a)
{
        const char *kv[2 * CLI_NET_SLOTS + 1];
        size_t n = 0;
        _cleanup_error_ berth_error *err = NULL;

        for (size_t i = 0; i < CLI_NET_SLOTS; i++) {
                if (a->net[i]) {
                        kv[n++] = net_keys[i];
                        kv[n++] = a->net[i];
                }
        }
        kv[n] = NULL;
        if (n > 0 && berth_bundle_set_annotations(bundle, kv, &err) < 0)
                return cli_error(cli, err);
        return 0;
}

int cli_create_set_option(struct cli *cli, const char *cmd, struct cli_create_args *a, int val,
                          const char *arg)
{
        switch (val) {
        case 'b':
                a->bundle = arg;
                return 0;
        case CLI_OPT_PID_FILE:
                a->opts.pid_file = arg;
                return 0;
        case CLI_OPT_CONSOLE_SOCKET:
                a->opts.console_socket = arg;
                return 0;
        case CLI_OPT_NO_PIVOT:
                a->opts.no_pivot = true;
                return 0;
        case CLI_OPT_NO_NEW_KEYRING:
                a->opts.no_new_keyring = true;
                return 0;
        case CLI_OPT_NOTIFY_SOCKET:
                a->opts.notify_socket = *arg ? arg : NULL;
                return 0;
        case CLI_OPT_DRY_RUN:
                a->dry_run = true;
                return 0;
        case CLI_OPT_FORMAT:
                return cli_parse_format(cli, cmd, arg, &a->format);
        case CLI_OPT_MONITOR:
                a->opts.monitor = true;
                return 0;
        case CLI_OPT_EXIT_FILE:
                if (!*arg)
                        return cli_usage_error(cli, cmd, "%s: --exit-file: expected a file name", cmd);
                a->opts.exit_file = arg;
                return 0;
        case CLI_OPT_IGNORE_UNSUPPORTED:
                a->opts.ignore_unsupported = true;
                return 0;
        case CLI_OPT_PRESERVE_FDS:
                if (parse_fd_count(arg, &a->opts.preserve_fds) == 0)
                        return 0;
                return cli_usage_error(
                        cli, cmd, "%s: --preserve-fds: expected a non-negative integer, got `%s`", cmd, arg);
        default:
                return set_net_option(cli, cmd, a, val, arg);
        }
}

berth_bundle *cli_bundle_load(struct cli *cli, const char *id, const struct cli_create_args *a)
{
        _cleanup_error_ berth_error *err = NULL;
        berth_bundle *bundle;

        if (berth_id_check(id, &err) < 0) {
                cli_error(cli, err);
                return NULL;
        }
        cli_debug(cli, "container `%s`: load bundle `%s`", id, a->bundle);
        bundle = berth_bundle_load(a->bundle, &err);
        if (!bundle) {
                cli_error(cli, err);
                return NULL;
        }
        if (apply_net_options(cli, bundle, a) != 0) {
                berth_bundle_free(bundle);
                return NULL;
        }
        return bundle;
}

static int create_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        return cli_create_set_option(cli, "create", opts, val, arg);
}

static int create_main(struct cli *cli, int argc, char **argv)
{
        struct cli_create_args a;
        struct cli_args pos;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        _cleanup_bundle_ berth_bundle *bundle = NULL;
        int r;

        cli_create_args_init(&a);
        r = cli_parse(cli, &cli_cmd_create, argc, argv, &a, &pos);
        if (r != CLI_CONTINUE)
                return r;
        bundle = cli_bundle_load(cli, pos.v[0], &a);
        if (!bundle)
                return 1;
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        if (a.dry_run)
                return cli_dry_run(cli, ctx, pos.v[0], bundle, BERTH_PLAN_CREATE,
                                   &(struct berth_run_options){.create = a.opts, .detach = true}, a.format);
        if (berth_create(ctx, pos.v[0], bundle, &a.opts, &err) < 0)
                return cli_error(cli, err);
        return 0;
}

const struct cli_command cli_cmd_create = {
        .name = "create",
        .args = "ID",
        .summary = "Create a container from a bundle; its process waits for `berth start`.",
        .min_args = 1,
        .max_args = 1,
        .options = create_options,
        .set_option = create_set_option,
        .main = create_main,
};
