/* Unit tests: the berth.net.* / berth.ipc.* annotations (net_config_parse). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "net.h"
#include "unit.h"

static struct net_config *parse_ok(const char *const *kv)
{
        struct net_config *c = NULL;
        berth_error *err = NULL;
        int r = net_config_parse((char *const *)kv, &c, &err);
        if (r < 0)
                fail_msg("unexpected error: %s", berth_error_message(err));
        return c;
}

static void expect_error(const char *const *kv, const char *msg)
{
        struct net_config *c = NULL;
        berth_error *err = NULL;
        int r = net_config_parse((char *const *)kv, &c, &err);
        assert_null(c);
        expect_failure(r, err, msg);
}

static void none_given(void **state)
{
        (void)state;
        const char *kv[] = {"com.example.key", "v", "berth.other", "x", NULL};
        assert_null(parse_ok(kv));
        assert_null(parse_ok(NULL));
}

static void bridge_full(void **state)
{
        (void)state;
        const char *kv[] = {"berth.net.mode",
                            "bridge",
                            "berth.net.bridge",
                            "br0",
                            "berth.net.address",
                            "10.0.3.2/24",
                            "berth.net.gateway",
                            "10.0.3.1",
                            "berth.net.address6",
                            "fd00:3::2/64",
                            "berth.net.gateway6",
                            "fd00:3::1",
                            "berth.net.mtu",
                            "1400",
                            "berth.net.ifname",
                            "net0",
                            "berth.net.mac",
                            "02:42:0a:00:03:02",
                            NULL};
        struct net_config *c = parse_ok(kv);
        assert_non_null(c);
        assert_int_equal(c->mode, NET_MODE_BRIDGE);
        assert_string_equal(c->bridge, "br0");
        assert_string_equal(c->ifname, "net0");
        assert_int_equal(c->mtu, 1400);
        assert_int_equal(c->address.family, AF_INET);
        assert_int_equal(c->address.prefix, 24);
        uint8_t a[4] = {10, 0, 3, 2};
        assert_memory_equal(c->address.bytes, a, 4);
        assert_int_equal(c->address6.prefix, 64);
        assert_int_equal(c->gateway6.family, AF_INET6);
        assert_true(c->has_mac);
        uint8_t mac[6] = {0x02, 0x42, 0x0a, 0x00, 0x03, 0x02};
        assert_memory_equal(c->mac, mac, 6);
        net_config_free(c);
}

static void defaults_and_inference(void **state)
{
        (void)state;
        const char *kv[] = {"berth.net.bridge", "br0", NULL};
        struct net_config *c = parse_ok(kv);
        assert_int_equal(c->mode, NET_MODE_BRIDGE); /* a bridge alone means bridge mode */
        assert_string_equal(c->ifname, "eth0");
        assert_int_equal(c->mtu, 0);
        net_config_free(c);
        const char *none[] = {"berth.net.mode", "none", NULL};
        c = parse_ok(none);
        assert_int_equal(c->mode, NET_MODE_NONE);
        net_config_free(c);
        const char *join[] = {"berth.net.container", "web", "berth.ipc.container", "db", NULL};
        c = parse_ok(join);
        assert_int_equal(c->mode, NET_MODE_UNSET);
        assert_string_equal(c->net_container, "web");
        assert_string_equal(c->ipc_container, "db");
        net_config_free(c);
        /* a link-local IPv6 gateway needs no shared prefix */
        const char *ll[] = {
                "berth.net.bridge", "br0", "berth.net.address6", "fd00::2/64", "berth.net.gateway6",
                "fe80::1",          NULL};
        net_config_free(parse_ok(ll));
}

static void bad_values(void **state)
{
        (void)state;
        const char *mode[] = {"berth.net.mode", "host", NULL};
        expect_error(mode, "berth.net.mode: expected `bridge` or `none`, got `host`");
        const char *addr[] = {"berth.net.bridge", "br0", "berth.net.address", "10.0.3.300/24", NULL};
        expect_error(addr, "berth.net.address: expected an IPv4 address with a prefix length");
        const char *prefix[] = {"berth.net.bridge", "br0", "berth.net.address", "10.0.3.2/33", NULL};
        expect_error(prefix, "got `10.0.3.2/33`");
        const char *noprefix[] = {"berth.net.bridge", "br0", "berth.net.address", "10.0.3.2", NULL};
        expect_error(noprefix, "berth.net.address: expected an IPv4 address with a prefix length");
        const char *v6[] = {"berth.net.bridge", "br0", "berth.net.address6", "10.0.3.2/24", NULL};
        expect_error(v6, "berth.net.address6: expected an IPv6 address");
        const char *mtu[] = {"berth.net.bridge", "br0", "berth.net.mtu", "67", NULL};
        expect_error(mtu, "berth.net.mtu: expected an integer between 68 and 65535, got `67`");
        const char *mtu2[] = {"berth.net.bridge", "br0", "berth.net.mtu", "1500x", NULL};
        expect_error(mtu2, "got `1500x`");
        const char *ifname[] = {"berth.net.bridge", "br0", "berth.net.ifname", "a/b", NULL};
        expect_error(ifname, "berth.net.ifname: invalid interface name `a/b`");
        const char *longname[] = {"berth.net.bridge", "0123456789abcdef", NULL};
        expect_error(longname, "berth.net.bridge: invalid interface name");
        const char *mac[] = {"berth.net.bridge", "br0", "berth.net.mac", "02:42:0a:00:03", NULL};
        expect_error(mac, "berth.net.mac: expected a MAC address");
        const char *mcast[] = {"berth.net.bridge", "br0", "berth.net.mac", "01:00:5e:00:00:01", NULL};
        expect_error(mcast, "is not a unicast address");
        const char *id[] = {"berth.net.container", "a/b", NULL};
        expect_error(id, "berth.net.container: invalid container id `a/b`");
        const char *unknown[] = {"berth.net.adress", "10.0.0.2/24", NULL};
        expect_error(unknown, "berth.net.adress: unknown setting");
}

