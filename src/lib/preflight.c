/* berth check: a preflight of a bundle against this host, creating nothing.
 * Each item names the part of config.json it is about with a JSON pointer
 * (`/mounts/3/source`) and says ok, warning (create goes on: the kernel may
 * load a module, a mount may bring the file) or error (create would fail for
 * that reason).  The cgroup items come from the resource writers run in plan
 * mode (cgroup_backend.h), so they name exactly the files create would write. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/nsfs.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include "container.h"
#include "control.h"
#include "hooks.h"
#include "lsm.h"
#include "net.h"
#include "plan.h"
#include "process.h"
#include "rootfs.h"
#include "seccomp_filter.h"
#include "syscalls.h"
#include "sysctl.h"

enum level { L_OK, L_WARNING, L_ERROR };

struct check {
        berth_context *ctx;
        size_t device_rules; /* of the allowed-device list, counted as the writers go */
        char *device_dir;
        const struct spec *s;
        json_t *doc; /* config.json as written, for the indexes of pointers */
        json_t *items;
        size_t errors, warnings;
        struct cgroup_forecast cg;
        bool userns;
};

static json_t *jstr(const char *s)
{
        json_t *j = s ? json_string(s) : NULL;
        return j ? j : json_string("(not UTF-8)");
}

PRINTF(4, 5)
static void item(struct check *c, enum level lv, const char *pointer, const char *fmt, ...)
{
        static const char *const names[] = {"ok", "warning", "error"};
        va_list ap;
        char *msg;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        json_t *o = json_object();
        json_object_set_new(o, "pointer", pointer ? jstr(pointer) : json_null());
        json_object_set_new(o, "level", json_string(names[lv]));
        json_object_set_new(o, "message", jstr(msg));
        json_array_append_new(c->items, o);
        free(msg);
        c->errors += lv == L_ERROR;
        c->warnings += lv == L_WARNING;
}

/* ---- JSON pointers ----------------------------------------------------------------- */

/* A field path as berth's messages write it (`linux.seccomp.syscalls[3].action`,
 * `linux.resources.unified.memory.max`, `berth.net.mtu`) as a JSON pointer. */
char *preflight_pointer(const char *field)
{
        if (str_has_prefix(field, "berth.") || str_has_prefix(field, "annotations."))
                return xasprintf("/annotations/%s", str_has_prefix(field, "annotations.")
                                                            ? field + strlen("annotations.")
                                                            : field);
        char *out = xmalloc(2 * strlen(field) + 2), *w = out;
        *w++ = '/';
        for (const char *p = field; *p; p++) {
                if (str_has_prefix(p, "unified.") && (p == field || p[-1] == '.')) {
                        w = stpcpy(w, "unified/");
                        w = stpcpy(w, p + strlen("unified."));
                        break;
                }
                if (*p == '.' || *p == '[')
                        *w++ = '/';
                else if (*p == '~')
                        w = stpcpy(w, "~0");
                else if (*p != ']')
                        *w++ = *p;
        }
        *w = '\0';
        return out;
}

/* The field path a message starts with (`mounts[2].options: …`), as a
 * pointer; "" (the whole document) when it starts with something else. */
