/* berth checkpoint / berth restore: CRIU, with runc's options. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "cli.h"

enum {
        OPT_IMAGE_PATH = 256,
        OPT_WORK_PATH,
        OPT_PARENT_PATH,
        OPT_LEAVE_RUNNING,
        OPT_TCP_ESTABLISHED,
        OPT_EXT_UNIX_SK,
        OPT_SHELL_JOB,
        OPT_LAZY_PAGES,
        OPT_STATUS_FD,
        OPT_PAGE_SERVER,
        OPT_FILE_LOCKS,
        OPT_PRE_DUMP,
        OPT_MANAGE_CGROUPS_MODE,
        OPT_EMPTY_NS,
        OPT_AUTO_DEDUP,
        OPT_CRIU,
        /* restore */
        OPT_CONSOLE_SOCKET,
        OPT_PID_FILE,
        OPT_NO_SUBREAPER,
        OPT_NO_PIVOT,
        OPT_LSM_PROFILE,
        OPT_LSM_MOUNT_CONTEXT,
};

#define MAX_EMPTY_NS 8

struct cr_args {
        struct berth_restore_options r; /* r.criu: the checkpoint options */
        const char *bundle;
        char *empty_ns[MAX_EMPTY_NS + 1];
        size_t n_empty_ns;
};

/* clang-format off */
#define CRIU_SHARED_OPTIONS \
        {"image-path", OPT_IMAGE_PATH, "DIR", "CRIU's image files (default: ./checkpoint)"}, \
        {"work-path", OPT_WORK_PATH, "DIR", "CRIU's work files and log (default: the image path)"}, \
        {"tcp-established", OPT_TCP_ESTABLISHED, NULL, "established TCP connections too"}, \
        {"ext-unix-sk", OPT_EXT_UNIX_SK, NULL, "external unix sockets too"}, \
        {"shell-job", OPT_SHELL_JOB, NULL, "a shell job (its terminal)"}, \
        {"file-locks", OPT_FILE_LOCKS, NULL, "file locks too"}, \
        {"manage-cgroups-mode", OPT_MANAGE_CGROUPS_MODE, "MODE", "soft (default), full, strict or ignore"}, \
        {"empty-ns", OPT_EMPTY_NS, "NS", "a namespace CRIU keeps but leaves empty (e.g. network)"}, \
        {"auto-dedup", OPT_AUTO_DEDUP, NULL, "deduplicate memory images"}, \
        {"lazy-pages", OPT_LAZY_PAGES, NULL, "lazy migration of memory"}, \
        {"criu", OPT_CRIU, "PATH", "the criu binary (default: the global --criu, else criu in $PATH)"}
/* clang-format on */

static const struct cli_option checkpoint_options[] = {
        CRIU_SHARED_OPTIONS,
        {"parent-path", OPT_PARENT_PATH, "DIR", "images of a previous pre-dump"},
        {"leave-running", OPT_LEAVE_RUNNING, NULL, "leave the container running after the checkpoint"},
        {"status-fd", OPT_STATUS_FD, "FD", "with --lazy-pages: CRIU writes \\0 to FD when ready"},
        {"page-server", OPT_PAGE_SERVER, "IP:PORT", "send the memory to a page server"},
        {"pre-dump", OPT_PRE_DUMP, NULL, "dump memory only, leave the container running"},
        {NULL, 0, NULL, NULL},
};

static const struct cli_option restore_options[] = {
        CRIU_SHARED_OPTIONS,
        {"bundle", 'b', "DIR", "bundle directory holding config.json (default: .)"},
        {"detach", 'd', NULL, "return once restored"},
        {"pid-file", OPT_PID_FILE, "FILE", "write the restored init's pid to FILE"},
        {"console-socket", OPT_CONSOLE_SOCKET, "SOCKET", "for a terminal (not supported yet)"},
        {"no-subreaper", OPT_NO_SUBREAPER, NULL, "accepted for runc's sake (berth uses no subreaper)"},
        {"no-pivot", OPT_NO_PIVOT, NULL, "accepted for runc's sake (CRIU restores the mounts)"},
        {"lsm-profile", OPT_LSM_PROFILE, "TYPE:LABEL", "the LSM profile to restore with"},
        {"lsm-mount-context", OPT_LSM_MOUNT_CONTEXT, "CONTEXT", "the SELinux mount context to restore with"},
        {NULL, 0, NULL, NULL},
};

static int parse_fd(const char *s, int *out)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 0 || v > INT_MAX)
                return -1;
        *out = (int)v;
        return 0;
}

