/* The execution driver's network over rtnetlink (libmnl).  The parent does
 * all of it: it creates the veth pair with the container end already inside
 * the init's network namespace, and configures that namespace through a
 * netlink socket opened inside it (a socket stays bound to the namespace it
 * was created in).  So the init needs no network code and the parent keeps
 * everything it has to undo. */
#define _GNU_SOURCE
#include "net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "container.h"
#include "landlock.h"

#define NL_BUF_SIZE 32768
#define DEFAULT_IFNAME "eth0"
#define LOOPBACK_INDEX 1 /* the kernel gives `lo` ifindex 1 in every network namespace */
#define OWN_NETNS "/proc/thread-self/ns/net"

/* ---- annotations -------------------------------------------------------- */

PRINTF(3, 4)
static int ann_error(berth_error **err, const char *key, const char *fmt, ...)
{
        va_list ap;
        char *msg = NULL;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        error_set(err, 0, "%s: %s", key, msg ? msg : fmt);
        free(msg);
        return -1;
}

/* Linux interface names: 1..15 bytes, no '/', ':' or white space, not `.`/`..`. */
static bool ifname_valid(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (; *s; s++)
                if (*s == '/' || *s == ':' || *s <= ' ' || *s == 0x7f)
                        return false;
        return true;
}

static int parse_ip(const char *text, int family, struct net_addr *out)
{
        *out = (struct net_addr){.family = family};
        return inet_pton(family, text, out->bytes) == 1 ? 0 : -1;
}

/* `10.0.3.2/24` or `fd00::2/64`: an address of `family` and its prefix length. */
static int parse_cidr(const char *text, int family, struct net_addr *out)
{
        const char *slash = strchr(text, '/');
        unsigned max = family == AF_INET ? 32 : 128;
        long prefix;
        if (!slash || slash == text)
                return -1;
        _cleanup_free_ char *ip = xstrndup(text, (size_t)(slash - text));
        if (parse_ip(ip, family, out) < 0 || parse_long(slash + 1, 0, max, &prefix) < 0)
                return -1;
        out->prefix = (unsigned)prefix;
        return 0;
}

static bool same_subnet(const struct net_addr *a, const struct net_addr *net)
{
        unsigned bits = net->prefix;
        for (unsigned i = 0; bits > 0; i++, bits = bits > 8 ? bits - 8 : 0) {
                uint8_t mask = (uint8_t)(bits >= 8 ? 0xff : (0xff << (8 - bits)));
                if ((a->bytes[i] & mask) != (net->bytes[i] & mask))
                        return false;
        }
        return true;
}

static int parse_mac(const char *text, uint8_t mac[6])
{
        unsigned v[6];
        char end;
        if (strlen(text) != 17 ||
            sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
                return -1;
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)v[i];
        return 0;
}

static int set_address(struct net_addr *dst, const char *key, const char *v, int family, bool cidr,
                       berth_error **err)
{
        int r = cidr ? parse_cidr(v, family, dst) : parse_ip(v, family, dst);
        if (r == 0)
                return 0;
        const char *what = family == AF_INET
                                   ? (cidr ? "an IPv4 address with a prefix length, like `10.0.3.2/24`"
                                           : "an IPv4 address, like `10.0.3.1`")
                                   : (cidr ? "an IPv6 address with a prefix length, like `fd00::2/64`"
                                           : "an IPv6 address, like `fd00::1`");
        return ann_error(err, key, "expected %s, got `%s`", what, v);
}

static int set_ifname(char *dst, const char *key, const char *v, berth_error **err)
{
        if (!ifname_valid(v))
                return ann_error(err, key,
                                 "invalid interface name `%s`: 1 to %d bytes, no `/`, `:` or spaces", v,
                                 IFNAMSIZ - 1);
        snprintf(dst, IFNAMSIZ, "%s", v);
        return 0;
}

static int set_container(char **dst, const char *key, const char *v, berth_error **err)
{
        berth_error *e = NULL;
        if (berth_id_check(v, &e) < 0) {
                ann_error(err, key, "%s", e->msg);
                berth_error_free(e);
                return -1;
        }
        *dst = xstrdup(v);
        return 0;
}