char *preflight_pointer_of_message(const char *msg)
{
        size_t n = strcspn(msg, ": `");
        if (n == 0 || msg[n] != ':' ||
            strspn(msg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._[]-") < n)
                return xstrdup("");
        _cleanup_free_ char *field = xstrndup(msg, n);
        return preflight_pointer(field);
}

static void item_error(struct check *c, enum level lv, const berth_error *e)
{
        _cleanup_free_ char *text = error_text(e);
        _cleanup_free_ char *ptr = preflight_pointer_of_message(e->msg);
        /* The pointer says which field: the message goes on from there. */
        const char *rest = *ptr ? text + strcspn(text, ":") + 1 : text;
        item(c, lv, ptr, "%s", rest + strspn(rest, " "));
}

/* The index of the entry of array `arr` whose `key` is `value`, or -1. */
static ssize_t index_of(json_t *arr, const char *key, const char *value)
{
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
                const char *s = json_string_value(json_object_get(v, key));
                if (s && strcmp(s, value) == 0)
                        return (ssize_t)i;
        }
        return -1;
}

/* ---- namespaces ---------------------------------------------------------------------- */

static long read_long(const char *path)
{
        _cleanup_free_ char *t = read_file_at(AT_FDCWD, path, NULL);
        return t ? strtol(t, NULL, 10) : -1;
}

static void check_ns_path(struct check *c, enum ns_type t, const char *ptr)
{
        const char *path = c->s->namespaces[t].path;
        _cleanup_free_ char *p = xasprintf("%s/path", ptr);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        int type = fd < 0 ? -1 : ioctl(fd, NS_GET_NSTYPE);
        if (fd < 0)
                item(c, L_ERROR, p, "`%s`: %s", path, strerror(errno));
        else if (type < 0)
                item(c, L_ERROR, p, "`%s`: not a namespace", path);
        else if (type != ns_clone_flag(t))
                item(c, L_ERROR, p, "`%s`: a namespace of another kind", path);
        else
                item(c, L_OK, p, "`%s`: a %s namespace to join", path, ns_spec_name(t));
}

static void check_userns(struct check *c, const char *ptr)
{
        long max = read_long("/proc/sys/user/max_user_namespaces");
        if (max == 0)
                item(c, L_ERROR, ptr, "user namespaces are disabled (user.max_user_namespaces is 0)");
        else if (geteuid() != 0 && read_long("/proc/sys/kernel/unprivileged_userns_clone") == 0)
                item(c, L_ERROR, ptr,
                     "this host does not let a non-root user create user namespaces "
                     "(kernel.unprivileged_userns_clone is 0)");
}

static void check_namespaces(struct check *c)
{
        json_t *arr = json_object_get(json_object_get(c->doc, "linux"), "namespaces");
        if (!c->s->namespaces[NS_MNT].present)
                item(c, L_ERROR, "/linux/namespaces", "a mount namespace is required");
        /* Without one, the kernel refuses a non-root caller every other namespace. */
        if (geteuid() != 0 && !c->s->namespaces[NS_USER].present)
                item(c, L_ERROR, "/linux/namespaces", "a non-root caller needs a user namespace (rootless)");
        for (int t = 0; t < NS_COUNT; t++) {
                if (!c->s->namespaces[t].present)
                        continue;
                ssize_t i = index_of(arr, "type", ns_spec_name(t));
                _cleanup_free_ char *ptr = xasprintf("/linux/namespaces/%zd", i);
                _cleanup_free_ char *own = xasprintf("/proc/self/ns/%s", ns_proc_name(t));
                if (access(own, F_OK) < 0) {
                        item(c, L_ERROR, ptr, "this kernel has no %s namespaces (no `%s`)", ns_spec_name(t),
                             own);
                        continue;
                }
                if (c->s->namespaces[t].path) {
                        check_ns_path(c, t, ptr);
                        continue;
                }
                if (t == NS_USER)
                        check_userns(c, ptr);
                item(c, L_OK, ptr, "%s namespaces: supported", ns_spec_name(t));
        }
        berth_error *e = NULL;
        if (sysctl_check_host(c->s, &e) < 0) {
                item_error(c, L_ERROR, e);
                berth_error_free(e);
        }
}

/* ---- cgroups ------------------------------------------------------------------------------ */

/* Create reads a kernel memory limit back; with nothing written, the
 * kernel's version says it (5.16 dropped them). */
static bool kernel_at_least(int major, int minor)
{
        struct utsname u;
        int ma = 0, mi = 0;
        return uname(&u) == 0 && sscanf(u.release, "%d.%d", &ma, &mi) == 2 &&
               (ma > major || (ma == major && mi >= minor));
}

static int cg_probe_write(void *data, const struct cg_target *t, const char *field, const char *file,
                          const char *value, berth_error **err)
{
        (void)err;
        struct check *c = data;
        _cleanup_free_ char *name = xasprintf("%s.%s", t->prefix ? t->prefix : "", field ? field : "");
        _cleanup_free_ char *ptr = preflight_pointer(name);
        const char *dir = cgroup_forecast_real(&c->cg, t->dir);
        bool device = field && str_has_prefix(field, "devices[");
        if (!cgroup_forecast_has(&c->cg, t->dir, file))
                item(c, L_ERROR, device ? "/linux/resources/devices" : ptr,
                     "the %s controller has no `%s` on this host", t->controller, file);
        else if (strcmp(file, "memory.kmem.limit_in_bytes") == 0 && strcmp(value, "-1") != 0 &&
                 kernel_at_least(5, 16))
                item(c, L_ERROR, ptr, "this kernel ignores `%s` (kernel memory limits are gone)", file);
        else if (device && c->device_rules++ == 0)
                c->device_dir = xstrdup(dir);
        else if (!device)
                item(c, L_OK, ptr, "%s: `%s` would be written to %s/%s", t->controller, value, dir, file);
        return 0;
}

/* The kernel's verifier takes the device filter: load it, and drop it. */
static int cg_probe_bpf(void *data, const struct cg_target *t, const void *insns, size_t count, size_t n,
                        berth_error **err)
{
        (void)err;
        (void)t;
        struct check *c = data;
        union bpf_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)insns;
        attr.insn_cnt = (uint32_t)count;
        attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
        _cleanup_close_ int prog = (int)sys_bpf(BPF_PROG_LOAD, &attr, sizeof attr);
        if (prog < 0)
                item(c, L_ERROR, "/linux/resources/devices", "the kernel refuses a cgroup2 device filter: %s",
                     strerror(errno));
        else
                item(c, L_OK, "/linux/resources/devices",
                     "cgroup2 device filter of %zu rules: the kernel loads it", n);
        return 0;
}

