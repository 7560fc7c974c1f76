/* The execution driver's network, a berth extension configured by the
 * `berth.net.*` and `berth.ipc.*` annotations (and the run/create options that
 * set them): a veth pair into an existing bridge with addresses, routes, MTU
 * and MAC, a bare network namespace with only `lo` up, or the network / IPC
 * namespace of another berth container.  Everything is done over rtnetlink
 * (libmnl); nothing runs `ip`. */
#ifndef BERTH_NET_H
#define BERTH_NET_H

#include <jansson.h>
#include <net/if.h>
#include <stdint.h>

#include "utils.h"

struct spec;

#define NET_ANN_MODE "berth.net.mode"
#define NET_ANN_BRIDGE "berth.net.bridge"
#define NET_ANN_ADDRESS "berth.net.address"
#define NET_ANN_GATEWAY "berth.net.gateway"
#define NET_ANN_ADDRESS6 "berth.net.address6"
#define NET_ANN_GATEWAY6 "berth.net.gateway6"
#define NET_ANN_MTU "berth.net.mtu"
#define NET_ANN_IFNAME "berth.net.ifname"
#define NET_ANN_MAC "berth.net.mac"
#define NET_ANN_CONTAINER "berth.net.container"
#define IPC_ANN_CONTAINER "berth.ipc.container"

enum net_mode {
        NET_MODE_UNSET, /* the spec's namespaces decide */
        NET_MODE_NONE,  /* a new network namespace with only `lo` up */
        NET_MODE_BRIDGE,
};

struct net_addr {
        int family; /* 0 when not given, else AF_INET / AF_INET6 */
        uint8_t bytes[16];
        unsigned prefix; /* addresses only */
};

/* What the annotations ask for; struct spec holds NULL when none is given. */
struct net_config {
        enum net_mode mode;
        char *bridge;
        char ifname[IFNAMSIZ]; /* default "eth0" */
        struct net_addr address, gateway, address6, gateway6;
        unsigned mtu; /* 0 = the kernel's default */
        bool has_mac;
        uint8_t mac[6];
        char *net_container, *ipc_container; /* ids whose namespaces to join */
};

/* Read and check every berth.net.* / berth.ipc.* annotation (`annotations`
 * is key, value, ..., NULL).  *out is NULL when there is none.  Errors name the
 * annotation: `annotations.berth.net.mtu: expected an integer between 68 and 65535, got `x``. */
int net_config_parse(char *const *annotations, struct net_config **out, berth_error **err);
void net_config_free(struct net_config *c);

/* What one create/run does with the network, from check to undo. */
struct net_launch {
        const struct net_config *cfg; /* NULL: nothing to do */
        int join_fd[2];               /* net / ipc namespace of another container, or -1 */
        int bridge_index;
        char host_veth[IFNAMSIZ]; /* set once the pair exists */
        uint64_t host_netns[2];   /* st_dev, st_ino of the netns holding host_veth */
        json_t *saved;            /* for state.json: what delete undoes (NULL when nothing) */
};

void net_launch_init(struct net_launch *nl);
/* Parent, before anything exists on the host: the combination makes sense,
 * the bridge exists and is a bridge, the containers to join are alive (their
 * namespaces are opened now, so that they cannot change under us). */
int net_prepare(struct net_launch *nl, berth_context *ctx, const struct spec *s, berth_error **err);
/* The clone flags once the annotations are applied: a namespace joined from
 * another container is not created; `none`/`bridge` always create one. */
uint64_t net_clone_flags(const struct net_launch *nl, uint64_t flags);
/* Parent: make the next child start in the joined namespaces; `saved` gets
 * the caller's own (-1 when untouched) for net_restore_for_children. */
int net_enter_for_children(const struct net_launch *nl, int saved[2], berth_error **err);
void net_restore_for_children(int saved[2]);
/* Parent, once the init (pid) exists: create the veth pair with its
 * container end inside the init's network namespace, attach the host end to
 * the bridge, then configure the inside: lo, addresses, routes. */
int net_setup(struct net_launch *nl, pid_t pid, berth_error **err);
/* Remove what net_setup made (failed create). */
void net_undo(struct net_launch *nl);
void net_launch_close(struct net_launch *nl);
/* delete: remove the host end recorded by net_launch_to_json (gone already is fine). */
int net_teardown(const json_t *saved, berth_error **err);

/* The counters of every interface but `lo` in the network namespace of `pid`,
 * as runc reports them under "network_interfaces" in `events --stats`:
 * [{"name", "rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "tx_bytes",
 * "tx_packets", "tx_errors", "tx_dropped"}, ...].  An empty array when `pid`
 * shares the caller's network namespace.  The caller owns the result. */
json_t *net_interface_stats(pid_t pid, berth_error **err);

#endif