static int set_one(struct net_config *c, const char *key, const char *v, berth_error **err)
{
        long mtu;
        if (strcmp(key, NET_ANN_MODE) == 0) {
                if (strcmp(v, "bridge") == 0)
                        c->mode = NET_MODE_BRIDGE;
                else if (strcmp(v, "none") == 0)
                        c->mode = NET_MODE_NONE;
                else
                        return ann_error(err, key, "expected `bridge` or `none`, got `%s`", v);
                return 0;
        }
        if (strcmp(key, NET_ANN_BRIDGE) == 0) {
                char name[IFNAMSIZ];
                if (set_ifname(name, key, v, err) < 0)
                        return -1;
                c->bridge = xstrdup(name);
                return 0;
        }
        if (strcmp(key, NET_ANN_ADDRESS) == 0)
                return set_address(&c->address, key, v, AF_INET, true, err);
        if (strcmp(key, NET_ANN_GATEWAY) == 0)
                return set_address(&c->gateway, key, v, AF_INET, false, err);
        if (strcmp(key, NET_ANN_ADDRESS6) == 0)
                return set_address(&c->address6, key, v, AF_INET6, true, err);
        if (strcmp(key, NET_ANN_GATEWAY6) == 0)
                return set_address(&c->gateway6, key, v, AF_INET6, false, err);
        if (strcmp(key, NET_ANN_MTU) == 0) {
                /* 68: the smallest MTU IPv4 allows (RFC 791); 65535: the most veth takes. */
                if (parse_long(v, 68, 65535, &mtu) < 0)
                        return ann_error(err, key, "expected an integer between 68 and 65535, got `%s`", v);
                c->mtu = (unsigned)mtu;
                return 0;
        }
        if (strcmp(key, NET_ANN_IFNAME) == 0) {
                if (strcmp(v, "lo") == 0)
                        return ann_error(err, key, "`lo` is the loopback interface");
                return set_ifname(c->ifname, key, v, err);
        }
        if (strcmp(key, NET_ANN_MAC) == 0) {
                if (parse_mac(v, c->mac) < 0)
                        return ann_error(err, key,
                                         "expected a MAC address like `02:42:0a:00:03:02`, got `%s`", v);
                if ((c->mac[0] & 1) ||
                    !(c->mac[0] | c->mac[1] | c->mac[2] | c->mac[3] | c->mac[4] | c->mac[5]))
                        return ann_error(err, key, "`%s` is not a unicast address", v);
                c->has_mac = true;
                return 0;
        }
        if (strcmp(key, NET_ANN_CONTAINER) == 0)
                return set_container(&c->net_container, key, v, err);
        if (strcmp(key, IPC_ANN_CONTAINER) == 0)
                return set_container(&c->ipc_container, key, v, err);
        /* berth owns these prefixes: a misspelt key must not be silently ignored. */
        return ann_error(err, key,
                         "unknown setting (known: mode, bridge, address, gateway, address6, gateway6, "
                         "mtu, ifname, mac, container; berth.ipc.container)");
}