static const char *layout(const struct cgroup *cg)
{
        size_t v2 = 0;
        for (size_t i = 0; i < cg->n; i++)
                v2 += cg->dirs[i].v2;
        return v2 == cg->n ? "cgroup v2 (unified)" : v2 == 0 ? "cgroup v1" : "hybrid (cgroup v1 and cgroup2)";
}

/* "cpu,cpuacct, memory, cgroup2 at /sys/fs/cgroup/unified" */
static char *hierarchies(const struct cgroup *cg)
{
        char *out = NULL;
        for (size_t i = 0; i < cg->n; i++) {
                const struct cgroup_dir *d = &cg->dirs[i];
                char *t = d->v2 ? xasprintf("%s%scgroup2 at %s", out ? out : "", out ? ", " : "", d->mount)
                                : xasprintf("%s%s%s", out ? out : "", out ? ", " : "", d->controllers);
                free(out);
                out = t;
        }
        return out ? out : xstrdup("none");
}

/* Each group of linux.resources on its own, so that every problem is named. */
static void check_resource_groups(struct check *c, const struct cgroup *cg, const struct cg_plan *plan)
{
        const struct res_resources *r = &c->s->resources;
        struct res_resources parts[10];
        memset(parts, 0, sizeof parts);
        parts[0].memory = r->memory;
        parts[1].cpu = r->cpu;
        parts[1].cpu.cpus = parts[1].cpu.mems = NULL;
        parts[2].cpu.cpus = r->cpu.cpus;
        parts[2].cpu.mems = r->cpu.mems;
        parts[3].pids_limit = r->pids_limit;
        parts[4].blkio = r->blkio;
        parts[5].hugepages = r->hugepages, parts[5].n_hugepages = r->n_hugepages;
        parts[6].net_class_id = r->net_class_id;
        parts[7].net_prios = r->net_prios, parts[7].n_net_prios = r->n_net_prios;
        parts[8].rdma = r->rdma, parts[8].n_rdma = r->n_rdma;
        parts[9].unified = r->unified;
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                berth_error *e = NULL;
                if (cgroup_plan_set(cg, &parts[i], plan, &e) < 0) {
                        item_error(c, L_ERROR, e);
                        berth_error_free(e);
                }
        }
        berth_error *e = NULL;
        if (control_plan_devices(c->s, cg, plan, &e) < 0) {
                item_error(c, L_ERROR, e);
                berth_error_free(e);
        }
        if (c->device_rules)
                item(c, L_OK, "/linux/resources/devices",
                     "devices: the %zu rules of the allowed-device list (these, "
                     "then the devices every container gets and linux.devices) would go to %s/devices.allow "
                     "and "
                     "devices.deny",
                     c->device_rules, c->device_dir);
        free(c->device_dir);
        c->device_dir = NULL;
}

