/* Inside the cgroup modules: one backend per cgroup version, each a table
 * of resource writers, freezer, stats readers and OOM watchers over one
 * directory.  cgroup_resources.c picks, per controller, the hierarchy that
 * holds it (that is all "hybrid" means) and calls that hierarchy's backend;
 * nothing else looks at the version. */
#ifndef BERTH_CGROUP_BACKEND_H
#define BERTH_CGROUP_BACKEND_H

#include <jansson.h>
#include <stdint.h>

#include "cgroups.h"
#include "spec_resources.h"

/* Plan mode (create --dry-run, check): what the writers would do is handed
 * to these instead of being done, and `dir` then names an existing directory
 * standing in for the container's, where the writers read what they read. */
struct cg_target;
struct cg_plan {
        int (*write)(void *data, const struct cg_target *t, const char *field, const char *file,
                     const char *value, berth_error **err);
        /* the cgroup2 device filter: `insns` instructions built from `n` rules */
        int (*attach_bpf)(void *data, const struct cg_target *t, const void *insns, size_t count, size_t n,
                          berth_error **err);
        void *data;
};

/* Where one group of resources is written, and how errors name it. */
struct cg_target {
        const char *dir;        /* the container's directory on the host */
        const char *controller; /* as messages name it: "memory", "blkio", "io" */
        const char *prefix;     /* the field path of the resources object: "linux.resources" */
        const struct cg_plan *plan; /* NULL: write for real */
};

/* Write `value` to `file` in t->dir.  On failure the error names the field
 * (`<prefix>.<field>`); a missing file becomes "the <controller> controller
 * has no `<file>` on this host". */
int cg_write(const struct cg_target *t, const char *field, const char *file, const char *value,
             berth_error **err);
/* cg_write through *fd, opened at the first call (*fd < 0) and kept for the
 * next writes to the same file, each one record; the caller closes it. */
int cg_write_fd(const struct cg_target *t, int *fd, const char *field, const char *file, const char *value,
                berth_error **err);
int cg_writef(const struct cg_target *t, const char *field, const char *file, berth_error **err,
              const char *fmt, ...) PRINTF(5, 6);
/* An error about `field` that is not a failed write: "<prefix>.<field>: <fmt>". */
int cg_fail(berth_error **err, const struct cg_target *t, const char *field, int errnum, const char *fmt, ...)
        PRINTF(5, 6);

bool cg_exists(const char *dir, const char *file);
/* Huge page limits, the same on both versions but for the file names:
 * hugetlb.<size>.<limit> and, where the kernel has it, hugetlb.<size>.rsvd.<limit>. */
int cg_hugetlb(const struct cg_target *t, const struct res_hugepage *h, size_t n, const char *limit,
               berth_error **err);
/* The file's text (NUL-terminated), or NULL with errno set. */
char *cg_read(const char *dir, const char *file);
/* A file holding one number; "max" reads as UINT64_MAX.  0 or -errno. */
int cg_read_u64(const char *dir, const char *file, uint64_t *out);
/* The value of `key` in "key value" lines (memory.stat, cpu.stat, memory.events). */
bool cg_keyed(const char *text, const char *key, uint64_t *out);

/* JSON for stats: runc's field names, Go's omitempty (zero left out). */
void cg_json_u64(json_t *o, const char *key, uint64_t v);
void cg_json_u64_omit(json_t *o, const char *key, uint64_t v);
json_t *cg_json_obj(json_t *parent, const char *key); /* the member object, made when missing */

/* What both versions write and read alike. */
int cg_pids_write(const struct cg_target *t, int64_t limit, berth_error **err);
int cg_rdma_write(const struct cg_target *t, const struct res_rdma *r, size_t n, berth_error **err);
void cg_pids_stats(const char *dir, json_t *pids);
/* A cpuset list ("0-2,5") as a JSON array of numbers ([0,1,2,5]). */
json_t *cg_cpu_list_json(const char *text);
/* Every "key value" line of a stat file as a JSON object. */
json_t *cg_raw_stats(const char *text);

struct cgroup_backend {
        const char *name;
        int (*memory)(const struct cg_target *t, const struct res_memory *m, bool update, berth_error **err);
        int (*cpu)(const struct cg_target *t, const struct res_cpu *c, berth_error **err);
        int (*cpuset)(const struct cg_target *t, const struct res_cpu *c, berth_error **err);
        int (*pids)(const struct cg_target *t, int64_t limit, berth_error **err);
        int (*blkio)(const struct cg_target *t, const struct res_blkio *b, berth_error **err);
        int (*hugetlb)(const struct cg_target *t, const struct res_hugepage *h, size_t n, berth_error **err);
        int (*net_cls)(const struct cg_target *t, uint32_t class_id, berth_error **err);
        int (*net_prio)(const struct cg_target *t, const struct res_net_prio *p, size_t n, berth_error **err);
        int (*rdma)(const struct cg_target *t, const struct res_rdma *r, size_t n, berth_error **err);
        int (*devices)(const struct cg_target *t, const struct res_device_rule *r, size_t n,
                       berth_error **err);
        int (*freeze)(const char *dir, bool frozen, berth_error **err);
        bool (*frozen)(const char *dir);
        /* stats, into runc's `events --stats` objects */
        void (*stats_cpu)(const char *dir, json_t *cpu);        /* usage (cpuacct on v1) */
        void (*stats_throttling)(const char *dir, json_t *cpu); /* cpu.stat */
        void (*stats_cpuset)(const char *dir, json_t *cpuset);
        void (*stats_memory)(const char *dir, json_t *memory);
        void (*stats_pids)(const char *dir, json_t *pids);
        void (*stats_blkio)(const char *dir, json_t *blkio);
        /* One page size's hugetlb stats into `h`; the sizes are those with a
         * hugetlb.<size>.<hugetlb_limit> file. */
        void (*stats_hugetlb_size)(const char *dir, const char *size, json_t *h);
        const char *hugetlb_limit;
        /* OOM: the kill counter and (v2) the OOM counter, and a pollable fd
         * that fires on an OOM */
        int (*oom_counts)(const char *dir, uint64_t *kills, uint64_t *ooms);
        int (*oom_watch)(const char *dir, int *fd, int *aux_fd, berth_error **err);
};

extern const struct cgroup_backend cgroup_v1_backend, cgroup_v2_backend;

/* v2 only: turn on in `dir`'s cgroup.subtree_control every controller its
 * cgroup.controllers offers (best effort: a busy or foreign cgroup may refuse). */
void cg_v2_enable_controllers(const char *dir);

/* The cgroup2 device filter: an eBPF program built from `rules` (the
 * allowed-device list, applied in order as the v1 devices controller
 * would), attached to `dir`.  cg_bpf_build is the pure half, exposed for
 * unit tests: it returns the instructions (struct bpf_insn) and their count. */
void *cg_bpf_build(const struct res_device_rule *rules, size_t n, size_t *count);
int cg_bpf_attach(const struct cg_target *t, const struct res_device_rule *rules, size_t n,
                  berth_error **err);

#endif
