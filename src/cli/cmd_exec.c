/* berth exec: run a new process in a running container, with runc's options.
 * Options come before the id; everything after it is the command. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "cli.h"

enum {
        OPT_CONSOLE_SOCKET = 256,
        OPT_CWD,
        OPT_NO_NEW_PRIVS,
        OPT_APPARMOR,
        OPT_PROCESS_LABEL,
        OPT_PID_FILE,
        OPT_PRESERVE_FDS,
        OPT_IGNORE_PAUSED,
        OPT_CGROUP,
};

static const struct cli_option exec_options[] = {
        {"tty", 't', NULL, "allocate a terminal for the process"},
        {"console-socket", OPT_CONSOLE_SOCKET, "SOCKET", "send the pty master to this unix socket"},
        {"cwd", OPT_CWD, "DIR", "working directory in the container"},
        {"env", 'e', "KEY=VALUE", "set an environment variable (repeatable)"},
        {"user", 'u', "UID[:GID]", "run as this user (and group)"},
        {"additional-gids", 'g', "GID", "add a supplementary group (repeatable)"},
        {"cap", 'c', "CAP", "add a capability, e.g. CAP_NET_ADMIN (repeatable)"},
        {"no-new-privs", OPT_NO_NEW_PRIVS, NULL, "set no_new_privs for the process"},
        {"apparmor", OPT_APPARMOR, "PROFILE", "AppArmor profile for the process"},
        {"process-label", OPT_PROCESS_LABEL, "LABEL", "SELinux label for the process"},
        {"detach", 'd', NULL, "return once the process runs"},
        {"pid-file", OPT_PID_FILE, "FILE", "write the process's pid to FILE"},
        {"preserve-fds", OPT_PRESERVE_FDS, "N", "pass fds 3 .. 3+N-1 on to the process"},
        {"ignore-paused", OPT_IGNORE_PAUSED, NULL, "exec in a paused container too"},
        {"cgroup", OPT_CGROUP, "[CTRL[,CTRL]:]PATH", "run in this sub-cgroup of the container (repeatable)"},
        {"process", 'p', "FILE", "the process as an OCI process JSON file"},
        {NULL, 0, NULL, NULL},
};

struct exec_args {
        struct berth_exec_options opts;
        char **env, **caps, **cgroups;
        size_t n_env, n_caps, n_cgroups;
        uint32_t *gids;
        size_t n_gids;
};

static void strv_add(char ***v, size_t *n, const char *s)
{
        char **nv = realloc(*v, (*n + 2) * sizeof **v);

        if (!nv)
                cli_oom();
        nv[(*n)++] = (char *)s; /* argv strings live as long as the command */
        nv[*n] = NULL;
        *v = nv;
}

