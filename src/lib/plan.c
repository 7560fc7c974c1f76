/* create --dry-run / run --dry-run: the ordered plan of what create (or run)
 * would do with a bundle — state, cgroup directories and the values written
 * to their files, namespaces, id maps, network, mounts with their flags and
 * propagation, devices, hooks, the process's user, capabilities and seccomp
 * filter — worked out without doing any of it.  What create checks before it
 * makes anything fails here the same way.  The cgroup values come from the
 * resource writers themselves, run in plan mode (cgroup_backend.h); the
 * mount steps mirror rootfs.c's decisions and say which way it will go. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "console.h"
#include "container.h"
#include "control.h"
#include "hooks.h"
#include "lsm.h"
#include "namespaces.h"
#include "net.h"
#include "plan.h"
#include "process.h"
#include "rootfs.h"
#include "seccomp_filter.h"
#include "sysctl.h"

#include <seccomp.h>

struct plan {
        berth_context *ctx;
        const char *id;
        const struct spec *s;
        const struct berth_run_options *o;
        bool run;
        json_t *steps;
        const char *phase;
        struct cgroup_forecast cg;
        bool userns; /* the init is in a user namespace (new or joined) */
};

static json_t *jstr(const char *s)
{
        json_t *j = s ? json_string(s) : json_null();
        return j ? j : json_string("(not UTF-8)");
}

static json_t *jstrv(char *const *v)
{
        json_t *a = json_array();
        for (size_t i = 0; v && v[i]; i++)
                json_array_append_new(a, jstr(v[i]));
        return a;
}

/* One step: its phase, what it does, a line for people; the caller adds details. */
PRINTF(3, 4)
static json_t *step(struct plan *p, const char *action, const char *fmt, ...)
{
        va_list ap;
        char *text;
        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                abort();
        va_end(ap);
        json_t *o = json_object();
        json_object_set_new(o, "phase", json_string(p->phase));
        json_object_set_new(o, "action", json_string(action));
        json_object_set_new(o, "text", jstr(text));
        json_array_append_new(p->steps, o);
        free(text);
        return o;
}

static void set_str(json_t *o, const char *key, const char *v)
{
        if (v)
                json_object_set_new(o, key, jstr(v));
}

/* ---- what create checks first -------------------------------------------------- */

static int plan_checks(struct plan *p, struct net_launch *net, berth_error **err)
{
        const struct spec *s = p->s;
        const struct berth_create_options *c = &p->o->create;
        if (berth_id_check(p->id, err) < 0)
                return -1;
        _cleanup_free_ char *dir = xasprintf("%s/%s", p->ctx->root, p->id);
        if (access(dir, F_OK) == 0)
                return error_set(err, 0, "container `%s` already exists", p->id);
        if (console_check(s->process.terminal, !p->run || p->o->detach, c->console_socket, err) < 0)
                return -1;
        if (c->preserve_fds < 0 || c->listen_fds < 0)
                return error_set(err, 0, "--preserve-fds: expected a non-negative number");
        if (!s->namespaces[NS_MNT].present)
                return error_set(err, 0, "linux.namespaces: a mount namespace is required");
        if (ns_check_paths(s, err) < 0 || sysctl_check_host(s, err) < 0 ||
            net_prepare(net, p->ctx, s, err) < 0)
                return -1;
        process_probe();
        return lsm_check(&s->process, s->mount_label, "", err);
}

/* ---- state --------------------------------------------------------------------------- */

static void plan_state(struct plan *p)
{
        const struct berth_create_options *c = &p->o->create;
        p->phase = "state";
        if (access(p->ctx->root, F_OK) < 0)
                step(p, "mkdir", "create the state root `%s` (0700)", p->ctx->root);
        json_t *o =
                step(p, "mkdir", "create and lock `%s/%s` (0700): state.json, config.json (kept for exec)",
                     p->ctx->root, p->id);
        set_str(o, "path", p->ctx->root);
        if (!p->run) {
                step(p, "mkfifo", "make `%s/%s/" EXEC_FIFO "`: the init waits on it until `berth start %s`",
                     p->ctx->root, p->id, p->id);
                if (hooks_have(p->s->hooks, HOOK_START_CONTAINER) || hooks_have(p->s->hooks, HOOK_POSTSTART))
                        step(p, "mkfifo",
                             "make `%s/%s/" HOOKS_START_FIFO "`: `start` learns the hooks' outcome",
                             p->ctx->root, p->id);
        }
        if (c->notify_socket)
                step(p, "notify",
                     "bind a notify socket in `%s/%s/notify`, mounted at /run/notify in the container "
                     "(NOTIFY_SOCKET=/run/notify/notify.sock); READY=1 is passed on to `%s`",
                     p->ctx->root, p->id, c->notify_socket);
        if (c->console_socket)
                step(p, "console", "connect to the console socket `%s`", c->console_socket);
}

/* ---- cgroups --------------------------------------------------------------------------- */