/* Rules across keys, checked once all are known. */
static int check_combination(struct net_config *c, berth_error **err)
{
        if (c->mode == NET_MODE_UNSET && c->bridge)
                c->mode = NET_MODE_BRIDGE; /* a bridge alone says which mode */
        if (c->mode == NET_MODE_BRIDGE && !c->bridge)
                return ann_error(err, NET_ANN_MODE, "`bridge` requires %s", NET_ANN_BRIDGE);
        if (c->mode != NET_MODE_BRIDGE) {
                const char *keys[] = {NET_ANN_ADDRESS,  NET_ANN_GATEWAY, NET_ANN_ADDRESS6,
                                      NET_ANN_GATEWAY6, NET_ANN_MTU,     NET_ANN_MAC};
                bool given[] = {
                        c->address.family, c->gateway.family, c->address6.family, c->gateway6.family, c->mtu,
                        c->has_mac};
                for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                        if (given[i])
                                return ann_error(err, keys[i], "requires %s `bridge`", NET_ANN_MODE);
        }
        if (c->net_container && c->mode != NET_MODE_UNSET)
                return ann_error(err, NET_ANN_CONTAINER, "conflicts with %s `%s`", NET_ANN_MODE,
                                 c->mode == NET_MODE_BRIDGE ? "bridge" : "none");
        if (c->gateway.family && !c->address.family)
                return ann_error(err, NET_ANN_GATEWAY, "requires %s", NET_ANN_ADDRESS);
        if (c->gateway.family && !same_subnet(&c->gateway, &c->address))
                return ann_error(err, NET_ANN_GATEWAY, "not in the subnet of %s", NET_ANN_ADDRESS);
        if (c->gateway6.family && !c->address6.family)
                return ann_error(err, NET_ANN_GATEWAY6, "requires %s", NET_ANN_ADDRESS6);
        bool link_local = c->gateway6.bytes[0] == 0xfe && (c->gateway6.bytes[1] & 0xc0) == 0x80;
        if (c->gateway6.family && !link_local && !same_subnet(&c->gateway6, &c->address6))
                return ann_error(err, NET_ANN_GATEWAY6, "not in the subnet of %s (nor link-local)",
                                 NET_ANN_ADDRESS6);
        if (c->address6.family && c->mtu && c->mtu < 1280)
                return ann_error(err, NET_ANN_MTU, "IPv6 (%s) needs at least 1280", NET_ANN_ADDRESS6);
        return 0;
}

int net_config_parse(char *const *annotations, struct net_config **out, berth_error **err)
{
        *out = NULL;
        struct net_config *c = NULL;
        for (size_t i = 0; annotations && annotations[i] && annotations[i + 1]; i += 2) {
                const char *key = annotations[i];
                if (!str_has_prefix(key, "berth.net.") && !str_has_prefix(key, "berth.ipc."))
                        continue;
                if (!c) {
                        c = xzalloc(sizeof *c);
                        snprintf(c->ifname, sizeof c->ifname, "%s", DEFAULT_IFNAME);
                }
                if (set_one(c, key, annotations[i + 1], err) < 0) {
                        net_config_free(c);
                        return -1;
                }
        }
        if (c && check_combination(c, err) < 0) {
                net_config_free(c);
                return -1;
        }
        *out = c;
        return 0;
}

void net_config_free(struct net_config *c)
{
        if (!c)
                return;
        free(c->bridge);
        free(c->net_container);
        free(c->ipc_container);
        free(c);
}

/* ---- rtnetlink ---------------------------------------------------------- */

static inline void cleanup_mnl_(struct mnl_socket **s)
{
        if (*s) {
                int saved = errno;
                mnl_socket_close(*s);
                errno = saved;
        }
}
#define _cleanup_mnl_ __attribute__((cleanup(cleanup_mnl_)))

static struct mnl_socket *nl_open(berth_error **err)
{
        struct mnl_socket *s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!s) {
                error_set(err, errno, "open rtnetlink socket");
                return NULL;
        }
        if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
                error_set(err, errno, "bind rtnetlink socket");
                mnl_socket_close(s);
                return NULL;
        }
        return s;
}

/* A socket inside the network namespace `nsfd`, the caller's own kept. */
static struct mnl_socket *nl_open_in(int nsfd, berth_error **err)
{
        _cleanup_close_ int own = open(OWN_NETNS, O_RDONLY | O_CLOEXEC);
        if (own < 0) {
                error_set(err, errno, "open `%s`", OWN_NETNS);
                return NULL;
        }
        if (setns(nsfd, CLONE_NEWNET) < 0) {
                error_set(err, errno, "enter the container's network namespace");
                return NULL;
        }
        struct mnl_socket *s = nl_open(err);
        /* Going on in the container's namespace would create and delete host
         * links in the wrong place; returning to an open namespace fd cannot
         * fail short of the kernel running out of memory. */
        if (setns(own, CLONE_NEWNET) < 0)
                abort();
        return s;
}