static void check_cgroups(struct check *c)
{
        const char *ptr = c->s->cgroups_path ? "/linux/cgroupsPath" : "/linux/resources";
        berth_error *e = NULL;
        if (cgroup_forecast_make("berth-check", c->s->cgroups_path, &c->cg, &e) < 0) {
                item(c, L_ERROR, ptr, "%s", e->msg);
                berth_error_free(e);
                return;
        }
        _cleanup_free_ char *names = hierarchies(c->cg.real);
        item(c, L_OK, ptr, "cgroup layout: %s; hierarchies %s", layout(c->cg.real), names);
        struct cg_plan plan = {.write = cg_probe_write, .attach_bpf = cg_probe_bpf, .data = c};
        if (c->cg.usable) {
                check_resource_groups(c, c->cg.probe, &plan);
                return;
        }
        struct cgroup none = {0};
        item(c, L_WARNING, ptr,
             "uid %u may not create cgroups here: the container would run in the caller's own "
             "cgroup, without limits",
             (unsigned)geteuid());
        check_resource_groups(c, &none, &plan);
}

/* ---- security ------------------------------------------------------------------------------ */

static void check_lsm(struct check *c)
{
        const struct spec_process *p = &c->s->process;
        if (p->apparmor_profile)
                item(c, lsm_apparmor_enabled("") ? L_OK : L_ERROR, "/process/apparmorProfile",
                     "`%s`: AppArmor %s", p->apparmor_profile,
                     lsm_apparmor_enabled("") ? "is enabled" : "is not enabled on this host");
        if (p->selinux_label)
                item(c, lsm_selinux_enabled("") ? L_OK : L_ERROR, "/process/selinuxLabel", "`%s`: SELinux %s",
                     p->selinux_label,
                     lsm_selinux_enabled("") ? "is enabled" : "is not enabled on this host");
        if (c->s->mount_label)
                item(c, lsm_selinux_enabled("") ? L_OK : L_ERROR, "/linux/mountLabel", "`%s`: SELinux %s",
                     c->s->mount_label,
                     lsm_selinux_enabled("") ? "is enabled" : "is not enabled on this host");
}

static long sys_seccomp(unsigned op, unsigned flags, void *args)
{
        return syscall(SYS_seccomp, op, flags, args);
}

static void check_seccomp_actions(struct check *c, const struct spec_seccomp *sc)
{
        uint32_t action = sc->default_action & SECCOMP_RET_ACTION_FULL;
        if (sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0)
                item(c, L_ERROR, "/linux/seccomp/defaultAction", "%s: not supported by this kernel",
                     seccomp_action_name(sc->default_action));
        for (size_t i = 0; i < sc->n_rules; i++) {
                uint32_t a = sc->rules[i].action & SECCOMP_RET_ACTION_FULL;
                _cleanup_free_ char *ptr = xasprintf("/linux/seccomp/syscalls/%zu/action", i);
                if (sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &a) < 0)
                        item(c, L_ERROR, ptr, "%s: not supported by this kernel",
                             seccomp_action_name(sc->rules[i].action));
        }
        /* The kernel checks the flags before it reads the program: EFAULT
         * for the NULL program means it knows them. */
        for (unsigned bit = 1; bit; bit <<= 1) {
                if (!(sc->flags & bit))
                        continue;
                bool known = sys_seccomp(SECCOMP_SET_MODE_FILTER, bit, NULL) < 0 && errno == EFAULT;
                item(c, known ? L_OK : L_ERROR, "/linux/seccomp/flags", "%s: %s", seccomp_flag_name(bit),
                     known ? "supported by this kernel" : "not supported by this kernel");
        }
}