static int plan_cg_write(void *data, const struct cg_target *t, const char *field, const char *file,
                         const char *value, berth_error **err)
{
        struct plan *p = data;
        const char *dir = cgroup_forecast_real(&p->cg, t->dir);
        _cleanup_free_ char *name = field ? xasprintf("%s.%s", t->prefix ? t->prefix : "", field) : NULL;
        /* The error cg_write would meet; create would stop there. */
        if (name && !cgroup_forecast_has(&p->cg, t->dir, file))
                return error_set(err, 0, "%s: the %s controller has no `%s` on this host", name,
                                 t->controller, file);
        /* Past the spec's own rules, the device list is berth's additions (control.c). */
        size_t rule;
        if (field && sscanf(field, "devices[%zu]", &rule) == 1 && rule >= p->s->resources.n_devices) {
                free(name);
                name = xstrdup("added: a device every container gets, or one of linux.devices");
        }
        json_t *o = step(p, "write", "write `%s` to %s/%s%s%s%s", value, dir, file, name ? " (" : "",
                         name ? name : "", name ? ")" : "");
        set_str(o, "path", dir);
        set_str(o, "file", file);
        set_str(o, "value", value);
        set_str(o, "field", name);
        return 0;
}

static int plan_cg_bpf(void *data, const struct cg_target *t, const void *insns, size_t count, size_t n,
                       berth_error **err)
{
        (void)insns;
        (void)err;
        struct plan *p = data;
        const char *dir = cgroup_forecast_real(&p->cg, t->dir);
        json_t *o = step(p, "bpf", "attach an eBPF device filter (%zu instructions, from %zu rules) to %s",
                         count, n, dir);
        set_str(o, "path", dir);
        json_object_set_new(o, "instructions", json_integer((json_int_t)count));
        return 0;
}

/* The words of `avail` not in `on`, as "+a +b". */
static char *missing_words(const char *avail, const char *on)
{
        char *out = NULL;
        for (const char *w = avail; w && *w;) {
                w += strspn(w, " \n");
                size_t n = strcspn(w, " \n");
                bool have = false;
                for (const char *o = on; o && *o && !have;) {
                        o += strspn(o, " \n");
                        size_t m = strcspn(o, " \n");
                        have = m == n && m > 0 && strncmp(o, w, n) == 0;
                        o += m;
                }
                if (n > 0 && !have) {
                        char *t = xasprintf("%s%s+%.*s", out ? out : "", out ? " " : "", (int)n, w);
                        free(out);
                        out = t;
                }
                w += n;
        }
        return out;
}

/* cgroup2 hands a controller down only through cgroup.subtree_control: what
 * cgroup_create turns on at each level from where the path hangs off down to
 * the container's parent. */
static void plan_cg_enable(struct plan *p, const struct cgroup_dir *d, const char *full)
{
        size_t mlen = strlen(d->mount);
        size_t q = !d->base || strcmp(d->base, "/") == 0 ? mlen : mlen + strlen(d->base);
        if (!d->base || strcmp(d->path, "/") == 0 || strlen(full) <= q ||
            strncmp(full + mlen, d->base, strlen(d->base)) != 0)
                return;
        const char *leaf = strrchr(full, '/');
        for (;;) {
                _cleanup_free_ char *level = xstrndup(full, q > mlen ? q : mlen);
                _cleanup_free_ char *avail = cg_read(level, "cgroup.controllers");
                _cleanup_free_ char *on = cg_read(level, "cgroup.subtree_control");
                _cleanup_free_ char *add = avail ? missing_words(avail, on) : NULL;
                if (!avail)
                        step(p, "enable",
                             "cgroup2: turn on every controller %s offers in its cgroup.subtree_control",
                             level);
                else if (add)
                        set_str(step(p, "enable", "cgroup2: write `%s` to %s/cgroup.subtree_control", add,
                                     level),
                                "path", level);
                if (full + q >= leaf)
                        break;
                q = (size_t)(strchrnul(full + q + 1, '/') - full);
        }
}

static void plan_cg_dirs(struct plan *p, size_t i)
{
        const struct cgroup_dir *d = &p->cg.real->dirs[i];
        const char *name = d->v2 ? "cgroup2" : d->controllers;
        _cleanup_strv_ char **made = cgroup_forecast_new_dirs(&p->cg, i);
        if (!made[0])
                set_str(step(p, "use", "%s: use the existing %s", name, p->cg.real_dirs[i]), "path",
                        p->cg.real_dirs[i]);
        for (size_t k = 0; made[k]; k++) {
                json_t *o = step(p, "mkdir", "%s: mkdir %s%s", name, made[k],
                                 cgroup_dir_has_controller(d, "cpuset")
                                         ? " (cpuset.cpus and cpuset.mems copied from its parent)"
                                         : "");
                set_str(o, "path", made[k]);
                set_str(o, "hierarchy", name);
        }
        if (d->v2)
                plan_cg_enable(p, d, p->cg.real_dirs[i]);
}

