/* berth update: change a container's resources, from runc's flags and/or a
 * LinuxResources JSON document (--resources FILE, or - for stdin, as
 * Docker's `update` sends it). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "cli.h"

enum {
        OPT_BLKIO_WEIGHT = 256,
        OPT_CPU_PERIOD,
        OPT_CPU_QUOTA,
        OPT_CPU_BURST,
        OPT_CPU_SHARES,
        OPT_CPU_RT_PERIOD,
        OPT_CPU_RT_RUNTIME,
        OPT_CPU_IDLE,
        OPT_CPUSET_CPUS,
        OPT_CPUSET_MEMS,
        OPT_MEMORY,
        OPT_MEMORY_RESERVATION,
        OPT_MEMORY_SWAP,
        OPT_KERNEL_MEMORY,
        OPT_KERNEL_MEMORY_TCP,
        OPT_PIDS_LIMIT,
        OPT_END,
};

static const struct cli_option update_options[] = {
        {"resources", 'r', "FILE", "a LinuxResources JSON file, or - for standard input"},
        {"blkio-weight", OPT_BLKIO_WEIGHT, "N", "block IO weight, 10 to 1000"},
        {"cpu-period", OPT_CPU_PERIOD, "USECS", "CPU CFS period"},
        {"cpu-quota", OPT_CPU_QUOTA, "USECS", "CPU CFS quota per period (-1: none)"},
        {"cpu-burst", OPT_CPU_BURST, "USECS", "CPU CFS burst per period"},
        {"cpu-share", OPT_CPU_SHARES, "N", "CPU shares (relative weight)"},
        {"cpu-shares", OPT_CPU_SHARES, "N", "the same as --cpu-share"},
        {"cpu-rt-period", OPT_CPU_RT_PERIOD, "USECS", "realtime scheduler period"},
        {"cpu-rt-runtime", OPT_CPU_RT_RUNTIME, "USECS", "realtime scheduler runtime per period"},
        {"cpu-idle", OPT_CPU_IDLE, "0|1", "1: SCHED_IDLE for the container"},
        {"cpuset-cpus", OPT_CPUSET_CPUS, "LIST", "CPUs to run on, e.g. 0-3,7"},
        {"cpuset-mems", OPT_CPUSET_MEMS, "LIST", "memory nodes to use, e.g. 0-1"},
        {"memory", OPT_MEMORY, "BYTES", "memory limit (k, m, g suffixes; -1: none)"},
        {"memory-reservation", OPT_MEMORY_RESERVATION, "BYTES", "memory soft limit"},
        {"memory-swap", OPT_MEMORY_SWAP, "BYTES", "memory+swap limit (-1: unlimited swap)"},
        {"kernel-memory", OPT_KERNEL_MEMORY, "BYTES", "kernel memory limit (cgroup v1)"},
        {"kernel-memory-tcp", OPT_KERNEL_MEMORY_TCP, "BYTES", "kernel TCP buffer limit (cgroup v1)"},
        {"pids-limit", OPT_PIDS_LIMIT, "N", "maximum number of processes (-1: none)"},
        {NULL, 0, NULL, NULL},
};

/* Where each flag goes in the LinuxResources document, and how it reads. */
enum kind { NUMBER, BYTES, LIST };
static const struct {
        const char *group, *key;
        enum kind kind;
        long long min;
} fields[OPT_END - OPT_BLKIO_WEIGHT] = {
        [OPT_BLKIO_WEIGHT - 256] = {"blockIO", "weight", NUMBER, 0},
        [OPT_CPU_PERIOD - 256] = {"cpu", "period", NUMBER, 0},
        [OPT_CPU_QUOTA - 256] = {"cpu", "quota", NUMBER, -1},
        [OPT_CPU_BURST - 256] = {"cpu", "burst", NUMBER, 0},
        [OPT_CPU_SHARES - 256] = {"cpu", "shares", NUMBER, 0},
        [OPT_CPU_RT_PERIOD - 256] = {"cpu", "realtimePeriod", NUMBER, 0},
        [OPT_CPU_RT_RUNTIME - 256] = {"cpu", "realtimeRuntime", NUMBER, -1},
        [OPT_CPU_IDLE - 256] = {"cpu", "idle", NUMBER, 0},
        [OPT_CPUSET_CPUS - 256] = {"cpu", "cpus", LIST, 0},
        [OPT_CPUSET_MEMS - 256] = {"cpu", "mems", LIST, 0},
        [OPT_MEMORY - 256] = {"memory", "limit", BYTES, -1},
        [OPT_MEMORY_RESERVATION - 256] = {"memory", "reservation", BYTES, -1},
        [OPT_MEMORY_SWAP - 256] = {"memory", "swap", BYTES, -1},
        [OPT_KERNEL_MEMORY - 256] = {"memory", "kernel", BYTES, -1},
        [OPT_KERNEL_MEMORY_TCP - 256] = {"memory", "kernelTCP", BYTES, -1},
        [OPT_PIDS_LIMIT - 256] = {"pids", "limit", NUMBER, -1},
};

struct update_args {
        const char *resources;
        const char *value[OPT_END - OPT_BLKIO_WEIGHT]; /* the JSON text of each flag given */
        char text[OPT_END - OPT_BLKIO_WEIGHT][32];
};