static struct nlmsghdr *nl_msg(char *buf, uint16_t type, uint16_t flags)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        static unsigned seq;
        nlh->nlmsg_type = type;
        /* A dump ends with NLMSG_DONE; anything else with its ACK. */
        nlh->nlmsg_flags = NLM_F_REQUEST | flags | ((flags & NLM_F_DUMP) == NLM_F_DUMP ? 0 : NLM_F_ACK);
        nlh->nlmsg_seq = (unsigned)time(NULL) + ++seq;
        return nlh;
}

/* Send one request and read replies up to its ACK (or the end of a dump);
 * returns 0 or -errno from the kernel. */
static int nl_talk(struct mnl_socket *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
        unsigned seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(s);
        if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        _cleanup_free_ char *buf = xmalloc(NL_BUF_SIZE);
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(s, buf, NL_BUF_SIZE);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                int r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
                if (r < 0)
                        return -errno;
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

struct link_info {
        int index;
        unsigned flags;
        char kind[16];
};

static int link_attr_cb(const struct nlattr *a, void *data)
{
        struct link_info *li = data;
        if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
                snprintf(li->kind, sizeof li->kind, "%s", mnl_attr_get_str(a));
        return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
        struct link_info *li = data;
        const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *a;
        li->index = ifm->ifi_index;
        li->flags = ifm->ifi_flags;
        mnl_attr_for_each(a, nlh, sizeof *ifm)
        {
                if (mnl_attr_get_type(a) == IFLA_LINKINFO)
                        mnl_attr_parse_nested(a, link_attr_cb, li);
        }
        return MNL_CB_OK;
}

static int link_get(struct mnl_socket *s, const char *name, struct link_info *li)
{
        char buf[512];
        struct nlmsghdr *nlh = nl_msg(buf, RTM_GETLINK, 0);
        struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
        ifm->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        *li = (struct link_info){0};
        return nl_talk(s, nlh, link_cb, li);
}

static int link_delete(struct mnl_socket *s, const char *name)
{
        char buf[512];
        struct nlmsghdr *nlh = nl_msg(buf, RTM_DELLINK, 0);
        struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
        ifm->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        return nl_talk(s, nlh, NULL, NULL);
}

static int link_up(struct mnl_socket *s, int index)
{
        char buf[512];
        struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWLINK, 0);
        struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
        *ifm = (struct ifinfomsg){
                .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
        return nl_talk(s, nlh, NULL, NULL);
}

/* One request: the pair, its host end `host` (up, in the bridge) and its
 * container end (named, with MTU and MAC) created inside `nsfd`.  The
 * container end cannot be brought up here: the kernel configures it before
 * the two ends know each other, and a veth without its peer refuses IFF_UP. */
static int veth_create(struct mnl_socket *s, const struct net_launch *nl, const char *host, int nsfd)
{
        const struct net_config *c = nl->cfg;
        char buf[1024];
        struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
        *ifm = (struct ifinfomsg){.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
        mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)nl->bridge_index);
        if (c->mtu)
                mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
        struct nlattr *linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        struct ifinfomsg *pm = mnl_nlmsg_put_extra_header(nlh, sizeof *pm);
        *pm = (struct ifinfomsg){.ifi_family = AF_UNSPEC};
        mnl_attr_put_strz(nlh, IFLA_IFNAME, c->ifname);
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
        if (c->mtu)
                mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
        if (c->has_mac)
                mnl_attr_put(nlh, IFLA_ADDRESS, sizeof c->mac, c->mac);
        mnl_attr_nest_end(nlh, peer);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, linkinfo);
        return nl_talk(s, nlh, NULL, NULL);
}