static void check_seccomp(struct check *c)
{
        const struct spec_seccomp *sc = c->s->seccomp;
        if (!sc)
                return;
        if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
                item(c, L_ERROR, "/linux/seccomp", "this kernel has no seccomp");
                return;
        }
        struct spec_seccomp copy = *sc;
        copy.prog = NULL;
        size_t unknown = 0;
        berth_error *e = NULL;
        if (seccomp_filter_compile(&copy, &unknown, &e) < 0) {
                item_error(c, L_ERROR, e);
                berth_error_free(e);
        } else {
                item(c, L_OK, "/linux/seccomp",
                     "the filter compiles: %zu BPF instructions, %zu syscall names "
                     "unknown to libseccomp (skipped)",
                     copy.prog_len, unknown);
                for (size_t i = 0; i < sc->n_arches; i++) {
                        _cleanup_free_ char *ptr = xasprintf("/linux/seccomp/architectures/%zu", i);
                        item(c, L_OK, ptr, "%s: in the filter", seccomp_arch_name(sc->arches[i]));
                }
        }
        free(copy.prog);
        check_seccomp_actions(c, sc);
        struct stat st;
        if (sc->listener_path && (stat(sc->listener_path, &st) < 0 || !S_ISSOCK(st.st_mode)))
                item(c, L_ERROR, "/linux/seccomp/listenerPath", "`%s`: no socket there", sc->listener_path);
}

/* ---- mounts ---------------------------------------------------------------------------------- */

static bool is_bind(const struct spec_mount *m)
{
        return (m->flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0);
}

/* Whether /proc/filesystems lists `type`; *nodev: it needs no device. */
static bool fs_known(const char *type, bool *nodev)
{
        _cleanup_free_ char *t = read_file_at(AT_FDCWD, "/proc/filesystems", NULL);
        *nodev = true;
        for (char *save = NULL, *l = t ? strtok_r(t, "\n", &save) : NULL; l;
             l = strtok_r(NULL, "\n", &save)) {
                const char *name = l + strcspn(l, "\t");
                if (*name && strcmp(name + 1, type) == 0) {
                        *nodev = str_has_prefix(l, "nodev");
                        return true;
                }
        }
        return false;
}

static void check_bind(struct check *c, size_t i, const struct spec_mount *m)
{
        _cleanup_free_ char *ptr = xasprintf("/mounts/%zu/source", i);
        _cleanup_free_ char *src =
                m->source[0] == '/' ? xstrdup(m->source) : xasprintf("%s/%s", c->s->bundle, m->source);
        struct stat st;
        if (stat(src, &st) < 0) {
                item(c, L_ERROR, ptr, "`%s`: %s", src, errno == ENOENT ? "no such file" : strerror(errno));
                return;
        }
        item(c, L_OK, ptr, "`%s`: a %s to bind", src, S_ISDIR(st.st_mode) ? "directory" : "file");
        if (!m->idmap)
                return;
        _cleanup_free_ char *opt = xasprintf("/mounts/%zu/options", i);
        berth_error *e = NULL;
        if (geteuid() != 0)
                item(c, L_ERROR, opt, "`%s`: id-mapped mounts need root",
                     m->recursive_idmap ? "ridmap" : "idmap");
        else if (idmap_probe(c->s, i, &e) < 0)
                item(c, L_ERROR, opt, "%s", e->msg);
        else
                item(c, L_OK, opt, "`%s`: the kernel id-maps `%s`", m->recursive_idmap ? "ridmap" : "idmap",
                     src);
        berth_error_free(e);
}

/* The paths an overlay's data names must be there. */
static void check_overlay(struct check *c, size_t i, const char *data)
{
        _cleanup_free_ char *copy = xstrdup(data ? data : "");
        _cleanup_free_ char *ptr = xasprintf("/mounts/%zu/options", i);
        for (char *save = NULL, *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
                const char *v = NULL;
                static const char *const keys[] = {"lowerdir=", "upperdir=", "workdir="};
                for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
                        if (str_has_prefix(opt, keys[k]))
                                v = opt + strlen(keys[k]);
                _cleanup_free_ char *list = v ? xstrdup(v) : NULL;
                for (char *s2 = NULL, *p = list ? strtok_r(list, ":", &s2) : NULL; p;
                     p = strtok_r(NULL, ":", &s2))
                        if (p[0] == '/' && access(p, F_OK) < 0)
                                item(c, L_ERROR, ptr, "overlay: `%s`: no such directory", p);
        }
}