/* "512", "512k", "64m", "1g", "2GiB", "-1": bytes in powers of 1024, as runc's flags read them. */
static int parse_bytes(const char *s, long long *out)
{
        static const char units[] = "bkmgtp";
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || errno)
                return -1;
        if (v == -1 && *end == '\0') {
                *out = -1;
                return 0;
        }
        if (v < 0)
                return -1;
        if (*end) {
                const char *u = strchr(units, end[0] | 0x20);
                if (!u || end[0] == '\0')
                        return -1;
                end++;
                if ((*end | 0x20) == 'i' && *end)
                        end++;
                if ((*end | 0x20) == 'b' && *end && u != units)
                        end++;
                if (*end)
                        return -1;
                for (long i = u - units; i > 0; i--) {
                        if (v > LLONG_MAX / 1024)
                                return -1;
                        v *= 1024;
                }
        }
        *out = v;
        return 0;
}

static const char *opt_name(int val)
{
        for (const struct cli_option *o = update_options; o->name; o++)
                if (o->val == val)
                        return o->name;
        return "?";
}

static int update_set_option(struct cli *cli, void *opts, int val, const char *arg)
{
        struct update_args *a = opts;
        if (val == 'r') {
                a->resources = arg;
                return 0;
        }
        size_t i = (size_t)(val - OPT_BLKIO_WEIGHT);
        long long v = 0;
        char *end;
        switch (fields[i].kind) {
        case LIST:
                if (!*arg || arg[strspn(arg, "0123456789,-")] != '\0')
                        return cli_fail(cli, 0, "--%s: expected a list like 0-3,7, got `%s`", opt_name(val),
                                        arg);
                a->value[i] = arg; /* quoted when the document is written */
                return 0;
        case BYTES:
                if (parse_bytes(arg, &v) < 0)
                        return cli_fail(cli, 0, "--%s: expected a size like 512m or -1, got `%s`",
                                        opt_name(val), arg);
                break;
        case NUMBER:
                errno = 0;
                v = strtoll(arg, &end, 10);
                if (end == arg || *end || errno || v < fields[i].min)
                        return cli_fail(cli, 0, "--%s: expected a number%s, got `%s`", opt_name(val),
                                        fields[i].min < 0 ? " (or -1)" : "", arg);
                break;
        }
        snprintf(a->text[i], sizeof a->text[i], "%lld", v);
        a->value[i] = a->text[i];
        return 0;
}

/* The flags as a LinuxResources document, grouped by object. */
static char *flags_json(const struct update_args *a)
{
        static const char *const groups[] = {"memory", "cpu", "blockIO", "pids"};
        char *doc = cli_xasprintf("{");
        for (size_t g = 0; g < CLI_ARRAY_SIZE(groups); g++) {
                char *obj = NULL;
                for (size_t i = 0; i < CLI_ARRAY_SIZE(fields); i++) {
                        if (!a->value[i] || strcmp(fields[i].group, groups[g]) != 0)
                                continue;
                        const char *q = fields[i].kind == LIST ? "\"" : "";
                        char *next = cli_xasprintf("%s%s\"%s\":%s%s%s", obj ? obj : "", obj ? "," : "",
                                                   fields[i].key, q, a->value[i], q);
                        free(obj);
                        obj = next;
                }
                if (!obj)
                        continue;
                char *next = cli_xasprintf("%s%s\"%s\":{%s}", doc, doc[1] ? "," : "", groups[g], obj);
                free(obj);
                free(doc);
                doc = next;
        }
        char *out = cli_xasprintf("%s}", doc);
        free(doc);
        return out;
}

static char *read_all(FILE *f)
{
        size_t len = 0, cap = 4096;
        char *buf = malloc(cap);
        if (!buf)
                cli_oom();
        for (size_t n; (n = fread(buf + len, 1, cap - len - 1, f)) > 0;) {
                len += n;
                if (len + 1 == cap && !(buf = realloc(buf, cap *= 2)))
                        cli_oom();
        }
        buf[len] = '\0';
        return buf;
}

static char *read_resources(struct cli *cli, const char *path)
{
        if (strcmp(path, "-") == 0)
                return read_all(stdin);
        FILE *f = fopen(path, "re");
        if (!f) {
                cli_fail(cli, errno, "open `%s`", path);
                return NULL;
        }
        char *text = read_all(f);
        fclose(f);
        return text;
}

static int update_main(struct cli *cli, int argc, char **argv)
{
        struct update_args a = {0};
        struct cli_args pos;
        _cleanup_error_ berth_error *err = NULL;
        _cleanup_context_ berth_context *ctx = NULL;
        _cleanup_free_ char *file = NULL, *flags = NULL;
        int r = cli_parse(cli, &cli_cmd_update, argc, argv, &a, &pos);

        if (r != CLI_CONTINUE)
                return r;
        bool any_flag = false;
        for (size_t i = 0; i < CLI_ARRAY_SIZE(a.value); i++)
                any_flag |= a.value[i] != NULL;
        if (!a.resources && !any_flag)
                return cli_usage_error(cli, "update",
                                       "update: nothing to change (give --resources or a flag)");
        if (a.resources && !(file = read_resources(cli, a.resources)))
                return 1;
        ctx = cli_context(cli);
        if (!ctx)
                return 1;
        /* The document first, then the flags over it, as runc applies them. */
        if (file && berth_update(ctx, pos.v[0], file, &err) < 0)
                return cli_error(cli, err);
        if (any_flag) {
                flags = flags_json(&a);
                cli_debug(cli, "update %s: %s", pos.v[0], flags);
                if (berth_update(ctx, pos.v[0], flags, &err) < 0)
                        return cli_error(cli, err);
        }
        return 0;
}

const struct cli_command cli_cmd_update = {
        .name = "update",
        .args = "ID",
        .summary = "Change the resources of a running container.",
        .min_args = 1,
        .max_args = 1,
        .options = update_options,
        .set_option = update_set_option,
        .main = update_main,
};