static int addr_add(struct mnl_socket *s, int index, const struct net_addr *a)
{
        char buf[512];
        size_t len = a->family == AF_INET ? 4 : 16;
        struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
        *ifa = (struct ifaddrmsg){.ifa_family = (uint8_t)a->family,
                                  .ifa_prefixlen = (uint8_t)a->prefix,
                                  .ifa_scope = RT_SCOPE_UNIVERSE,
                                  .ifa_index = (unsigned)index};
        /* No duplicate address detection: the address is ours by configuration
         * and must be usable the moment the program starts, not ~1 s later. */
        if (a->family == AF_INET6)
                ifa->ifa_flags = IFA_F_NODAD;
        mnl_attr_put(nlh, IFA_LOCAL, len, a->bytes);
        mnl_attr_put(nlh, IFA_ADDRESS, len, a->bytes);
        return nl_talk(s, nlh, NULL, NULL);
}

static int route_default(struct mnl_socket *s, int index, const struct net_addr *gw)
{
        char buf[512];
        struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
        struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
        *rtm = (struct rtmsg){.rtm_family = (uint8_t)gw->family,
                              .rtm_table = RT_TABLE_MAIN,
                              .rtm_protocol = RTPROT_BOOT,
                              .rtm_scope = RT_SCOPE_UNIVERSE,
                              .rtm_type = RTN_UNICAST};
        mnl_attr_put(nlh, RTA_GATEWAY, gw->family == AF_INET ? 4 : 16, gw->bytes);
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
        return nl_talk(s, nlh, NULL, NULL);
}

/* ---- create / run ------------------------------------------------------- */

void net_launch_init(struct net_launch *nl)
{
        *nl = (struct net_launch){.join_fd = {-1, -1}};
}

static int netns_id(const char *path, uint64_t id[2])
{
        struct stat st;
        if (stat(path, &st) < 0)
                return -1;
        id[0] = st.st_dev;
        id[1] = st.st_ino;
        return 0;
}

/* The namespace `ns` of a live container, opened: a pid checked against its
 * start time after opening, so that a reused pid is never mistaken for it. */
static int open_container_ns(berth_context *ctx, const char *key, const char *id, const char *ns,
                             berth_error **err)
{
        struct handle h;
        berth_error *e = NULL;
        if (handle_open(ctx, id, false, &h, &e) < 0) {
                error_set(err, e->errnum, "%s: %s", key, e->msg);
                berth_error_free(e);
                return -1;
        }
        int fd = -1;
        if (h.status != BERTH_STOPPED && h.status != BERTH_CREATING) {
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/ns/%s", h.st.pid, ns);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0 && proc_start_time(h.st.pid) != h.st.start_time) {
                        close(fd);
                        fd = -1;
                }
        }
        if (fd < 0)
                error_set(err, 0, "%s: container `%s` is not running", key, id);
        handle_close(&h);
        return fd;
}

static int check_bridge(struct net_launch *nl, berth_error **err)
{
        const char *br = nl->cfg->bridge;
        _cleanup_mnl_ struct mnl_socket *s = nl_open(err);
        if (!s)
                return -1;
        struct link_info li;
        int r = link_get(s, br, &li);
        if (r == -ENODEV)
                return ann_error(err, NET_ANN_BRIDGE, "bridge `%s` does not exist", br);
        if (r < 0)
                return error_set(err, -r, "%s: look up `%s`", NET_ANN_BRIDGE, br);
        if (strcmp(li.kind, "bridge") != 0)
                return ann_error(err, NET_ANN_BRIDGE, "`%s` is not a bridge", br);
        nl->bridge_index = li.index;
        return 0;
}

