/* Operations on a container's cgroup: update, pause, resume, pids, stats,
 * OOM notification and the event stream; and the resources a new
 * container starts with. */
#define _GNU_SOURCE
#include <poll.h>
#include <string.h>
#include <sys/timerfd.h>

#include "container.h"
#include "control.h"
#include "net.h"
#include "pidfd.h"

/* ---- resources at create -------------------------------------------------- */

/* What every container may use whatever its rules say, as runc grants it:
 * mknod of any node (opening one is what the rules govern), the standard
 * character devices, the ptys, and tun. */
static const struct res_device_rule default_devices[] = {
        {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"},    {true, 'c', 1, 3, "rwm"},
        {true, 'c', 1, 8, "rwm"}, {true, 'c', 1, 7, "rwm"},    {true, 'c', 5, 0, "rwm"},
        {true, 'c', 1, 5, "rwm"}, {true, 'c', 1, 9, "rwm"},    {true, 'c', 136, -1, "rwm"},
        {true, 'c', 5, 2, "rwm"}, {true, 'c', 10, 200, "rwm"},
};

static int apply_devices(const struct spec *s, const struct cgroup *cg, const struct cg_plan *plan,
                         berth_error **err)
{
        const struct res_resources *r = &s->resources;
        /* No rules: the container keeps its parent's (the host's) policy.  No
         * cgroup at all (rootless, nothing delegated): nothing to apply them to,
         * and no device node such a container could make anyway. */
        if (r->n_devices == 0 || cg->n == 0)
                return 0;
        size_t n = 0, cap = r->n_devices + ARRAY_SIZE(default_devices) + s->n_devices;
        _cleanup_free_ struct res_device_rule *rules = xzalloc(cap * sizeof *rules);
        for (size_t i = 0; i < r->n_devices; i++)
                rules[n++] = r->devices[i];
        for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
                rules[n++] = default_devices[i];
        /* A device the spec creates is one the container means to use. */
        for (size_t i = 0; i < s->n_devices; i++) {
                const struct spec_device *d = &s->devices[i];
                if (d->type != 'c' && d->type != 'b' && d->type != 'u')
                        continue;
                rules[n++] =
                        (struct res_device_rule){true, d->type == 'b' ? 'b' : 'c', d->major, d->minor, "rwm"};
        }
        return plan ? cgroup_plan_devices(cg, rules, n, plan, err) : cgroup_set_devices(cg, rules, n, err);
}

int control_apply_spec(const struct spec *s, const struct cgroup *cg, berth_error **err)
{
        if (cgroup_set(cg, &s->resources, false, err) < 0) {
                if (cg->n == 0)
                        error_wrap(err, "no cgroup could be made for uid %u", (unsigned)geteuid());
                return -1;
        }
        return apply_devices(s, cg, NULL, err);
}

int control_plan_devices(const struct spec *s, const struct cgroup *cg, const struct cg_plan *plan,
                         berth_error **err)
{
        return apply_devices(s, cg, plan, err);
}

/* ---- update, pause, resume ------------------------------------------------ */

static int check_cgroup(const struct handle *h, const char *id, berth_error **err)
{
        if (!h->st.cgroup)
                return error_set(err, 0, "container `%s` has no cgroup", id);
        return 0;
}

int berth_update(berth_context *ctx, const char *id, const char *resources_json, berth_error **err)
{
        struct handle h;
        struct res_resources r;
        if (res_parse_text(resources_json ? resources_json : "{}", "resources", &r, err) < 0) {
                res_clear(&r);
                return -1;
        }
        if (handle_open(ctx, id, true, &h, err) < 0) {
                res_clear(&r);
                return -1;
        }
        int ret = check_cgroup(&h, id, err);
        if (ret == 0 && h.status == BERTH_STOPPED)
                ret = error_set(err, 0, "cannot update container `%s`: it is stopped", id);
        /* A device list replaces the whole policy; engines do not change it live. */
        if (ret == 0 && r.n_devices > 0)
                ret = error_set(err, 0, "linux.resources.devices: cannot be changed by update");
        if (ret == 0 && cgroup_set(h.st.cgroup, &r, true, err) < 0) {
                error_wrap(err, "update container `%s`", id);
                ret = -1;
        }
        if (ret == 0)
                ctx_debug(ctx, "container %s: resources updated", id);
        handle_close(&h);
        res_clear(&r);
        return ret;
}

static int set_frozen(berth_context *ctx, const char *id, bool frozen, berth_error **err)
{
        struct handle h;
        if (handle_open(ctx, id, true, &h, err) < 0)
                return -1;
        enum berth_status want = frozen ? BERTH_RUNNING : BERTH_PAUSED;
        int ret = check_cgroup(&h, id, err);
        if (ret == 0 && h.status != want)
                ret = error_set(err, 0, "cannot %s container `%s`: it is %s", frozen ? "pause" : "resume", id,
                                berth_status_name(h.status));
        if (ret == 0 && cgroup_freeze(h.st.cgroup, frozen, err) < 0) {
                /* Half frozen is worse than not frozen: put it back. */
                if (frozen)
                        cgroup_freeze(h.st.cgroup, false, NULL);
                error_wrap(err, "container `%s`", id);
                ret = -1;
        }
        if (ret == 0)
                ctx_debug(ctx, "container %s: %s", id, frozen ? "paused" : "resumed");
        handle_close(&h);
        return ret;
}

int berth_pause(berth_context *ctx, const char *id, berth_error **err)
{
        return set_frozen(ctx, id, true, err);
}

int berth_resume(berth_context *ctx, const char *id, berth_error **err)
{
        return set_frozen(ctx, id, false, err);
}

/* ---- pids, stats -------------------------------------------------------------- */

int berth_pids(berth_context *ctx, const char *id, int **pids, size_t *n, berth_error **err)
{
        struct handle h;
        *pids = NULL;
        *n = 0;
        if (handle_open(ctx, id, false, &h, err) < 0)
                return -1;
        pid_t *v = NULL;
        size_t count = 0;
        int ret = check_cgroup(&h, id, err);
        if (ret == 0)
                ret = cgroup_pids(h.st.cgroup, &v, &count, err);
        handle_close(&h);
        if (ret < 0)
                return -1;
        _Static_assert(sizeof(pid_t) == sizeof(int), "pid_t is an int");
        *pids = (int *)v;
        *n = count;
        return 0;
}

static int running_handle(berth_context *ctx, const char *id, struct handle *h, berth_error **err)
{
        if (handle_open(ctx, id, false, h, err) < 0)
                return -1;
        if (check_cgroup(h, id, err) == 0 && h->status != BERTH_STOPPED)
                return 0;
        if (h->st.cgroup)
                error_set(err, 0, "container `%s` is not running", id);
        handle_close(h);
        return -1;
}

/* runc's stats: the cgroup's, and the counters of the container's own
 * network interfaces (net.c). */
static char *stats_text(const struct handle *h)
{
        json_t *stats = cgroup_stats(h->st.cgroup);
        json_t *ifs = h->st.pid > 0 ? net_interface_stats(h->st.pid, NULL) : NULL;
        if (ifs)
                json_object_set_new(stats, "network_interfaces", ifs);
        char *text = cgroup_stats_text(stats);
        json_decref(stats);
        return text;
}

char *berth_stats(berth_context *ctx, const char *id, berth_error **err)
{
        struct handle h;
        if (running_handle(ctx, id, &h, err) < 0)
                return NULL;
        char *text = stats_text(&h);
        handle_close(&h);
        return text;
}

/* ---- OOM notification -------------------------------------------------------- */

struct berth_oom_watch {
        struct cgroup_oom_watch w;
};

berth_oom_watch *berth_oom_watch_new(berth_context *ctx, const char *id, berth_error **err)
{
        struct handle h;
        if (handle_open(ctx, id, false, &h, err) < 0)
                return NULL;
        berth_oom_watch *w = NULL;
        if (check_cgroup(&h, id, err) == 0) {
                w = xzalloc(sizeof *w);
                if (cgroup_oom_watch_open(h.st.cgroup, &w->w, err) < 0) {
                        free(w);
                        w = NULL;
                        error_wrap(err, "container `%s`", id);
                }
        }
        handle_close(&h);
        return w;
}

int berth_oom_watch_fd(const berth_oom_watch *w)
{
        return w->w.fd;
}

int berth_oom_watch_read(berth_oom_watch *w)
{
        return cgroup_oom_watch_read(&w->w);
}

void berth_oom_watch_free(berth_oom_watch *w)
{
        if (w) {
                cgroup_oom_watch_close(&w->w);
                free(w);
        }
}

/* ---- event stream ------------------------------------------------------------ */

/* 1 when the callback asks to stop. */
static int emit(berth_event_cb cb, void *data, enum berth_event_type type, const char *id, const char *stats)
{
        struct berth_event ev = {.type = type, .id = id, .stats_json = stats};
        return cb(data, &ev) != 0 ? 1 : 0;
}

static int emit_stats(const struct handle *h, const char *id, berth_event_cb cb, void *data)
{
        _cleanup_free_ char *text = stats_text(h);
        return emit(cb, data, BERTH_EVENT_STATS, id, text);
}

static int emit_ooms(struct cgroup_oom_watch *w, const char *id, berth_event_cb cb, void *data)
{
        int r = 0;
        for (int n = w->fd >= 0 ? cgroup_oom_watch_read(w) : 0; n > 0 && r == 0; n--)
                r = emit(cb, data, BERTH_EVENT_OOM, id, NULL);
        return r;
}

/* A periodic timerfd, or none (-1) for interval 0. */
static int arm_timer(unsigned interval_ms, int *fd, berth_error **err)
{
        *fd = -1;
        if (interval_ms == 0)
                return 0;
        *fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (*fd < 0)
                return error_set(err, errno, "create timer");
        struct timespec ts = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L};
        struct itimerspec its = {.it_interval = ts, .it_value = ts};
        if (timerfd_settime(*fd, 0, &its, NULL) < 0)
                return error_set(err, errno, "arm timer");
        return 0;
}