static int set_shared(struct cli *cli, const char *cmd, struct cr_args *a, int val, const char *arg)
{
        struct berth_checkpoint_options *o = &a->r.criu;
        static const char *const modes[] = {"soft", "full", "strict", "ignore"};

        switch (val) {
        case OPT_IMAGE_PATH:
                o->image_path = arg;
                return 0;
        case OPT_WORK_PATH:
                o->work_path = arg;
                return 0;
        case OPT_TCP_ESTABLISHED:
                o->tcp_established = true;
                return 0;
        case OPT_EXT_UNIX_SK:
                o->ext_unix_sk = true;
                return 0;
        case OPT_SHELL_JOB:
                o->shell_job = true;
                return 0;
        case OPT_FILE_LOCKS:
                o->file_locks = true;
                return 0;
        case OPT_AUTO_DEDUP:
                o->auto_dedup = true;
                return 0;
        case OPT_LAZY_PAGES:
                o->lazy_pages = true;
                return 0;
        case OPT_CRIU:
                o->criu = arg;
                return 0;
        case OPT_EMPTY_NS:
                if (a->n_empty_ns == MAX_EMPTY_NS)
                        return cli_usage_error(cli, cmd, "--empty-ns: at most %d", MAX_EMPTY_NS);
                a->empty_ns[a->n_empty_ns++] = (char *)arg;
                o->empty_ns = a->empty_ns;
                return 0;
        case OPT_MANAGE_CGROUPS_MODE:
                for (size_t i = 0; i < CLI_ARRAY_SIZE(modes); i++)
                        if (strcmp(arg, modes[i]) == 0) {
                                o->manage_cgroups_mode = arg;
                                return 0;
                        }
                return cli_usage_error(
                        cli, cmd, "--manage-cgroups-mode: expected soft, full, strict or ignore, got `%s`",
                        arg);
        default:
                return CLI_CONTINUE;
        }
}

static int checkpoint_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        struct cr_args *a = opts;
        struct berth_checkpoint_options *o = &a->r.criu;
        int r = set_shared(cli, "checkpoint", a, val, arg);

        if (r != CLI_CONTINUE)
                return r;
        switch (val) {
        case OPT_PARENT_PATH:
                o->parent_path = arg;
                return 0;
        case OPT_LEAVE_RUNNING:
                o->leave_running = true;
                return 0;
        case OPT_PAGE_SERVER:
                o->page_server = arg;
                return 0;
        case OPT_PRE_DUMP:
                o->pre_dump = true;
                return 0;
        case OPT_STATUS_FD:
                if (parse_fd(arg, &o->status_fd) == 0)
                        return 0;
                return cli_usage_error(cli, "checkpoint", "--status-fd: expected an fd number, got `%s`",
                                       arg);
        default:
                abort();
        }
}

static int restore_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        struct cr_args *a = opts;
        int r = set_shared(cli, "restore", a, val, arg);

        if (r != CLI_CONTINUE)
                return r;
        switch (val) {
        case 'b':
                a->bundle = arg;
                return 0;
        case 'd':
                a->r.detach = true;
                return 0;
        case OPT_PID_FILE:
                a->r.pid_file = arg;
                return 0;
        case OPT_CONSOLE_SOCKET:
                a->r.console_socket = arg;
                return 0;
        case OPT_NO_SUBREAPER:
        case OPT_NO_PIVOT:
                return 0;
        case OPT_LSM_PROFILE:
                a->r.lsm_profile = arg;
                return 0;
        case OPT_LSM_MOUNT_CONTEXT:
                a->r.lsm_mount_context = arg;
                return 0;
        default:
                abort();
        }
}

static void cr_args_init(struct cli *cli, struct cr_args *a)
{
        *a = (struct cr_args){.bundle = "."};
        a->r.criu.status_fd = -1;
        a->r.criu.criu = cli->criu;
}

/* runc's default: ./checkpoint */
static void default_image_path(struct berth_checkpoint_options *o)
{
        if (!o->image_path)
                o->image_path = "checkpoint";
}

static int checkpoint_main(struct cli *cli, int argc, char **argv)
{
        struct cr_args a;
        struct cli_args pos;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        int r;

        cr_args_init(cli, &a);
        r = cli_parse(cli, &cli_cmd_checkpoint, argc, argv, &a, &pos);
        if (r != CLI_CONTINUE)
                return r;
        default_image_path(&a.r.criu);
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        if (berth_checkpoint(ctx, pos.v[0], &a.r.criu, &err) < 0)
                return cli_error(cli, err);
        return 0;
}

static int restore_main(struct cli *cli, int argc, char **argv)
{
        struct cr_args a;
        struct cli_args pos;
        struct berth_exit_status status = {0};
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        _cleanup_bundle_ berth_bundle *bundle = NULL;
        int r;

        cr_args_init(cli, &a);
        r = cli_parse(cli, &cli_cmd_restore, argc, argv, &a, &pos);
        if (r != CLI_CONTINUE)
                return r;
        default_image_path(&a.r.criu);
        if (berth_id_check(pos.v[0], &err) < 0)
                return cli_error(cli, err);
        bundle = berth_bundle_load(a.bundle, &err);
        if (!bundle)
                return cli_error(cli, err);
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        if (berth_restore(ctx, pos.v[0], bundle, &a.r, &status, &err) < 0)
                return cli_error(cli, err);
        return a.r.detach ? 0 : status.exit_code;
}

const struct cli_command cli_cmd_checkpoint = {
        .name = "checkpoint",
        .args = "ID",
        .summary = "Checkpoint a running container with CRIU.",
        .min_args = 1,
        .max_args = 1,
        .options = checkpoint_options,
        .set_option = checkpoint_set_option,
        .main = checkpoint_main,
};

const struct cli_command cli_cmd_restore = {
        .name = "restore",
        .args = "ID",
        .summary = "Restore a container from a checkpoint with CRIU.",
        .min_args = 1,
        .max_args = 1,
        .options = restore_options,
        .set_option = restore_set_option,
        .main = restore_main,
};