int net_prepare(struct net_launch *nl, berth_context *ctx, const struct spec *s, berth_error **err)
{
        const struct net_config *c = s->net;
        nl->cfg = c;
        if (!c)
                return 0;
        const char *net_path = s->namespaces[NS_NET].path, *ipc_path = s->namespaces[NS_IPC].path;
        if (c->mode != NET_MODE_UNSET && net_path)
                return ann_error(err, NET_ANN_MODE, "conflicts with the network namespace path `%s`",
                                 net_path);
        if (c->net_container && net_path)
                return ann_error(err, NET_ANN_CONTAINER, "conflicts with the network namespace path `%s`",
                                 net_path);
        if (c->ipc_container && ipc_path)
                return ann_error(err, IPC_ANN_CONTAINER, "conflicts with the IPC namespace path `%s`",
                                 ipc_path);
        if (c->net_container &&
            (nl->join_fd[0] = open_container_ns(ctx, NET_ANN_CONTAINER, c->net_container, "net", err)) < 0)
                return -1;
        if (c->ipc_container &&
            (nl->join_fd[1] = open_container_ns(ctx, IPC_ANN_CONTAINER, c->ipc_container, "ipc", err)) < 0)
                return -1;
        if (c->mode == NET_MODE_BRIDGE) {
                if (netns_id(OWN_NETNS, nl->host_netns) < 0)
                        return error_set(err, errno, "stat `%s`", OWN_NETNS);
                return check_bridge(nl, err);
        }
        return 0;
}

uint64_t net_clone_flags(const struct net_launch *nl, uint64_t flags)
{
        if (!nl->cfg)
                return flags;
        if (nl->cfg->mode != NET_MODE_UNSET)
                flags |= CLONE_NEWNET;
        if (nl->join_fd[0] >= 0)
                flags &= ~(uint64_t)CLONE_NEWNET;
        if (nl->join_fd[1] >= 0)
                flags &= ~(uint64_t)CLONE_NEWIPC;
        return flags;
}

/* Joined from the parent, not by the init: a new user namespace would leave
 * the init without the rights to enter a namespace the host owns. */
int net_enter_for_children(const struct net_launch *nl, int saved[2], berth_error **err)
{
        static const char *const own[2] = {OWN_NETNS, "/proc/thread-self/ns/ipc"};
        static const int types[2] = {CLONE_NEWNET, CLONE_NEWIPC};
        saved[0] = saved[1] = -1;
        for (int i = 0; i < 2; i++) {
                if (nl->join_fd[i] < 0)
                        continue;
                saved[i] = open(own[i], O_RDONLY | O_CLOEXEC);
                if (saved[i] < 0) {
                        error_set(err, errno, "open `%s`", own[i]);
                        net_restore_for_children(saved);
                        return -1;
                }
                if (setns(nl->join_fd[i], types[i]) < 0) {
                        error_set(err, errno, "join the %s namespace of container `%s`",
                                  i ? "IPC" : "network", i ? nl->cfg->ipc_container : nl->cfg->net_container);
                        net_restore_for_children(saved);
                        return -1;
                }
        }
        return 0;
}

void net_restore_for_children(int saved[2])
{
        static const int types[2] = {CLONE_NEWNET, CLONE_NEWIPC};
        for (int i = 0; i < 2; i++) {
                if (saved[i] >= 0) {
                        if (setns(saved[i], types[i]) < 0)
                                abort(); /* see nl_open_in */
                        close(saved[i]);
                        saved[i] = -1;
                }
        }
}

static int veth_make(struct net_launch *nl, int nsfd, berth_error **err)
{
        _cleanup_mnl_ struct mnl_socket *s = nl_open(err);
        if (!s)
                return -1;
        int r = -EEXIST;
        char name[IFNAMSIZ];
        /* A random name: the host end outlives nothing but its container, and
         * the container id does not fit in 15 bytes. */
        for (int tries = 0; tries < 8 && r == -EEXIST; tries++) {
                uint32_t rnd;
                struct link_info li;
                if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                        rnd = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16) ^ (uint32_t)tries;
                snprintf(name, sizeof name, "vb%08x", rnd);
                r = veth_create(s, nl, name, nsfd);
                /* EEXIST names either end: only a taken host name is worth another try. */
                if (r == -EEXIST && link_get(s, name, &li) == -ENODEV)
                        return error_set(err, EEXIST, "create `%s` in the container", nl->cfg->ifname);
        }
        if (r < 0)
                return error_set(err, -r, "create veth pair for bridge `%s`", nl->cfg->bridge);
        snprintf(nl->host_veth, sizeof nl->host_veth, "%s", name);
        nl->saved = json_pack("{s:s, s:[I,I]}", "host_veth", name, "netns", (json_int_t)nl->host_netns[0],
                              (json_int_t)nl->host_netns[1]);
        return 0;
}