static void bad_combinations(void **state)
{
        (void)state;
        const char *nobridge[] = {"berth.net.mode", "bridge", NULL};
        expect_error(nobridge, "berth.net.mode: `bridge` requires berth.net.bridge");
        const char *addr_none[] = {"berth.net.mode", "none", "berth.net.address", "10.0.3.2/24", NULL};
        expect_error(addr_none, "berth.net.address: requires berth.net.mode `bridge`");
        const char *mtu_alone[] = {"berth.net.mtu", "1400", NULL};
        expect_error(mtu_alone, "berth.net.mtu: requires berth.net.mode `bridge`");
        const char *both[] = {"berth.net.mode", "none", "berth.net.container", "web", NULL};
        expect_error(both, "berth.net.container: conflicts with berth.net.mode `none`");
        const char *gw[] = {"berth.net.bridge", "br0", "berth.net.gateway", "10.0.3.1", NULL};
        expect_error(gw, "berth.net.gateway: requires berth.net.address");
        const char *subnet[] = {
                "berth.net.bridge", "br0", "berth.net.address", "10.0.3.2/24", "berth.net.gateway",
                "10.0.4.1",         NULL};
        expect_error(subnet, "berth.net.gateway: not in the subnet of berth.net.address");
        const char *subnet6[] = {
                "berth.net.bridge", "br0", "berth.net.address6", "fd00:3::2/64", "berth.net.gateway6",
                "fd00:4::1",        NULL};
        expect_error(subnet6, "berth.net.gateway6: not in the subnet");
        const char *mtu6[] = {
                "berth.net.bridge", "br0", "berth.net.address6", "fd00::2/64", "berth.net.mtu", "1000", NULL};
        expect_error(mtu6, "berth.net.mtu: IPv6 (berth.net.address6) needs at least 1280");
}

static void odd_prefixes(void **state)
{
        (void)state;
        /* /0 and /32 are valid; a gateway in a /20 that differs in the low bits is in the subnet. */
        const char *p20[] = {
                "berth.net.bridge", "br0", "berth.net.address", "10.0.19.2/20", "berth.net.gateway",
                "10.0.16.1",        NULL};
        net_config_free(parse_ok(p20));
        const char *p32[] = {"berth.net.bridge", "br0", "berth.net.address", "10.0.0.2/32", NULL};
        net_config_free(parse_ok(p32));
        const char *p20bad[] = {
                "berth.net.bridge", "br0", "berth.net.address", "10.0.19.2/20", "berth.net.gateway",
                "10.0.32.1",        NULL};
        expect_error(p20bad, "not in the subnet");
}

/* Counters of another network namespace: a child unshares one and makes a
 * veth pair in it (root and `ip` needed; skipped otherwise). */
static void interface_stats(void **state)
{
        (void)state;
        berth_error *err = NULL;
        json_t *own = net_interface_stats(getpid(), &err);
        assert_non_null(own);
        assert_int_equal(json_array_size(own), 0); /* the caller's own namespace is not reported */
        json_decref(own);
        if (geteuid() != 0 || (access("/usr/sbin/ip", X_OK) != 0 && access("/sbin/ip", X_OK) != 0))
                skip();
        int ready[2];
        assert_int_equal(pipe(ready), 0);
        pid_t child = fork();
        if (child == 0) {
                if (unshare(CLONE_NEWNET) < 0 ||
                    system("PATH=/usr/sbin:/sbin:/usr/bin:/bin; ip link add t0 type veth peer name t1 && "
                           "ip link set t0 up && ip link set t1 up") != 0)
                        _exit(1);
                (void)!write(ready[1], "x", 1);
                pause();
                _exit(0);
        }
        close(ready[1]);
        char c;
        assert_int_equal(read(ready[0], &c, 1), 1);
        json_t *list = net_interface_stats(child, &err);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        close(ready[0]);
        assert_non_null(list);
        assert_int_equal(json_array_size(list), 2); /* t0 and t1, not lo */
        json_t *first = json_array_get(list, 0);
        const char *fields[] = {"rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
                                "tx_bytes", "tx_packets", "tx_errors", "tx_dropped"};
        assert_true(json_is_string(json_object_get(first, "name")));
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
                assert_true(json_is_integer(json_object_get(first, fields[i])));
        json_decref(list);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(none_given),
                cmocka_unit_test(bridge_full),
                cmocka_unit_test(defaults_and_inference),
                cmocka_unit_test(bad_values),
                cmocka_unit_test(bad_combinations),
                cmocka_unit_test(odd_prefixes),
                cmocka_unit_test(interface_stats),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
