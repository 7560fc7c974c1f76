#define _GNU_SOURCE
#include "exit_report.h"

#include <fcntl.h>
#include <string.h>

#include "cgroup_backend.h"
#include "container.h"
#include "monitor.h"

/* The directory of the hierarchy that holds `controller`, as for the
 * resources: the v1 one naming it, else cgroup2 (*v2); NULL for neither. */
static char *counter_dir(const struct cgroup *cg, const char *controller, bool *v2)
{
        const struct cgroup_dir *found = NULL;
        for (size_t i = 0; cg && i < cg->n && !found; i++)
                if (!cg->dirs[i].v2 && cgroup_dir_has_controller(&cg->dirs[i], controller))
                        found = &cg->dirs[i];
        for (size_t i = 0; cg && i < cg->n && !found; i++)
                if (cg->dirs[i].v2)
                        found = &cg->dirs[i];
        if (!found)
                return NULL;
        *v2 = found->v2;
        return cgroup_dir_path(found);
}

int64_t exit_report_peak_memory(const struct cgroup *cg)
{
        bool v2;
        _cleanup_free_ char *dir = counter_dir(cg, "memory", &v2);
        uint64_t v;
        /* (A cgroup2 directory without the memory controller has no memory.peak.) */
        if (!dir || cg_read_u64(dir, v2 ? "memory.peak" : "memory.max_usage_in_bytes", &v) < 0 ||
            v > INT64_MAX)
                return -1;
        return (int64_t)v;
}

int64_t exit_report_cpu_time(const struct cgroup *cg)
{
        bool v2;
        _cleanup_free_ char *dir = counter_dir(cg, "cpuacct", &v2);
        uint64_t v;
        if (!dir)
                return -1;
        if (!v2)
                return cg_read_u64(dir, "cpuacct.usage", &v) < 0 || v > INT64_MAX ? -1 : (int64_t)v;
        /* cpu.stat's usage is there with or without the cpu controller. */
        _cleanup_free_ char *stat = cg_read(dir, "cpu.stat");
        if (!stat || !cg_keyed(stat, "usage_usec", &v) || v > INT64_MAX / 1000)
                return -1;
        return (int64_t)v * 1000;
}

static char *rfc3339(const struct timespec *ts)
{
        struct tm tm;
        char buf[64];
        gmtime_r(&ts->tv_sec, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        return xasprintf("%s.%09ldZ", buf, ts->tv_nsec);
}

void exit_report_collect(struct berth_exit_report *r, const struct berth_exit_status *st,
                         const struct cgroup *cg, const struct timespec *started,
                         const struct timespec *finished)
{
        *r = (struct berth_exit_report){
                .status = *st,
                .peak_memory = exit_report_peak_memory(cg),
                .cpu_time_ns = exit_report_cpu_time(cg),
                .started_at = started ? rfc3339(started) : NULL,
                .finished_at = rfc3339(finished),
        };
        if (cg && cgroup_oom_kills(cg) > 0)
                r->status.oom_killed = true;
}

static json_t *int_or_null(int64_t v)
{
        return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *str_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

json_t *exit_report_to_json(const struct berth_exit_report *r)
{
        return json_pack("{s:i, s:i, s:b, s:o, s:o, s:o, s:o}", "exitCode", r->status.exit_code, "signal",
                         r->status.signal, "oomKilled", r->status.oom_killed, "peakMemory",
                         int_or_null(r->peak_memory), "cpuTimeNs", int_or_null(r->cpu_time_ns), "startedAt",
                         str_or_null(r->started_at), "finishedAt", str_or_null(r->finished_at));
}

int exit_report_save(const struct berth_exit_report *r, int dirfd, const char *exit_file, berth_error **err)
{
        json_t *j = exit_report_to_json(r);
        _cleanup_free_ char *text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT);
        json_decref(j);
        if (!text)
                abort();
        size_t len = strlen(text);
        int ret = 0;
        int e = dirfd >= 0 ? write_file_atomic(dirfd, EXIT_REPORT_FILE, text, len, 0600) : 0;
        if (e < 0)
                ret = error_set(err, -e, "write the exit report");
        /* The caller's file, readable as a pid file is. */
        e = exit_file ? write_file_atomic(AT_FDCWD, exit_file, text, len, 0644) : 0;
        if (e < 0 && ret == 0)
                ret = error_set(err, -e, "write exit file `%s`", exit_file);
        return ret;
}

void exit_report_run(berth_context *ctx, const struct cgroup *cg, const struct berth_exit_status *st,
                     const struct timespec *started, int rootfd, const char *id, bool keep,
                     const char *exit_file)
{
        struct timespec finished;
        clock_gettime(CLOCK_REALTIME, &finished);
        struct berth_exit_report r;
        exit_report_collect(&r, st, cg, started, &finished);
        _cleanup_close_ int dirfd =
                keep ? openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
        _cleanup_error_ berth_error *err = NULL;
        if (exit_report_save(&r, dirfd, exit_file, &err) < 0) {
                _cleanup_free_ char *text = error_text(err);
                ctx_warn(ctx, "container `%s`: %s", id, text);
        }
        free(r.started_at);
        free(r.finished_at);
}

static int64_t json_int64(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);
        return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static char *json_str(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return s ? xstrdup(s) : NULL;
}

struct berth_exit_report *exit_report_load(int dirfd)
{
        monitor_wait(dirfd);
        _cleanup_free_ char *text = read_file_at(dirfd, EXIT_REPORT_FILE, NULL);
        if (!text)
                return NULL;
        json_t *j = json_loads(text, 0, NULL);
        if (!json_is_object(j)) {
                json_decref(j);
                return NULL;
        }
        struct berth_exit_report *r = xzalloc(sizeof *r);
        r->status.exit_code = (int)json_int64(j, "exitCode");
        r->status.signal = (int)json_int64(j, "signal");
        r->status.oom_killed = json_is_true(json_object_get(j, "oomKilled"));
        r->peak_memory = json_int64(j, "peakMemory");
        r->cpu_time_ns = json_int64(j, "cpuTimeNs");
        r->started_at = json_str(j, "startedAt");
        r->finished_at = json_str(j, "finishedAt");
        json_decref(j);
        return r;
}

void exit_report_free(struct berth_exit_report *r)
{
        if (!r)
                return;
        free(r->started_at);
        free(r->finished_at);
        free(r);
}
