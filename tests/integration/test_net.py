"""The execution driver's network (berth.net.* / berth.ipc.* annotations and
the --net / --net-* / --ipc options): bridge mode, `none`, joining another
container's network and IPC namespaces, and bad input.

Every test runs berth inside a network namespace it created, entered with
nsenter so that nothing else changes, with a bridge it created there; traffic
stays between that namespace and the containers'.  The namespace is held by a
process of the test (`unshare --net`) rather than mounted under /run/netns:
nothing lands in the host's mount table (where a shared-propagation umount
elsewhere could take it away), and killing the holder at teardown removes it."""

import json
import subprocess

import pytest

from conftest import TIMEOUT, ns_inode, read_line

def ip(*args, check=True, wrap=()):
    r = subprocess.run([*wrap, "ip", *args], capture_output=True, text=True, timeout=TIMEOUT)
    if check and r.returncode != 0:
        raise AssertionError(f"ip {' '.join(args)}: {r.stderr}")
    return r


class NetNS:
    """A network namespace of the test's own, and berth commands run in it."""

    def __init__(self, berth):
        self.berth = berth
        self.holder = subprocess.Popen(["unshare", "--net", "--", "sh", "-c", "echo in; exec sleep infinity"],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        assert read_line(self.holder.stdout).strip() == "in"  # unshared by now
        self.path = f"/proc/{self.holder.pid}/ns/net"
        self.wrap = ["nsenter", f"--net={self.path}"]

    def ip(self, *args, check=True):
        return ip(*args, check=check, wrap=self.wrap)

    def links(self, kind=None):
        args = ["-j", "link", "show"] + (["type", kind] if kind else [])
        return json.loads(self.ip(*args).stdout or "[]")

    def bridge(self, name="br0", addr="10.0.3.1/24", addr6=None):
        self.ip("link", "add", name, "type", "bridge")
        self.ip("addr", "add", addr, "dev", name)
        if addr6:
            self.ip("addr", "add", addr6, "dev", name, "nodad")
        self.ip("link", "set", name, "up")

    # berth, inside the namespace
    def run(self, args, **kw):
        return self.berth.run(args, wrap=self.wrap, **kw)

    def run_container(self, bundle, id=None, opts=(), **kw):
        id = id or self.berth.new_id()
        bundle.write()
        self.berth.track(id, bundle)
        r = self.run(["run", "--bundle", bundle.path, *opts, id], **kw)
        r.id = id
        return r

    def run_detached(self, bundle, id=None, opts=()):
        r = self.run_container(bundle, id, ["-d", *opts], check=True)
        self.berth.state(r.id)
        return r

    def popen_run(self, bundle, opts=()):
        id = self.berth.new_id()
        bundle.write()
        self.berth.track(id, bundle)
        p = subprocess.Popen([*self.wrap, *self.berth.cmd(["run", "--bundle", bundle.path, *opts, id])],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.berth.popens.append(p)
        p.id = id
        return p

    def delete(self, id):
        self.run(["delete", "-f", id], check=True)

    def remove(self):
        self.holder.kill()
        self.holder.wait()


@pytest.fixture
def netns(berth):
    ns = NetNS(berth)
    yield ns
    # Containers first (from inside, so their host veths go too), then the namespace.
    for id in list(berth.used):
        ns.run(["delete", "-f", id])
    ns.remove()


def allow_ping(bundle):
    caps = bundle.config["process"].setdefault("capabilities", {})
    for kind in ("bounding", "effective", "permitted"):
        caps[kind] = sorted(set(caps.get(kind, [])) | {"CAP_NET_RAW"})


def annotate(bundle, **kv):
    bundle.config.setdefault("annotations", {}).update(
        {f"berth.{k.replace('_', '.', 1)}": v for k, v in kv.items()})


def host_end(netns, iflink):
    """The link in the test namespace whose ifindex the container's eth0 names as its peer."""
    return next(l for l in netns.links() if l["ifindex"] == iflink)


def bridged(address, gateway="10.0.3.1", mtu=None):
    opts = ["--net", "bridge", "--net-bridge", "br0", "--net-address", address, "--net-gateway", gateway]
    return opts + (["--net-mtu", str(mtu)] if mtu else [])


def test_two_bridged_containers_ping_each_other_and_the_gateway(netns, make_bundle):
    netns.bridge()
    # A by the command line, B by annotations in config.json: the same settings.
    a = make_bundle()
    allow_ping(a)
    a.sh("cat /sys/class/net/eth0/mtu /sys/class/net/eth0/iflink; echo ready; read go; "
         "ping -c1 -W2 10.0.3.3 >/dev/null && ping -c1 -W2 10.0.3.1 >/dev/null && echo a-ok")
    b = make_bundle()
    allow_ping(b)
    annotate(b, net_mode="bridge", net_bridge="br0", net_address="10.0.3.3/24", net_gateway="10.0.3.1",
             net_mtu="1400")
    b.sh("ping -c1 -W2 10.0.3.2 >/dev/null && ping -c1 -W2 10.0.3.1 >/dev/null && echo b-ok; "
         "cat /sys/class/net/eth0/iflink /sys/class/net/eth0/mtu; ip route | grep default; read go")
    pa = netns.popen_run(a, opts=bridged("10.0.3.2/24", mtu=1400))
    mtu_a, iflink_a, ready = (read_line(pa.stdout).strip() for _ in range(3))
    assert ready == "ready", pa.stderr.read()
    pb = netns.popen_run(b)
    assert read_line(pb.stdout).strip() == "b-ok", pb.stderr.read()
    iflink_b = int(read_line(pb.stdout))
    mtu_b = read_line(pb.stdout).strip()
    assert read_line(pb.stdout).split()[:3] == ["default", "via", "10.0.3.1"]
    # MTU on both ends of both pairs, the host ends up in the bridge.
    assert mtu_a == mtu_b == "1400"
    for iflink in (int(iflink_a), iflink_b):
        end = host_end(netns, iflink)
        assert end["mtu"] == 1400 and end["master"] == "br0" and "UP" in end["flags"]
    pa.stdin.write(b"go\n")
    pa.stdin.close()
    assert read_line(pa.stdout).strip() == "a-ok"
    assert pa.wait(TIMEOUT) == 0
    pb.stdin.write(b"go\n")
    pb.stdin.close()
    assert pb.wait(TIMEOUT) == 0
    # Both ran in the foreground and were deleted: no veth is left behind.
    assert netns.links("veth") == []


def test_host_end_removed_on_delete(netns, make_bundle, berth):
    netns.bridge()
    bundle = make_bundle()
    bundle.set_args("sleep", "1000")
    id = netns.run_detached(bundle, opts=bridged("10.0.3.4/24", mtu=1280)).id
    (veth,) = netns.links("veth")
    assert veth["mtu"] == 1280 and veth["master"] == "br0"
    # `state` keeps its annotations: the options are recorded like config.json's.
    ann = berth.state(id)["annotations"]
    assert ann["berth.net.address"] == "10.0.3.4/24" and ann["berth.net.mode"] == "bridge"
    netns.delete(id)
    assert netns.links("veth") == []


def test_ipv6_and_mac(netns, make_bundle):
    netns.bridge(addr6="fd00:3::1/64")
    bundle = make_bundle()
    allow_ping(bundle)
    bundle.sh("cat /sys/class/net/eth0/address; ip -6 addr show dev eth0 | grep -o 'fd00:3::2/64'; "
              "ip -6 route | grep default; ping -6 -c1 -W2 fd00:3::1 >/dev/null && echo ping6-ok")
    r = netns.run_container(bundle, opts=["--net-bridge", "br0", "--net-address6", "fd00:3::2/64",
                                          "--net-gateway6", "fd00:3::1", "--net-mac", "02:42:0a:00:03:09"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "02:42:0a:00:03:09"
    assert lines[1] == "fd00:3::2/64"
    assert lines[2].split()[:3] == ["default", "via", "fd00:3::1"]
    assert lines[3] == "ping6-ok"


def test_ifname(netns, make_bundle):
    netns.bridge()
    bundle = make_bundle()
    bundle.sh("ls /sys/class/net")
    r = netns.run_container(bundle, opts=["--net-bridge", "br0", "--net-ifname", "net0"])
    assert r.returncode == 0, r.stderr
    assert "net0" in r.stdout.split() and "eth0" not in r.stdout.split()


def test_none_has_only_lo_up(netns, make_bundle):
    bundle = make_bundle()
    allow_ping(bundle)
    bundle.remove_ns("network")  # `none` asks for a new namespace itself
    bundle.sh("readlink /proc/self/ns/net; ls /sys/class/net; cat /sys/class/net/lo/flags; "
              "ping -c1 -W2 127.0.0.1 >/dev/null && echo lo-ok")
    r = netns.run_container(bundle, opts=["--net", "none"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split()
    assert lines[0] != ns_inode("self", "network")
    assert "lo" in lines and not any(l.startswith(("eth", "veth")) for l in lines)
    flags = int(next(l for l in lines if l.startswith("0x")), 16)
    assert flags & 1  # IFF_UP
    assert lines[-1] == "lo-ok"
    assert netns.links("veth") == []


@pytest.mark.parametrize("by", ["options", "annotations"])
def test_join_network_and_ipc_of_another_container(netns, make_bundle, by):
    netns.bridge()
    first = make_bundle()
    first.set_args("sleep", "1000")
    a = netns.run_detached(first, opts=bridged("10.0.3.5/24")).id
    second = make_bundle()
    second.sh("cat /sys/class/net/eth0/address; sleep 1000")
    if by == "options":
        opts = ["--net", f"container:{a}", "--ipc", f"container:{a}"]
    else:
        annotate(second, net_container=a, ipc_container=a)
        opts = []
    b = netns.run_detached(second, opts=opts).id
    pa, pb = netns.berth.state(a)["pid"], netns.berth.state(b)["pid"]
    for kind in ("network", "ipc"):
        assert ns_inode(pb, kind) == ns_inode(pa, kind), kind
        assert ns_inode(pb, kind) != ns_inode("self", kind), kind
    assert ns_inode(pb, "uts") != ns_inode(pa, "uts")
    # Joining made no second pair.
    assert len(netns.links("veth")) == 1


# ---------------------------------------------------------------- bad input

def expect_failure(netns, berth, bundle, opts, message):
    bundle.set_args("true")
    r = netns.run_container(bundle, opts=opts)
    assert r.returncode == 1
    assert message in r.stderr, r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)
    assert netns.links("veth") == []
    return r


@pytest.mark.parametrize("opts, message", [
    (["--net-bridge", "nobr0"], "berth.net.bridge: bridge `nobr0` does not exist"),
    (["--net-bridge", "lo"], "berth.net.bridge: `lo` is not a bridge"),
    (["--net-bridge", "br0", "--net-address", "10.0.3.300/24"],
     "berth.net.address: expected an IPv4 address with a prefix length, like `10.0.3.2/24`, got `10.0.3.300/24`"),
    (["--net-bridge", "br0", "--net-address", "10.0.3.2/33"], "got `10.0.3.2/33`"),
    (["--net-bridge", "br0", "--net-address", "10.0.3.2/24", "--net-gateway", "10.9.9.1"],
     "berth.net.gateway: not in the subnet of berth.net.address"),
    (["--net-bridge", "br0", "--net-mtu", "70000"],
     "berth.net.mtu: expected an integer between 68 and 65535, got `70000`"),
    (["--net-bridge", "br0", "--net-mtu", "big"], "got `big`"),
    (["--net-bridge", "br0", "--net-mac", "ff:ff:ff:ff:ff:ff"], "berth.net.mac: `ff:ff:ff:ff:ff:ff` is not a unicast"),
    (["--net", "container:nope"], "berth.net.container: container `nope` does not exist"),
    (["--ipc", "container:nope"], "berth.ipc.container: container `nope` does not exist"),
    (["--net", "none", "--net-address", "10.0.3.2/24"], "berth.net.address: requires berth.net.mode `bridge`"),
    (["--net", "bogus"], "--net: expected `none`, `bridge` or `container:ID`, got `bogus`"),
    (["--ipc", "host"], "--ipc: expected `container:ID`, got `host`"),
])
def test_bad_network_options(netns, berth, bundle, opts, message):
    netns.bridge()
    expect_failure(netns, berth, bundle, opts, message)


def test_bad_network_annotations_in_config(netns, berth, bundle):
    netns.bridge()
    annotate(bundle, net_bridge="br0", net_mtu="12")
    expect_failure(netns, berth, bundle, [], "berth.net.mtu: expected an integer between 68 and 65535, got `12`")
    annotate(bundle, net_mtu="1500", net_adress="10.0.3.2/24")
    expect_failure(netns, berth, bundle, [], "berth.net.adress: unknown setting")


def test_join_a_stopped_container_fails(netns, berth, make_bundle):
    stopped = make_bundle()
    stopped.set_args("true")
    r = netns.run_container(stopped, opts=["--keep"])
    assert r.returncode == 0, r.stderr
    assert berth.status(r.id) == "stopped"
    joiner = make_bundle()
    expect_failure(netns, berth, joiner, ["--net", f"container:{r.id}"],
                   f"berth.net.container: container `{r.id}` is not running")


def test_network_path_conflicts_with_mode(netns, berth, bundle):
    bundle.set_ns("network", netns.path)
    expect_failure(netns, berth, bundle, ["--net", "none"], "berth.net.mode: conflicts with the network namespace path")


def test_failure_after_the_pair_exists_removes_it(netns, berth, bundle, tmp_path):
    # A createRuntime hook runs once the veth pair exists; its failure must take the pair away.
    netns.bridge()
    hook = tmp_path / "fail.sh"
    hook.write_text("#!/bin/sh\nip link show type veth | grep -q vb && exit 7\nexit 8\n")
    hook.chmod(0o755)
    bundle.config["hooks"] = {"createRuntime": [{"path": str(hook), "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}]}
    r = expect_failure(netns, berth, bundle, bridged("10.0.3.6/24"), "exited with status 7")
    assert "hooks.createRuntime[0]" in r.stderr
