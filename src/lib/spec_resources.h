/* linux.resources as typed structs (included by spec.h).
 *
 * Go-based engines write zero for what they leave unset (Docker's `update`
 * sends {"cpu":{"shares":0,...}}), and runc reads those zeros as "unset";
 * so do we: such a value has `set` false.  Values where zero is a real
 * request (swappiness, cpu.burst, cpu.idle) are set whenever present. */
#ifndef BERTH_SPEC_RESOURCES_H
#define BERTH_SPEC_RESOURCES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "utils.h"

struct res_i64 {
        bool set;
        int64_t v;
};

struct res_u64 {
        bool set;
        uint64_t v;
};

struct res_memory {
        struct res_i64 limit, reservation, swap, kernel, kernel_tcp; /* bytes, -1 = unlimited */
        struct res_u64 swappiness;                                   /* 0..100 */
        bool disable_oom_killer;
        bool use_hierarchy;
        bool check_before_update;
};

struct res_cpu {
        struct res_u64 shares, period, burst, realtime_period;
        struct res_i64 quota, realtime_runtime, idle;
        char *cpus, *mems; /* NULL when unset */
};

struct res_weight_device {
        int64_t major, minor;
        struct res_u64 weight, leaf_weight;
};

struct res_throttle_device {
        int64_t major, minor;
        uint64_t rate;
};

enum res_throttle {
        RES_THROTTLE_READ_BPS,
        RES_THROTTLE_WRITE_BPS,
        RES_THROTTLE_READ_IOPS,
        RES_THROTTLE_WRITE_IOPS,
        RES_THROTTLE_COUNT
};

struct res_blkio {
        struct res_u64 weight, leaf_weight; /* 10..1000 */
        struct res_weight_device *weight_devices;
        size_t n_weight_devices;
        struct res_throttle_device *throttle[RES_THROTTLE_COUNT];
        size_t n_throttle[RES_THROTTLE_COUNT];
};

struct res_hugepage {
        char *page_size; /* "2MB", as the cgroup file names it */
        uint64_t limit;
};

struct res_net_prio {
        char *name;
        uint32_t priority;
};

struct res_rdma {
        char *device;
        struct res_u64 hca_handles, hca_objects;
};

/* One rule of the allowed-device list; -1 major/minor means any. */
struct res_device_rule {
        bool allow;
        char type; /* 'a', 'c', 'b' */
        int64_t major, minor;
        char access[4]; /* a subset of "rwm" */
};

struct res_resources {
        struct res_memory memory;
        struct res_cpu cpu;
        struct res_i64 pids_limit; /* -1 = unlimited */
        struct res_blkio blkio;
        struct res_hugepage *hugepages;
        size_t n_hugepages;
        struct res_u64 net_class_id;
        struct res_net_prio *net_prios;
        size_t n_net_prios;
        struct res_rdma *rdma;
        size_t n_rdma;
        bool has_devices; /* linux.resources.devices given (even empty) */
        struct res_device_rule *devices;
        size_t n_devices;
        char **unified; /* key, value, ..., NULL; NULL when none */
};

/* Fill `out` from a linux.resources object `v` (NULL: nothing requested);
 * `path` names it in errors ("linux.resources").  On error `out` may be
 * partly filled: clear it with res_clear() either way. */
int res_parse(json_t *v, const char *path, struct res_resources *out, berth_error **err);
/* Parse JSON text (a LinuxResources object, as `update --resources` reads it). */
int res_parse_text(const char *text, const char *name, struct res_resources *out, berth_error **err);
void res_clear(struct res_resources *r);

/* cpu shares (2..262144) to cgroup v2 cpu.weight (1..10000), as runc ≥ 1.3.2
 * and crun do it: 2 → 1, 1024 → 100 (both defaults), 262144 → 10000. */
uint64_t res_cpu_shares_to_weight(uint64_t shares);
/* blkio.weight (10..1000) to cgroup v2 io.weight (1..10000), runc's linear map. */
uint64_t res_blkio_weight_to_io_weight(uint64_t weight);
/* OCI memory.swap is memory+swap; cgroup v2 limits swap alone.  `limit` is
 * the memory limit in force (-1 unlimited, 0 unknown).  Returns 0 with *out
 * (-1 = max), or -1 with *err naming `path`. */
int res_swap_to_v2(int64_t swap, int64_t limit, const char *path, int64_t *out, berth_error **err);

#endif
