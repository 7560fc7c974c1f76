/* Exit reports (berth extension): how a container's init ended and what its
 * cgroup counted — peak memory, CPU time — with start and finish times,
 * kept in the state dir as exit.json for `state` (and written to
 * --exit-file).  Written by whoever is the init's parent: berth itself in
 * the foreground, else the monitor (monitor.h). */
#ifndef BERTH_EXIT_REPORT_H
#define BERTH_EXIT_REPORT_H

#include <jansson.h>
#include <time.h>

#include "cgroups.h"

#define EXIT_REPORT_FILE "exit.json"

/* Fill `r` from the init's end (`st`), the container's cgroup (read now:
 * before it is removed) and the two moments (`started` NULL: never started). */
void exit_report_collect(struct berth_exit_report *r, const struct berth_exit_status *st,
                         const struct cgroup *cg, const struct timespec *started,
                         const struct timespec *finished);
/* The report as the JSON object of `state`'s "berth": {"exit": …}:
 * {"exitCode","signal","oomKilled","peakMemory","cpuTimeNs","startedAt","finishedAt"}
 * (unknown values null). */
json_t *exit_report_to_json(const struct berth_exit_report *r);
/* Write it to `dirfd`/exit.json (dirfd >= 0) and to `exit_file` (when not
 * NULL), each atomically.  Both are tried; the first failure is returned. */
int exit_report_save(const struct berth_exit_report *r, int dirfd, const char *exit_file, berth_error **err);
/* A foreground run (berth is the init's parent): the report of `st`, taken
 * now, kept in the state dir <rootfd>/<id> (`keep`) and written to
 * `exit_file`.  The container has run: a failure here is a warning. */
void exit_report_run(berth_context *ctx, const struct cgroup *cg, const struct berth_exit_status *st,
                     const struct timespec *started, int rootfd, const char *id, bool keep,
                     const char *exit_file);
/* A stopped container's report from its state dir, once a monitor still
 * writing it is done; NULL when there is none.  The caller frees it with
 * exit_report_free(). */
struct berth_exit_report *exit_report_load(int dirfd);
void exit_report_free(struct berth_exit_report *r);

/* The v1/v2 readers, exposed for tests: peak memory in bytes and CPU time in
 * ns of the container's cgroup, -1 when the host has no such counter. */
int64_t exit_report_peak_memory(const struct cgroup *cg);
int64_t exit_report_cpu_time(const struct cgroup *cg);

#endif
