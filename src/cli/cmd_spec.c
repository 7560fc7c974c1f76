/* berth spec: write a default config.json into a bundle. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

struct spec_args {
        const char *bundle;
};

static const struct cli_option spec_options[] = {
        {"bundle", 'b', "DIR", "bundle directory to write config.json into (default: .)"},
        {NULL, 0, NULL, NULL},
};

static int spec_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        struct spec_args *a = opts;

        (void)cli;
        if (val == 'b')
                a->bundle = arg;
        return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* The mode is set explicitly because open(2)'s is filtered by the umask. */
static int write_config(int fd, const char *json)
{
        size_t len = strlen(json);

        if (fchmod(fd, 0644) < 0 || write_all(fd, json, len) < 0)
                return -1;
        if (len > 0 && json[len - 1] != '\n' && write_all(fd, "\n", 1) < 0)
                return -1;
        return 0;
}

static char *config_path(const char *bundle)
{
        size_t len = strlen(bundle);

        return cli_xasprintf("%s%sconfig.json", bundle, len > 0 && bundle[len - 1] == '/' ? "" : "/");
}

static int spec_main(struct cli *cli, int argc, char **argv)
{
        struct spec_args a = {.bundle = "."};
        struct cli_args pos;
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ char *json = NULL;
        int r = cli_parse(cli, &cli_cmd_spec, argc, argv, &a, &pos);
        int fd, saved;

        if (r != CLI_CONTINUE)
                return r;
        path = config_path(a.bundle);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0 && errno == EEXIST)
                return cli_fail(cli, 0, "%s: already exists", path);
        if (fd < 0)
                return cli_fail(cli, errno, "open `%s`", path);
        json = berth_spec_default();
        r = write_config(fd, json);
        saved = errno;
        if (close(fd) < 0 && r == 0) {
                r = -1;
                saved = errno;
        }
        if (r < 0) {
                unlink(path);
                return cli_fail(cli, saved, "write `%s`", path);
        }
        return 0;
}

const struct cli_command cli_cmd_spec = {
        .name = "spec",
        .args = "",
        .summary = "Write a default config.json into a bundle directory.",
        .min_args = 0,
        .max_args = 0,
        .options = spec_options,
        .set_option = spec_set_option,
        .main = spec_main,
};