static void check_fs(struct check *c, size_t i, const struct spec_mount *m)
{
        _cleanup_free_ char *ptr = xasprintf("/mounts/%zu/type", i);
        bool nodev = true, own_ipc = c->s->namespaces[NS_IPC].present && !c->s->namespaces[NS_IPC].path;
        if (strcmp(m->type, "cgroup") == 0) {
                item(c, L_OK, ptr, "`cgroup`: the container's own cgroup (cgroup2, or the v1 layout)");
                return;
        }
        if (!fs_known(m->type, &nodev))
                item(c, L_WARNING, ptr,
                     "filesystem `%s` is not registered now (the kernel may load it on mount)", m->type);
        else
                item(c, L_OK, ptr, "`%s`: a filesystem of this kernel", m->type);
        if (strcmp(m->type, "overlay") == 0)
                check_overlay(c, i, m->data);
        if (!nodev && m->source && m->source[0] == '/' && access(m->source, F_OK) < 0) {
                _cleanup_free_ char *sp = xasprintf("/mounts/%zu/source", i);
                item(c, L_ERROR, sp, "`%s`: no such file", m->source);
        }
        if (c->userns && strcmp(m->type, "mqueue") == 0 && !own_ipc && access("/dev/mqueue", F_OK) < 0)
                item(c, L_ERROR, ptr,
                     "mqueue in a user namespace without an IPC namespace of its own is the "
                     "host's /dev/mqueue bound, and this host has none");
}

static void check_mounts(struct check *c)
{
        const struct spec *s = c->s;
        bool setattr = sys_mount_setattr(-1, "", 0, NULL) == 0 || errno != ENOSYS;
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct spec_mount *m = &s->mounts[i];
                if ((m->rec_attr_set || m->rec_attr_clear || m->idmap) && !setattr) {
                        _cleanup_free_ char *ptr = xasprintf("/mounts/%zu/options", i);
                        item(c, L_ERROR, ptr, "needs mount_setattr(2), which this kernel lacks");
                }
                if (m->flags & MS_REMOUNT)
                        continue;
                if (is_bind(m) && m->source)
                        check_bind(c, i, m);
                else if (!is_bind(m) && m->type)
                        check_fs(c, i, m);
        }
        if (!s->n_mounts)
                item(c, L_OK, "/mounts", "no mounts");
}

/* ---- devices, process, hooks ------------------------------------------------------------------ */

static void check_devices(struct check *c)
{
        for (size_t i = 0; i < c->s->n_devices; i++) {
                const struct spec_device *d = &c->s->devices[i];
                _cleanup_free_ char *ptr = xasprintf("/linux/devices/%zu", i);
                if (d->type == 'p')
                        continue;
                struct stat st;
                bool blk = d->type == 'b';
                if (c->userns) {
                        bool ok =
                                stat(d->path, &st) == 0 && (blk ? S_ISBLK(st.st_mode) : S_ISCHR(st.st_mode));
                        item(c, ok ? L_OK : L_ERROR, ptr, "%s: %s", d->path,
                             ok ? "the host's node is bound (no mknod in a user namespace)"
                                : "in a user namespace berth binds the host's node, and the host has none "
                                  "there");
                        continue;
                }
                _cleanup_free_ char *sys = xasprintf("/sys/dev/%s/%" PRId64 ":%" PRId64,
                                                     blk ? "block" : "char", d->major, d->minor);
                bool there = access(sys, F_OK) == 0;
                item(c, there ? L_OK : L_WARNING, ptr, "%s %" PRId64 ":%" PRId64 ": %s", d->path, d->major,
                     d->minor,
                     there ? "a device of this host"
                           : "no such device on this host (the node is made; opening it "
                             "fails)");
        }
}

static bool have_cap(int cap)
{
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[2];
        memset(d, 0, sizeof d);
        if (syscall(SYS_capget, &h, d) < 0)
                return false;
        return d[cap / 32].effective & (1u << (cap % 32));
}