static int configure_inside(const struct net_config *c, int nsfd, berth_error **err)
{
        _cleanup_mnl_ struct mnl_socket *s = nl_open_in(nsfd, err);
        if (!s)
                return -1;
        int r = link_up(s, LOOPBACK_INDEX);
        if (r < 0)
                return error_set(err, -r, "bring up `lo`");
        if (c->mode != NET_MODE_BRIDGE)
                return 0;
        struct link_info li;
        if ((r = link_get(s, c->ifname, &li)) < 0)
                return error_set(err, -r, "look up `%s` in the container", c->ifname);
        if ((r = link_up(s, li.index)) < 0)
                return error_set(err, -r, "bring up `%s`", c->ifname);
        char text[INET6_ADDRSTRLEN];
        const struct net_addr *addrs[] = {&c->address, &c->address6};
        const struct net_addr *gws[] = {&c->gateway, &c->gateway6};
        for (int i = 0; i < 2; i++) {
                const struct net_addr *a = addrs[i];
                if (a->family && (r = addr_add(s, li.index, a)) < 0)
                        return error_set(err, -r, "add address `%s/%u` to `%s`",
                                         inet_ntop(a->family, a->bytes, text, sizeof text), a->prefix,
                                         c->ifname);
        }
        for (int i = 0; i < 2; i++) {
                const struct net_addr *g = gws[i];
                if (g->family && (r = route_default(s, li.index, g)) < 0)
                        return error_set(err, -r, "add default route via `%s`",
                                         inet_ntop(g->family, g->bytes, text, sizeof text));
        }
        return 0;
}

int net_setup(struct net_launch *nl, pid_t pid, berth_error **err)
{
        if (!nl->cfg || nl->cfg->mode == NET_MODE_UNSET)
                return 0;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
        _cleanup_close_ int nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return error_set(err, errno, "open `%s`", path);
        if (nl->cfg->mode == NET_MODE_BRIDGE && veth_make(nl, nsfd, err) < 0)
                return -1;
        if (configure_inside(nl->cfg, nsfd, err) < 0) {
                error_wrap(err, "configure the container's network");
                return -1;
        }
        return 0;
}

void net_undo(struct net_launch *nl)
{
        if (!nl->host_veth[0])
                return;
        _cleanup_mnl_ struct mnl_socket *s = nl_open(NULL);
        if (s)
                link_delete(s, nl->host_veth);
        nl->host_veth[0] = '\0';
}

void net_launch_close(struct net_launch *nl)
{
        cleanup_close_(&nl->join_fd[0]);
        cleanup_close_(&nl->join_fd[1]);
        nl->join_fd[0] = nl->join_fd[1] = -1;
        json_decref(nl->saved);
        nl->saved = NULL;
}

int net_teardown(const json_t *saved, berth_error **err)
{
        const char *name = json_string_value(json_object_get(saved, "host_veth"));
        json_t *ns = json_object_get(saved, "netns");
        uint64_t here[2];
        if (!name || !ifname_valid(name))
                return 0;
        /* From another network namespace the name means another link; the
         * kernel removes ours with the container's namespace anyway. */
        if (netns_id(OWN_NETNS, here) < 0 || (uint64_t)json_integer_value(json_array_get(ns, 0)) != here[0] ||
            (uint64_t)json_integer_value(json_array_get(ns, 1)) != here[1])
                return 0;
        _cleanup_mnl_ struct mnl_socket *s = nl_open(err);
        if (!s)
                return -1;
        int r = link_delete(s, name);
        if (r < 0 && r != -ENODEV)
                return error_set(err, -r, "remove host veth `%s`", name);
        return 0;
}

/* ---- statistics --------------------------------------------------------- */