/* A whole decimal number in 0..max. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
        char *end;

        if (*s < '0' || *s > '9')
                return -1;
        errno = 0;
        *out = strtoul(s, &end, 10);
        return errno != 0 || *end != '\0' || *out > max ? -1 : 0;
}

static int parse_user(struct berth_exec_options *o, const char *arg)
{
        char *copy = cli_xasprintf("%s", arg);
        char *colon = strchr(copy, ':');
        unsigned long uid, gid = 0;
        int r;

        if (colon)
                *colon = '\0';
        r = parse_uint(copy, UINT32_MAX - 1, &uid);
        if (r == 0 && colon)
                r = parse_uint(colon + 1, UINT32_MAX - 1, &gid);
        free(copy);
        if (r < 0)
                return -1;
        o->set_uid = true;
        o->uid = (uint32_t)uid;
        o->set_gid = colon != NULL;
        o->gid = (uint32_t)gid;
        return 0;
}

static int add_gid(struct exec_args *a, const char *arg)
{
        unsigned long gid;
        uint32_t *nv;

        if (parse_uint(arg, UINT32_MAX - 1, &gid) < 0)
                return -1;
        nv = realloc(a->gids, (a->n_gids + 1) * sizeof *nv);
        if (!nv)
                cli_oom();
        nv[a->n_gids++] = (uint32_t)gid;
        a->gids = nv;
        return 0;
}

static int set_flag(struct berth_exec_options *o, int val)
{
        switch (val) {
        case 't':
                o->tty = true;
                return 0;
        case 'd':
                o->detach = true;
                return 0;
        case OPT_NO_NEW_PRIVS:
                o->no_new_privs = true;
                return 0;
        case OPT_IGNORE_PAUSED:
                o->ignore_paused = true;
                return 0;
        default:
                return 1;
        }
}

static int set_string(struct berth_exec_options *o, int val, const char *arg)
{
        switch (val) {
        case OPT_CONSOLE_SOCKET:
                o->console_socket = arg;
                return 0;
        case OPT_CWD:
                o->cwd = arg;
                return 0;
        case OPT_APPARMOR:
                o->apparmor_profile = arg;
                return 0;
        case OPT_PROCESS_LABEL:
                o->process_label = arg;
                return 0;
        case OPT_PID_FILE:
                o->pid_file = arg;
                return 0;
        case 'p':
                o->process_file = arg;
                return 0;
        default:
                return 1;
        }
}

static int exec_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        struct exec_args *a = opts;
        unsigned long n;

        if (set_flag(&a->opts, val) == 0 || set_string(&a->opts, val, arg) == 0)
                return 0;
        switch (val) {
        case 'e':
                strv_add(&a->env, &a->n_env, arg);
                return 0;
        case 'c':
                strv_add(&a->caps, &a->n_caps, arg);
                return 0;
        case OPT_CGROUP:
                strv_add(&a->cgroups, &a->n_cgroups, arg);
                return 0;
        case 'u':
                if (parse_user(&a->opts, arg) == 0)
                        return 0;
                return cli_usage_error(cli, "exec", "exec: --user: expected UID[:GID], got `%s`", arg);
        case 'g':
                if (add_gid(a, arg) == 0)
                        return 0;
                return cli_usage_error(cli, "exec", "exec: --additional-gids: expected a GID, got `%s`", arg);
        case OPT_PRESERVE_FDS:
                if (parse_uint(arg, INT_MAX - 3, &n) == 0) {
                        a->opts.preserve_fds = (int)n;
                        return 0;
                }
                return cli_usage_error(
                        cli, "exec", "exec: --preserve-fds: expected a non-negative integer, got `%s`", arg);
        default:
                abort();
        }
}

static void exec_args_free(struct exec_args *a)
{
        free(a->env);
        free(a->caps);
        free(a->cgroups);
        free(a->gids);
}

static int exec_run(struct cli *cli, struct exec_args *a, struct cli_args *pos)
{
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        struct berth_exit_status status = {0};
        struct berth_exec_options *o = &a->opts;

        if (!o->process_file && pos->n < 2)
                return cli_usage_error(cli, "exec", "exec: missing command (or --process FILE)");
        if (o->process_file && pos->n > 1)
                return cli_usage_error(cli, "exec",
                                       "exec: unexpected argument `%s`: the command is in --process",
                                       pos->v[1]);
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        o->args = pos->n > 1 ? pos->v + 1 : NULL; /* argv is NULL-terminated */
        o->env = a->env;
        o->caps = a->caps;
        o->cgroups = a->cgroups;
        o->additional_gids = a->gids;
        o->n_additional_gids = a->n_gids;
        o->forward_signals = !o->detach;
        if (berth_exec(ctx, pos->v[0], o, &status, &err) < 0)
                return cli_error(cli, err);
        return o->detach ? 0 : status.exit_code;
}

static int exec_main(struct cli *cli, int argc, char **argv)
{
        struct exec_args a = {0};
        struct cli_args pos;
        int r = cli_parse(cli, &cli_cmd_exec, argc, argv, &a, &pos);

        if (r == CLI_CONTINUE)
                r = exec_run(cli, &a, &pos);
        exec_args_free(&a);
        return r;
}

const struct cli_command cli_cmd_exec = {
        .name = "exec",
        .args = "ID COMMAND [ARG...]",
        .summary =
                "Run a new process in a running container; unless detached, wait and exit with its status.",
        .min_args = 1,
        .max_args = INT_MAX,
        .in_order = true,
        .options = exec_options,
        .set_option = exec_set_option,
        .main = exec_main,
};