/* Raising a hard limit needs CAP_SYS_RESOURCE in the host's user namespace. */
static void check_rlimits(struct check *c)
{
        const struct spec_process *p = &c->s->process;
        bool may_raise = have_cap(CAP_SYS_RESOURCE) && !c->userns;
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit now;
                _cleanup_free_ char *ptr = xasprintf("/process/rlimits/%zu", i);
                if (getrlimit(p->rlimits[i].resource, &now) < 0 || now.rlim_max == RLIM_INFINITY ||
                    p->rlimits[i].hard <= now.rlim_max || may_raise)
                        continue;
                item(c, L_ERROR, ptr,
                     "hard limit %" PRIu64 " is above this host's %" PRIu64
                     " and raising it needs CAP_SYS_RESOURCE, which berth does not have here",
                     p->rlimits[i].hard, (uint64_t)now.rlim_max);
        }
}

static void check_process(struct check *c)
{
        const struct spec_process *p = &c->s->process;
        process_probe();
        _cleanup_free_ char *unknown = process_caps_unknown(&p->caps);
        if (unknown)
                item(c, L_WARNING, "/process/capabilities", "%s not known to the running kernel: skipped",
                     unknown);
        check_rlimits(c);
        const char *arg0 = p->args[0];
        _cleanup_close_ int root = open(c->s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        bool found = false;
        if (root >= 0 && strchr(arg0, '/')) {
                _cleanup_close_ int fd = rootfs_open(root, arg0, 0);
                found = fd >= 0;
        } else if (root >= 0) {
                const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
                for (size_t i = 0; p->env && p->env[i]; i++)
                        if (str_has_prefix(p->env[i], "PATH="))
                                path = p->env[i] + 5;
                _cleanup_free_ char *dirs = xstrdup(path);
                for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d && !found;
                     d = strtok_r(NULL, ":", &save)) {
                        _cleanup_free_ char *cand = xasprintf("%s/%s", d, arg0);
                        _cleanup_close_ int fd = rootfs_open(root, cand, 0);
                        found = fd >= 0;
                }
        }
        item(c, found ? L_OK : L_WARNING, "/process/args/0", "`%s`: %s", arg0,
             found ? "in the rootfs" : "not in the rootfs (unless a mount brings it)");
}

static void check_hooks(struct check *c)
{
        const struct hooks *h = c->s->hooks;
        for (int k = 0; h && k < HOOK_KINDS; k++)
                for (size_t i = 0; i < h->n[k]; i++) {
                        const char *path = h->list[k][i].path;
                        _cleanup_free_ char *ptr = xasprintf("/hooks/%s/%zu/path", hook_kind_name(k), i);
                        if (k == HOOK_START_CONTAINER) {
                                /* Resolved inside the container: the image (or a mount) has it. */
                                _cleanup_close_ int root =
                                        open(c->s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
                                _cleanup_close_ int fd = root < 0 ? -1 : rootfs_open(root, path, 0);
                                item(c, fd >= 0 ? L_OK : L_WARNING, ptr, "`%s`: %s", path,
                                     fd >= 0 ? "in the rootfs"
                                             : "not in the rootfs (unless a mount brings it)");
                                continue;
                        }
                        bool ok = access(path, X_OK) == 0;
                        enum level lv = ok                                          ? L_OK
                                        : k == HOOK_POSTSTART || k == HOOK_POSTSTOP ? L_WARNING
                                                                                    : L_ERROR;
                        item(c, lv, ptr, "`%s`: %s", path, ok ? "an executable" : strerror(errno));
                }
}

static void check_sysctl(struct check *c)
{
        char **kv = c->s->sysctl;
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2) {
                _cleanup_free_ char *path = xasprintf("/proc/sys/%s", kv[i]);
                for (char *p = path + strlen("/proc/sys/"); *p; p++)
                        if (*p == '.')
                                *p = '/';
                _cleanup_free_ char *ptr = xasprintf("/linux/sysctl/%s", kv[i]);
                bool there = access(path, F_OK) == 0;
                item(c, there ? L_OK : L_ERROR, ptr, "%s",
                     there ? "a setting of this kernel"
                           : "no such setting in "
                             "this kernel");
        }
}