static int plan_cgroups(struct plan *p, berth_error **err)
{
        const struct spec *s = p->s;
        p->phase = "cgroup";
        if (cgroup_forecast_make(p->id, s->cgroups_path, &p->cg, err) < 0)
                return -1;
        struct cg_plan cp = {.write = plan_cg_write, .attach_bpf = plan_cg_bpf, .data = p};
        struct cgroup none = {0};
        if (!p->cg.usable) {
                step(p, "none",
                     "no cgroup: uid %u may not create cgroups here, so the container runs in the "
                     "caller's own cgroup, without limits",
                     (unsigned)geteuid());
                if (cgroup_plan_set(&none, &s->resources, &cp, err) < 0) {
                        error_wrap(err, "no cgroup could be made for uid %u", (unsigned)geteuid());
                        return -1;
                }
                return 0;
        }
        for (size_t i = 0; i < p->cg.n; i++)
                plan_cg_dirs(p, i);
        if (cgroup_plan_set(p->cg.probe, &s->resources, &cp, err) < 0 ||
            control_plan_devices(s, p->cg.probe, &cp, err) < 0)
                return -1;
        step(p, "enter",
             "the init is born in its cgroup2 directory (CLONE_INTO_CGROUP) and joins the v1 ones "
             "itself, before anything of the container runs");
        return 0;
}

/* ---- namespaces, id maps, network ------------------------------------------------------ */

static void plan_namespace(struct plan *p, enum ns_type t, const struct net_launch *net)
{
        const struct spec *s = p->s;
        const char *name = ns_spec_name(t);
        const struct net_config *nc = net->cfg;
        const char *joined = t == NS_NET && nc   ? nc->net_container
                             : t == NS_IPC && nc ? nc->ipc_container
                                                 : NULL;
        json_t *o;
        if (joined) {
                o = step(p, "join",
                         "%s: join the namespace of container `%s`, entered by the parent before clone", name,
                         joined);
        } else if (s->namespaces[t].path) {
                o = step(p, "join", "%s: join `%s`%s", name, s->namespaces[t].path,
                         t == NS_PID || t == NS_TIME ? ", entered by the parent for its children before clone"
                                                     : ", by the init (setns; the user namespace first)");
                set_str(o, "path", s->namespaces[t].path);
        } else if (s->namespaces[t].present || (t == NS_NET && nc && nc->mode != NET_MODE_UNSET)) {
                bool offsets = t == NS_TIME && (s->time_monotonic.present || s->time_boottime.present);
                o = step(p, "new", "%s: new%s", name,
                         t == NS_CGROUP ? " (unshared by the init once it is in its cgroup)"
                         : offsets ? " (made by the parent, its offsets written before the init enters it)"
                                   : " (clone3)");
        } else {
                o = step(p, "share", "%s: the caller's (none in linux.namespaces)", name);
        }
        json_object_set_new(o, "type", json_string(name));
}

static void plan_maps(struct plan *p, const char *file, const struct spec_idmap *m, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                json_t *o = step(p, "idmap", "write `%u %u %u` to /proc/<init>/%s", m[i].container_id,
                                 m[i].host_id, m[i].size, file);
                set_str(o, "file", file);
        }
}

static void plan_namespaces(struct plan *p, const struct net_launch *net)
{
        static const enum ns_type order[] = {NS_USER, NS_MNT, NS_PID,    NS_NET,
                                             NS_IPC,  NS_UTS, NS_CGROUP, NS_TIME};
        const struct spec *s = p->s;
        p->phase = "namespaces";
        for (size_t i = 0; i < ARRAY_SIZE(order); i++)
                plan_namespace(p, order[i], net);
        if (s->time_monotonic.present)
                step(p, "time", "time offset monotonic %" PRId64 " s %u ns", s->time_monotonic.secs,
                     s->time_monotonic.nanosecs);
        if (s->time_boottime.present)
                step(p, "time", "time offset boottime %" PRId64 " s %u ns", s->time_boottime.secs,
                     s->time_boottime.nanosecs);
        if (!s->namespaces[NS_USER].present || s->namespaces[NS_USER].path)
                return;
        plan_maps(p, "uid_map", s->uid_mappings, s->n_uid_mappings);
        if (geteuid() != 0)
                step(p, "setgroups", "write `deny` to /proc/<init>/setgroups (a non-root caller must)");
        plan_maps(p, "gid_map", s->gid_mappings, s->n_gid_mappings);
}

static const char *addr_text(const struct net_addr *a, char *buf, size_t size)
{
        inet_ntop(a->family, a->bytes, buf, (socklen_t)size);
        return buf;
}