static int stats_attr_cb(const struct nlattr *a, void *data)
{
        const struct nlattr **tb = data;
        uint16_t type = mnl_attr_get_type(a);
        if (type == IFLA_IFNAME || type == IFLA_STATS64)
                tb[type] = a;
        return MNL_CB_OK;
}

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
        const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *tb[IFLA_MAX + 1] = {0};
        if (nlh->nlmsg_type != RTM_NEWLINK || (ifm->ifi_flags & IFF_LOOPBACK))
                return MNL_CB_OK;
        mnl_attr_parse(nlh, sizeof *ifm, stats_attr_cb, tb);
        if (!tb[IFLA_IFNAME] || !tb[IFLA_STATS64] ||
            mnl_attr_get_payload_len(tb[IFLA_STATS64]) < sizeof(struct rtnl_link_stats64))
                return MNL_CB_OK;
        struct rtnl_link_stats64 st;
        memcpy(&st, mnl_attr_get_payload(tb[IFLA_STATS64]), sizeof st);
        json_array_append_new(
                data, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name",
                                mnl_attr_get_str(tb[IFLA_IFNAME]), "rx_bytes", (json_int_t)st.rx_bytes,
                                "rx_packets", (json_int_t)st.rx_packets, "rx_errors",
                                (json_int_t)st.rx_errors, "rx_dropped", (json_int_t)st.rx_dropped, "tx_bytes",
                                (json_int_t)st.tx_bytes, "tx_packets", (json_int_t)st.tx_packets, "tx_errors",
                                (json_int_t)st.tx_errors, "tx_dropped", (json_int_t)st.tx_dropped));
        return MNL_CB_OK;
}

json_t *net_interface_stats(pid_t pid, berth_error **err)
{
        char path[64];
        uint64_t theirs[2], ours[2];
        snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
        _cleanup_close_ int nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0 || netns_id(path, theirs) < 0 || netns_id(OWN_NETNS, ours) < 0) {
                error_set(err, errno, "open `%s`", path);
                return NULL;
        }
        json_t *list = json_array();
        if (theirs[0] == ours[0] && theirs[1] == ours[1])
                return list; /* the host's interfaces are not the container's */
        _cleanup_mnl_ struct mnl_socket *s = nl_open_in(nsfd, err);
        char buf[512];
        struct nlmsghdr *nlh = nl_msg(buf, RTM_GETLINK, NLM_F_DUMP);
        struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
        ifm->ifi_family = AF_UNSPEC;
        int r = s ? nl_talk(s, nlh, stats_cb, list) : -1;
        if (r < 0) {
                if (s)
                        error_set(err, -r, "read interface counters of pid %d", pid);
                json_decref(list);
                return NULL;
        }
        return list;
}

/* ---- settings from the command line ------------------------------------- */

int berth_bundle_set_annotations(berth_bundle *bundle, const char *const *kv, berth_error **err)
{
        struct spec *s = bundle->spec;
        size_t n = strv_len(s->annotations);
        char **ann = xzalloc(sizeof *ann);
        size_t len = 0;
        for (size_t i = 0; i < n; i++)
                strv_push(&ann, &len, s->annotations[i]);
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2) {
                size_t j = 0;
                while (j < len && strcmp(ann[j], kv[i]) != 0)
                        j += 2;
                if (j < len) {
                        free(ann[j + 1]);
                        ann[j + 1] = xstrdup(kv[i + 1]);
                } else {
                        strv_push(&ann, &len, kv[i]);
                        strv_push(&ann, &len, kv[i + 1]);
                }
        }
        struct net_config *c;
        struct landlock_config *ll;
        if (net_config_parse(ann, &c, err) < 0) {
                strv_free(ann);
                return -1;
        }
        if (landlock_config_parse(ann, &ll, err) < 0) {
                net_config_free(c);
                strv_free(ann);
                return -1;
        }
        strv_free(s->annotations);
        s->annotations = ann;
        net_config_free(s->net);
        s->net = c;
        landlock_config_free(s->landlock);
        s->landlock = ll;
        return 0;
}