static void check_state_root(struct check *c)
{
        _cleanup_free_ char *p = xstrdup(c->ctx->root);
        while (access(p, F_OK) < 0 && strrchr(p, '/') && strrchr(p, '/') != p)
                *strrchr(p, '/') = '\0';
        bool ok = access(p, W_OK | X_OK) == 0;
        item(c, ok ? L_OK : L_ERROR, NULL, "state root `%s`: %s", c->ctx->root,
             ok ? "usable" : "cannot be written by this user");
}

static void check_network(struct check *c)
{
        struct net_launch net;
        net_launch_init(&net);
        berth_error *e = NULL;
        if (net_prepare(&net, c->ctx, c->s, &e) < 0) {
                item_error(c, L_ERROR, e);
                berth_error_free(e);
        } else if (net.cfg) {
                item(c, L_OK, "/annotations", "berth.net / berth.ipc settings: usable on this host");
        }
        net_launch_close(&net);
}

/* ---- the report ------------------------------------------------------------------------------ */

static void check_all(struct check *c)
{
        item(c, L_OK, "", "valid (ociVersion %s)", c->s->oci_version ? c->s->oci_version : "?");
        item(c, L_OK, "/root/path", "`%s`: a directory", c->s->root_path);
        check_state_root(c);
        check_namespaces(c);
        check_cgroups(c);
        check_lsm(c);
        check_seccomp(c);
        check_mounts(c);
        check_devices(c);
        check_process(c);
        check_hooks(c);
        check_sysctl(c);
        check_network(c);
}

static char *report_text(const json_t *doc)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (!f)
                abort();
        json_int_t errors = json_integer_value(json_object_get(doc, "errors"));
        json_int_t warnings = json_integer_value(json_object_get(doc, "warnings"));
        fprintf(f,
                "check of bundle %s: %" JSON_INTEGER_FORMAT " error%s, %" JSON_INTEGER_FORMAT
                " warning%s%s\n",
                json_string_value(json_object_get(doc, "bundle")), errors, errors == 1 ? "" : "s", warnings,
                warnings == 1 ? "" : "s", errors ? ": create would fail" : "");
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(doc, "items"), i, it)
        {
                const char *ptr = json_string_value(json_object_get(it, "pointer"));
                fprintf(f, "  %-8s %s: %s\n", json_string_value(json_object_get(it, "level")),
                        !ptr   ? "host"
                        : *ptr ? ptr
                               : "config.json",
                        json_string_value(json_object_get(it, "message")));
        }
        if (fclose(f) != 0)
                abort();
        return out;
}

char *berth_check(berth_context *ctx, const char *dir, enum berth_format format, bool *ok, berth_error **err)
{
        (void)err;
        struct check c = {.ctx = ctx, .items = json_array()};
        berth_error *e = NULL;
        struct spec *s = spec_load(dir, &e);
        if (!s) {
                /* The config itself: reported as such, by the field it names. */
                item_error(&c, L_ERROR, e);
                berth_error_free(e);
        } else {
                c.s = s;
                c.userns = s->namespaces[NS_USER].present;
                c.doc = json_loads(s->config_text, 0, NULL);
                check_all(&c);
        }
        _cleanup_free_ char *real = realpath(dir, NULL);
        json_t *doc = json_object();
        json_object_set_new(doc, "bundle", jstr(real ? real : dir));
        json_object_set_new(doc, "ok", json_boolean(c.errors == 0));
        json_object_set_new(doc, "errors", json_integer((json_int_t)c.errors));
        json_object_set_new(doc, "warnings", json_integer((json_int_t)c.warnings));
        json_object_set_new(doc, "items", c.items);
        *ok = c.errors == 0;
        char *text = format == BERTH_FORMAT_TEXT ? report_text(doc)
                                                 : json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(doc);
        json_decref(c.doc);
        cgroup_forecast_clear(&c.cg);
        spec_free(s);
        if (!text)
                abort();
        return text;
}