static void plan_network(struct plan *p, const struct net_config *c)
{
        char a[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
        if (!c || c->mode == NET_MODE_UNSET)
                return;
        p->phase = "network";
        if (c->mode == NET_MODE_BRIDGE) {
                json_t *o = step(p, "veth",
                                 "create a veth pair: the host end `vb` + 8 hex digits in bridge `%s`, "
                                 "`%s` inside the init's network namespace",
                                 c->bridge, c->ifname);
                set_str(o, "bridge", c->bridge);
                set_str(o, "ifname", c->ifname);
                if (c->mtu)
                        step(p, "mtu", "MTU %u on both ends", c->mtu);
                if (c->has_mac)
                        step(p, "mac", "MAC %02x:%02x:%02x:%02x:%02x:%02x inside", c->mac[0], c->mac[1],
                             c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
        }
        step(p, "up", "bring up `lo`%s%s", c->mode == NET_MODE_BRIDGE ? " and " : "",
             c->mode == NET_MODE_BRIDGE ? c->ifname : "");
        if (c->address.family)
                step(p, "address", "address %s/%u", addr_text(&c->address, a, sizeof a), c->address.prefix);
        if (c->gateway.family)
                step(p, "route", "default route via %s", addr_text(&c->gateway, g, sizeof g));
        if (c->address6.family)
                step(p, "address", "address %s/%u", addr_text(&c->address6, a, sizeof a), c->address6.prefix);
        if (c->gateway6.family)
                step(p, "route", "IPv6 default route via %s", addr_text(&c->gateway6, g, sizeof g));
}

static const char *rlimit_name(int resource)
{
        static const char *const names[] = {
                "RLIMIT_CPU",      "RLIMIT_FSIZE", "RLIMIT_DATA",   "RLIMIT_STACK",
                "RLIMIT_CORE",     "RLIMIT_RSS",   "RLIMIT_NPROC",  "RLIMIT_NOFILE",
                "RLIMIT_MEMLOCK",  "RLIMIT_AS",    "RLIMIT_LOCKS",  "RLIMIT_SIGPENDING",
                "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};
        return resource >= 0 && (size_t)resource < ARRAY_SIZE(names) ? names[resource] : "RLIMIT_?";
}

/* ---- the init before the mounts ----------------------------------------------------------- */

static void plan_init(struct plan *p)
{
        const struct spec *s = p->s;
        p->phase = "init";
        for (size_t i = 0; i < s->n_mounts; i++)
                if (s->mounts[i].idmap)
                        step(p, "idmap",
                             "mounts[%zu]: the parent clones `%s` (open_tree%s) and id-maps it with %s; "
                             "the init attaches it",
                             i, s->mounts[i].source, s->mounts[i].recursive_idmap ? ", recursively" : "",
                             s->mounts[i].n_uid_mappings ? "a user namespace of the mount's own mappings"
                                                         : "the container's user namespace");
        step(p, "setsid", "become non-dumpable, start a new session");
        if (s->namespaces[NS_USER].present && !s->namespaces[NS_USER].path)
                step(p, "root", "become root (0:0) in the user namespace");
        if (s->hostname)
                step(p, "hostname", "hostname `%s`", s->hostname);
        if (s->domainname)
                step(p, "domainname", "domainname `%s`", s->domainname);
        for (size_t i = 0; s->sysctl && s->sysctl[i] && s->sysctl[i + 1]; i += 2)
                step(p, "sysctl", "sysctl %s = `%s`", s->sysctl[i], s->sysctl[i + 1]);
        if (s->has_personality)
                step(p, "personality", "personality %s", s->personality ? "LINUX32" : "LINUX");
        for (size_t i = 0; i < s->process.n_rlimits; i++) {
                const struct spec_rlimit *r = &s->process.rlimits[i];
                step(p, "rlimit", "%s: soft %" PRIu64 ", hard %" PRIu64, rlimit_name(r->resource), r->soft,
                     r->hard);
        }
        if (s->process.has_oom_score_adj)
                step(p, "oom", "oom_score_adj %d", s->process.oom_score_adj);
        if (!p->o->create.no_new_keyring)
                step(p, "keyring", "join a new session keyring `_ses.%s`", p->id);
}

/* ---- mounts -------------------------------------------------------------------------------- */

static bool is_bind(const struct spec_mount *m)
{
        return (m->flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0);
}

static const unsigned long SETTABLE = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                      MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

/* Whether the destination is in the image now (else it is created: a file for a file source). */
static bool in_rootfs(const struct spec *s, const char *path)
{
        _cleanup_close_ int root = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = root < 0 ? -1 : rootfs_open(root, path, 0);
        return fd >= 0;
}

/* How rootfs.c will make mount `m`: the main step's text. */
static char *mount_how(const struct plan *p, const struct spec_mount *m, const char *flags)
{
        const struct spec *s = p->s;
        bool own_net = s->namespaces[NS_NET].present && !s->namespaces[NS_NET].path;
        bool own_ipc = s->namespaces[NS_IPC].present && !s->namespaces[NS_IPC].path;
        if (m->flags & MS_REMOUNT)
                return xasprintf("remount the mount already there with %s", flags);
        if (is_bind(m) && m->idmap)
                return xasprintf("attach the id-mapped tree of `%s` (move_mount)", m->source);
        if (is_bind(m)) {
                bool remount = ((m->flags | m->clear_flags) & SETTABLE) != 0;
                return xasprintf("bind `%s`%s%s%s", m->source,
                                 (m->flags & MS_REC) ? " with its submounts" : "",
                                 remount ? ", then remount the bind with " : "", remount ? flags : "");
        }
        if (strcmp(m->type, "cgroup") == 0) {
                const struct cgroup *cg = p->cg.usable ? p->cg.real : NULL;
                if (!cg || cg->n == 0)
                        return xstrdup("bind the host's /sys/fs/cgroup (no cgroup of its own)");
                if (cg->n == 1 && cg->dirs[0].v2 && strcmp(cg->dirs[0].mount, "/sys/fs/cgroup") == 0)
                        return xasprintf(
                                "mount cgroup2 (%s)%s", flags,
                                p->userns && !s->namespaces[NS_CGROUP].present
                                        ? "; the kernel refuses it in a user namespace without a cgroup "
                                          "namespace: then a bind of the container's cgroup"
                                        : "");
                return xasprintf(
                        "mount a tmpfs (mode=755) holding a bind of the container's directory in each of "
                        "the %zu hierarchies, named as on the host (%s)",
                        cg->n, flags);
        }
        if (p->userns && strcmp(m->type, "sysfs") == 0 && !own_net)
                return xasprintf(
                        "bind the host's /sys with its submounts%s (a user namespace may mount sysfs only "
                        "with a network namespace of its own)",
                        (m->flags & MS_RDONLY) ? ", read-only throughout" : "");
        if (p->userns && strcmp(m->type, "mqueue") == 0 && !own_ipc)
                return xstrdup(
                        "bind the host's /dev/mqueue (a user namespace may mount mqueue only with an IPC "
                        "namespace of its own)");
        return xasprintf("mount %s `%s` with %s%s%s%s", m->type, m->source ? m->source : m->type, flags,
                         m->data ? ", data `" : "", m->data ? m->data : "", m->data ? "`" : "");
}

static void plan_mount(struct plan *p, size_t i)
{
        const struct spec_mount *m = &p->s->mounts[i];
        _cleanup_free_ char *flags = plan_mount_flags(m->flags & ~(MS_BIND | MS_REC), m->clear_flags);
        _cleanup_free_ char *how = mount_how(p, m, *flags ? flags : "no flags");
        bool there = in_rootfs(p->s, m->destination);
        json_t *o = step(p, "mount", "mounts[%zu] %s: %s%s", i, m->destination, how,
                         there ? "" : " (the destination is created first)");
        json_object_set_new(o, "index", json_integer((json_int_t)i));
        set_str(o, "destination", m->destination);
        set_str(o, "type", m->type);
        set_str(o, "source", m->source);
        set_str(o, "flags", flags);
        set_str(o, "data", m->data);
        json_object_set_new(o, "options", jstrv(m->options));
        if (m->tmpcopyup)
                step(p, "copyup", "mounts[%zu] %s: copy what the image has there into the new tmpfs%s", i,
                     m->destination, (m->flags & MS_RDONLY) ? ", then make it read-only" : "");
        if (m->rec_attr_set || m->rec_attr_clear) {
                _cleanup_free_ char *attrs = plan_mount_attrs(m->rec_attr_set, m->rec_attr_clear);
                set_str(step(p, "setattr",
                             "mounts[%zu] %s: %s on every mount of the tree (mount_setattr "
                             "AT_RECURSIVE)",
                             i, m->destination, attrs),
                        "attributes", attrs);
        }
        const char *prop = plan_propagation_name(m->propagation);
        if (prop)
                set_str(step(p, "propagation", "mounts[%zu] %s: propagation %s", i, m->destination, prop),
                        "propagation", prop);
}

static bool dev_is_fresh(const struct spec *s)
{
        bool fresh = false;
        for (size_t i = 0; i < s->n_mounts; i++)
                if (strcmp(s->mounts[i].destination, "/dev") == 0)
                        fresh = !is_bind(&s->mounts[i]);
        return fresh;
}

static void plan_devices(struct plan *p)
{
        const struct spec *s = p->s;
        const char *how = p->userns ? "bind the host's node (no mknod in a user namespace)" : "mknod";
        if (dev_is_fresh(s)) {
                step(p, "devices", "/dev/null, zero, full, random, urandom, tty: %s, mode 0666", how);
                step(p, "links", "links /dev/fd, stdin, stdout, stderr, ptmx -> pts/ptmx, core");
        }
        for (size_t i = 0; i < s->n_devices; i++) {
                const struct spec_device *d = &s->devices[i];
                json_t *o = step(p, "device",
                                 "linux.devices[%zu] %s: %s, type %c %" PRId64 ":%" PRId64
                                 ", mode %04o, owner %d:%d",
                                 i, d->path, d->type == 'p' ? "mkfifo" : how, d->type, d->major, d->minor,
                                 d->has_mode ? (unsigned)(d->file_mode & 07777) : 0666u,
                                 d->has_uid ? (int)d->uid : 0, d->has_gid ? (int)d->gid : 0);
                set_str(o, "path", d->path);
        }
}

static void plan_hooks(struct plan *p, enum hook_kind k, const char *when)
{
        const struct hooks *h = p->s->hooks;
        for (size_t i = 0; h && i < h->n[k]; i++) {
                const struct hook *x = &h->list[k][i];
                json_t *o = step(p, "hook", "hooks.%s[%zu]: run `%s`%s, %s", hook_kind_name(k), i, x->path,
                                 x->timeout ? " (with a timeout)" : "", when);
                set_str(o, "kind", hook_kind_name(k));
                set_str(o, "path", x->path);
                json_object_set_new(o, "args", jstrv(x->args));
                json_object_set_new(o, "env", jstrv(x->env));
                if (x->timeout)
                        json_object_set_new(o, "timeout", json_integer(x->timeout));
        }
}

/* A masked or read-only path: in the image, or in the kernel's files that
 * /proc and /sys will show (the host's stand in). */
static const char *path_kind(const struct spec *s, const char *path)
{
        struct stat st;
        bool kernel = str_has_prefix(path, "/proc/") || str_has_prefix(path, "/sys/");
        _cleanup_close_ int root = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = kernel || root < 0 ? -1 : rootfs_open(root, path, 0);
        int r = kernel ? stat(path, &st) : fd < 0 ? -1 : fstat(fd, &st);
        return r < 0 ? NULL : S_ISDIR(st.st_mode) ? "directory" : "file";
}

static void plan_protect(struct plan *p)
{
        const struct spec *s = p->s;
        for (size_t i = 0; s->masked_paths && s->masked_paths[i]; i++) {
                const char *kind = path_kind(s, s->masked_paths[i]);
                step(p, "mask", "mask %s: %s", s->masked_paths[i],
                     !kind                       ? "not there: skipped"
                     : strcmp(kind, "file") == 0 ? "bind the host's /dev/null over it"
                                                 : "an empty read-only tmpfs over it");
        }
        for (size_t i = 0; s->readonly_paths && s->readonly_paths[i]; i++)
                step(p, "readonly", "read-only %s: %s", s->readonly_paths[i],
                     path_kind(s, s->readonly_paths[i]) ? "bind it over itself and make the tree read-only"
                                                        : "not there: skipped");
}

static void plan_rootfs(struct plan *p)
{
        const struct spec *s = p->s;
        p->phase = "rootfs";
        if (s->namespaces[NS_MNT].path) {
                step(p, "join", "the mount namespace `%s` is joined as it is: no mounts, no pivot",
                     s->namespaces[NS_MNT].path);
                plan_hooks(p, HOOK_PRESTART, "in the runtime's namespaces");
                plan_hooks(p, HOOK_CREATE_RUNTIME, "in the runtime's namespaces");
                plan_hooks(p, HOOK_CREATE_CONTAINER, "in the container's namespaces");
                return;
        }
        unsigned long prop = s->rootfs_propagation ? s->rootfs_propagation : MS_SLAVE | MS_REC;
        unsigned long first = (prop & (MS_SHARED | MS_UNBINDABLE)) ? (MS_SLAVE | MS_REC) : prop;
        step(p, "propagation", "make / %s (host mounts still arrive, none of ours leave)",
             plan_propagation_name(first));
        set_str(step(p, "bind",
                     "bind the rootfs `%s` onto itself with its submounts (pivot_root wants a mount)",
                     s->root_path),
                "path", s->root_path);
        for (size_t i = 0; i < s->n_mounts; i++)
                plan_mount(p, i);
        plan_devices(p);
        step(p, "cwd", "process.cwd %s%s", s->process.cwd,
             in_rootfs(s, s->process.cwd) ? "" : ": created (it is not in the image)");
        plan_hooks(p, HOOK_PRESTART, "in the runtime's namespaces, mounts made");
        plan_hooks(p, HOOK_CREATE_RUNTIME, "in the runtime's namespaces, mounts made");
        plan_hooks(p, HOOK_CREATE_CONTAINER, "in the container's namespaces, before pivot_root");
        plan_protect(p);
        step(p, "pivot",
             p->o->create.no_pivot ? "move the rootfs to / and chroot (--no-pivot)"
                                   : "pivot_root into the rootfs and detach the old root");
        if (prop & (MS_SHARED | MS_UNBINDABLE))
                step(p, "propagation", "make / %s (linux.rootfsPropagation)", plan_propagation_name(prop));
        if (s->root_readonly)
                step(p, "readonly", "remount / read-only (root.readonly)");
}

/* ---- the process ---------------------------------------------------------------------------- */

static void plan_caps(struct plan *p)
{
        static const char *const names[] = {"bounding", "effective", "inheritable", "permitted", "ambient"};
        const struct spec_caps *c = &p->s->process.caps;
        if (!c->present) {
                step(p, "capabilities", "capabilities: not given, left as they are (%s)",
                     p->s->process.user.uid == 0 ? "root keeps all" : "the user's");
                return;
        }
        const uint64_t sets[] = {c->bounding, c->effective, c->inheritable, c->permitted, c->ambient};
        for (size_t k = 0; k < ARRAY_SIZE(sets); k++) {
                json_t *list = json_array();
                _cleanup_free_ char *text = NULL;
                for (int cap = 0; cap < 64; cap++) {
                        const char *name = (sets[k] >> cap) & 1 ? cap_to_name(cap) : NULL;
                        if (!name)
                                continue;
                        json_array_append_new(list, json_string(name));
                        char *t = text ? xasprintf("%s %s", text, name) : xstrdup(name);
                        free(text);
                        text = t;
                }
                json_t *o = step(p, "capabilities", "capabilities %s: %s", names[k], text ? text : "(none)");
                set_str(o, "set", names[k]);
                json_object_set_new(o, "capabilities", list);
        }
        _cleanup_free_ char *unknown = process_caps_unknown(c);
        if (unknown)
                step(p, "capabilities", "skipped, not known to the running kernel: %s", unknown);
}

static bool seccomp_early(const struct spec_process *pr)
{
        if (pr->no_new_privileges)
                return false;
        if (pr->caps.present)
                return !(pr->caps.effective & (UINT64_C(1) << CAP_SYS_ADMIN));
        return pr->user.uid != 0;
}

static int plan_seccomp(struct plan *p, berth_error **err)
{
        const struct spec_seccomp *sc = p->s->seccomp;
        if (!sc)
                return 0;
        /* A copy: the bundle's own section is left as it was. */
        struct spec_seccomp copy = *sc;
        copy.prog = NULL;
        size_t unknown = 0, names = 0;
        int r = seccomp_filter_compile(&copy, &unknown, err);
        free(copy.prog);
        if (r < 0)
                return -1;
        for (size_t i = 0; i < sc->n_rules; i++)
                names += strv_len(sc->rules[i].names);
        _cleanup_free_ char *cache = seccomp_filter_cache_name(sc);
        _cleanup_free_ char *cache_path = xasprintf("%s/" SECCOMP_CACHE_DIR "/%s", p->ctx->root, cache);
        bool cached = access(cache_path, F_OK) == 0;
        _cleanup_free_ char *arch_list = xstrdup(seccomp_arch_name(seccomp_arch_native()));
        for (size_t i = 0; i < sc->n_arches; i++) {
                if (sc->arches[i] == seccomp_arch_native())
                        continue;
                char *t = xasprintf("%s %s", arch_list, seccomp_arch_name(sc->arches[i]));
                free(arch_list);
                arch_list = t;
        }
        json_t *o =
                step(p, "seccomp",
                     "seccomp: default %s, %zu rules over %zu syscall names (%zu unknown to libseccomp, "
                     "skipped), %zu BPF instructions for %s; cache `%s` %s; loaded %s",
                     seccomp_action_name(sc->default_action), sc->n_rules, names, unknown, copy.prog_len,
                     arch_list, cache_path, cached ? "present (used)" : "absent (written at create)",
                     sc->notify ? "before `ready`, its listener sent to listenerPath"
                     : seccomp_early(&p->s->process)
                             ? "before the user and capability changes (no no_new_privs, no CAP_SYS_ADMIN)"
                             : "last, right before execve");
        set_str(o, "defaultAction", seccomp_action_name(sc->default_action));
        json_t *arches = json_array();
        for (size_t i = 0; i < sc->n_arches; i++)
                json_array_append_new(arches, json_string(seccomp_arch_name(sc->arches[i])));
        json_object_set_new(o, "architectures", arches);
        json_t *flags = json_array();
        for (unsigned bit = 1; bit; bit <<= 1)
                if (sc->flags & bit)
                        json_array_append_new(flags, json_string(seccomp_flag_name(bit)));
        json_object_set_new(o, "flags", flags);
        json_object_set_new(o, "rules", json_integer((json_int_t)sc->n_rules));
        json_object_set_new(o, "unknownNames", json_integer((json_int_t)unknown));
        json_object_set_new(o, "instructions", json_integer((json_int_t)copy.prog_len));
        set_str(o, "cacheKey", cache);
        json_object_set_new(o, "cached", json_boolean(cached));
        set_str(o, "listenerPath", sc->listener_path);
        return 0;
}

static void plan_user(struct plan *p)
{
        const struct spec_process *pr = &p->s->process;
        json_t *gids = json_array();
        for (size_t i = 0; i < pr->user.n_additional_gids; i++)
                json_array_append_new(gids, json_integer(pr->user.additional_gids[i]));
        json_t *o = step(p, "user", "user %u, group %u, %zu additional groups, umask %04o",
                         (unsigned)pr->user.uid, (unsigned)pr->user.gid, pr->user.n_additional_gids,
                         pr->user.has_umask ? (unsigned)pr->user.umask : 022u);
        json_object_set_new(o, "uid", json_integer(pr->user.uid));
        json_object_set_new(o, "gid", json_integer(pr->user.gid));
        json_object_set_new(o, "additionalGids", gids);
}

static int plan_process(struct plan *p, berth_error **err)
{
        const struct spec *s = p->s;
        const struct berth_create_options *c = &p->o->create;
        p->phase = "process";
        if (s->process.terminal)
                step(p, "terminal",
                     "a terminal from the container's devpts, on /dev/console and fds 0-2; the master %s",
                     c->console_socket ? "goes to the console socket"
                                       : "is proxied by berth in the foreground");
        step(p, "cwd", "chdir %s (resolved inside the container)", s->process.cwd);
        plan_user(p);
        plan_caps(p);
        if (s->process.no_new_privileges)
                step(p, "nnp", "set no_new_privs");
        if (s->process.apparmor_profile)
                step(p, "lsm", "AppArmor profile `%s` on execve", s->process.apparmor_profile);
        if (s->process.selinux_label)
                step(p, "lsm", "SELinux label `%s` on execve", s->process.selinux_label);
        if (plan_seccomp(p, err) < 0)
                return -1;
        int keep = c->listen_fds + c->preserve_fds;
        step(p, "fds", "close every fd but 0-2%s", keep ? " and the preserved ones" : "");
        json_t *o = step(p, "exec", "execve %s (%zu arguments, %zu environment variables)",
                         s->process.args[0], strv_len(s->process.args), strv_len(s->process.env));
        json_object_set_new(o, "args", jstrv(s->process.args));
        json_object_set_new(o, "env", jstrv(s->process.env));
        return 0;
}

static void plan_lifecycle(struct plan *p)
{
        p->phase = "lifecycle";
        if (!p->run)
                step(p, "wait", "write state.json%s and exit; the init waits until `berth start %s`",
                     p->o->create.pid_file ? " and the pid file" : "", p->id);
        plan_hooks(p, HOOK_START_CONTAINER, "by the init at start, before it executes the program");
        plan_hooks(p, HOOK_POSTSTART, "once the program runs (a failure is a warning)");
        if (p->run && !p->o->detach)
                step(p, "wait", "wait for it, relay signals, exit with its status%s",
                     p->o->keep ? " (kept: --keep)" : "; then delete it");
        plan_hooks(p, HOOK_POSTSTOP, "at delete (a failure is a warning)");
}

/* ---- the whole ----------------------------------------------------------------------------------- */

static int plan_build(struct plan *p, berth_error **err)
{
        struct net_launch net;
        net_launch_init(&net);
        int r = plan_checks(p, &net, err);
        if (r == 0) {
                plan_state(p);
                r = plan_cgroups(p, err);
        }
        if (r == 0) {
                plan_namespaces(p, &net);
                plan_network(p, net.cfg);
                plan_init(p);
                plan_rootfs(p);
                r = plan_process(p, err);
        }
        if (r == 0)
                plan_lifecycle(p);
        net_launch_close(&net);
        return r;
}

/* One line per step, under a heading for each phase. */
static char *plan_text(const json_t *doc)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (!f)
                abort();
        fprintf(f, "plan of `berth %s %s` (bundle %s); nothing was done\n",
                json_string_value(json_object_get(doc, "command")),
                json_string_value(json_object_get(doc, "id")),
                json_string_value(json_object_get(doc, "bundle")));
        const char *phase = "";
        size_t i;
        json_t *st;
        json_array_foreach(json_object_get(doc, "steps"), i, st)
        {
                const char *ph = json_string_value(json_object_get(st, "phase"));
                if (strcmp(ph, phase) != 0)
                        fprintf(f, "%s:\n", ph);
                fprintf(f, "  %s\n", json_string_value(json_object_get(st, "text")));
                phase = ph;
        }
        if (fclose(f) != 0)
                abort();
        return out;
}

char *berth_plan(berth_context *ctx, const char *id, const berth_bundle *bundle, enum berth_plan_command cmd,
                 const struct berth_run_options *opts, enum berth_format format, berth_error **err)
{
        static const struct berth_run_options none;
        struct plan p = {
                .ctx = ctx,
                .id = id,
                .s = bundle->spec,
                .o = opts ? opts : &none,
                .run = cmd == BERTH_PLAN_RUN,
                .steps = json_array(),
                .userns = bundle->spec->namespaces[NS_USER].present,
        };
        json_t *doc = NULL;
        if (plan_build(&p, err) < 0) {
                error_wrap(err, "container `%s`", id);
        } else {
                doc = json_object();
                json_object_set_new(doc, "id", jstr(id));
                json_object_set_new(doc, "command", json_string(p.run ? "run" : "create"));
                json_object_set_new(doc, "bundle", jstr(p.s->bundle));
                json_object_set_new(doc, "rootfs", jstr(p.s->root_path));
                json_object_set_new(doc, "root", jstr(ctx->root));
                json_object_set_new(doc, "steps", json_incref(p.steps));
        }
        json_decref(p.steps);
        cgroup_forecast_clear(&p.cg);
        if (!doc)
                return NULL;
        char *text = format == BERTH_FORMAT_TEXT ? plan_text(doc)
                                                 : json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(doc);
        if (!text)
                abort();
        return text;
}