/* poll until the init goes, the callback says stop, or an error. */
static int event_loop(const struct handle *h, const char *id, int pidfd, int timerfd,
                      struct cgroup_oom_watch *w, berth_event_cb cb, void *data, berth_error **err)
{
        struct pollfd p[3] = {{.fd = pidfd, .events = POLLIN},
                              {.fd = w->fd, .events = POLLIN},
                              {.fd = timerfd, .events = POLLIN}};
        for (;;) {
                if (pidfd_poll(p, 3, 0, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return error_set(err, errno, "wait for events of container `%s`", id);
                }
                int r = 0;
                if (p[1].revents)
                        r = emit_ooms(w, id, cb, data);
                if (r == 0 && p[2].revents) {
                        uint64_t ticks;
                        if (read(timerfd, &ticks, sizeof ticks) == sizeof ticks)
                                r = emit_stats(h, id, cb, data);
                }
                if (r != 0)
                        return r;
                if (p[0].revents) {
                        /* The OOM that ended it may still be on its way. */
                        if (w->fd >= 0 && poll(&p[1], 1, 0) > 0)
                                return emit_ooms(w, id, cb, data);
                        return 0;
                }
        }
}

int berth_events(berth_context *ctx, const char *id, unsigned interval_ms, berth_event_cb cb, void *data,
                 berth_error **err)
{
        struct handle h;
        if (running_handle(ctx, id, &h, err) < 0)
                return -1;
        _cleanup_close_ int pidfd = init_pidfd(&h.st);
        _cleanup_close_ int timerfd = -1;
        struct cgroup_oom_watch w = {.fd = -1, .aux_fd = -1};
        int r = 0;
        if (pidfd < 0)
                r = error_set(err, 0, "container `%s` is not running", id);
        /* Without a memory controller there are no OOM events to report, but
         * stats still are. */
        if (r == 0 && cgroup_oom_watch_open(h.st.cgroup, &w, NULL) < 0)
                w.fd = -1;
        if (r == 0)
                r = arm_timer(interval_ms, &timerfd, err);
        if (r == 0 && interval_ms > 0)
                r = emit_stats(&h, id, cb, data);
        if (r == 0)
                r = event_loop(&h, id, pidfd, timerfd, &w, cb, data, err);
        cgroup_oom_watch_close(&w);
        handle_close(&h);
        return r;
}
