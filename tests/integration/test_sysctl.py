"""Kernel settings: linux.sysctl (only what belongs to a namespace the
container has of its own), linux.timeOffsets with a new time namespace,
linux.personality."""

import os
import platform
import subprocess

import pytest

from conftest import ns_inode, wait_for


def read_host(path):
    with open(path) as f:
        return f.read()


def create_fails(berth, bundle, message):
    r = berth.run_container(bundle)
    assert r.returncode == 1, r.stdout
    assert message in r.stderr, r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)
    return r


# ---------------------------------------------------------------- sysctl

SETTINGS = {  # key: (value, the namespace it needs)
    "net.ipv4.ip_forward": ("1", "network"),
    "net.ipv4.conf.all.rp_filter": ("2", "network"),
    "kernel.shmmax": ("123456789", "ipc"),
    "kernel.msgmax": ("4096", "ipc"),
    "kernel.sem": ("250\t32000\t32\t64", "ipc"),
    "fs.mqueue.msg_max": ("20", "ipc"),
    "kernel.domainname": ("sysctl.example", "uts"),
}


def sysctl_path(key):
    return "/proc/sys/" + key.replace(".", "/")


def test_sysctl_set_inside_only(berth, bundle):
    before = {k: read_host(sysctl_path(k)) for k in SETTINGS}
    bundle.linux["sysctl"] = {k: v for k, (v, _) in SETTINGS.items()}
    script = "; ".join(f"echo \"$(cat {sysctl_path(k)})\"" for k in SETTINGS)
    out = berth.sh(bundle, script).splitlines()
    for (key, (value, _)), got in zip(SETTINGS.items(), out):
        assert got == value, key
    assert {k: read_host(sysctl_path(k)) for k in SETTINGS} == before, "the host's settings changed"


@pytest.mark.parametrize("key", list(SETTINGS))
def test_sysctl_requires_namespace(berth, bundle, key):
    value, ns = SETTINGS[key]
    bundle.remove_ns(ns)
    if ns == "uts":
        bundle.config.pop("hostname", None)
    bundle.linux["sysctl"] = {key: value}
    words = {"network": "network", "ipc": "IPC", "uts": "UTS"}[ns]
    create_fails(berth, bundle, f"linux.sysctl: `{key}` requires a new {words} namespace")


@pytest.mark.parametrize("key", ["vm.swappiness", "kernel.panic", "fs.file-max", "kernel.pid_max"])
def test_sysctl_not_namespaced_refused(berth, bundle, key):
    bundle.linux["sysctl"] = {key: "1"}
    create_fails(berth, bundle, f"linux.sysctl: `{key}` is not namespaced: it would change the host")


@pytest.mark.parametrize("key", ["net/ipv4/ip_forward", "net.ipv4..ip_forward", "net..", ".net.ipv4",
                                 "net.ipv4.conf.all.rp_filter.", "net.ipv4/../../kernel/core_pattern",
                                 "net.ipv4.conf.*.forwarding", "net. ipv4"])
def test_sysctl_bad_keys(berth, bundle, key):
    bundle.linux["sysctl"] = {key: "1"}
    create_fails(berth, bundle, f"linux.sysctl: invalid key `{key}`")


def test_sysctl_value_must_be_string(berth, bundle):
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": 1}
    create_fails(berth, bundle, "linux.sysctl.net.ipv4.ip_forward: expected a string")


def test_sysctl_in_the_hosts_namespace_refused(berth, bundle):
    bundle.set_ns("network", "/proc/self/ns/net")
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    create_fails(berth, bundle, "linux.sysctl: `net.ipv4.ip_forward` would change the host: the network "
                                "namespace `/proc/self/ns/net` is the caller's own")


def test_sysctl_in_a_joined_namespace(berth, bundle, spawn):
    holder = spawn(["unshare", "--net", "sleep", "60"])
    wait_for(lambda: ns_inode(holder.pid, "network") != ns_inode("self", "network"),
             what="unshare to make its namespace")
    host = read_host("/proc/sys/net/ipv4/ip_forward")
    bundle.set_ns("network", f"/proc/{holder.pid}/ns/net")
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    assert berth.sh(bundle, "cat /proc/sys/net/ipv4/ip_forward") == "1\n"
    seen = subprocess.run(["nsenter", "-t", str(holder.pid), "-n", "cat", "/proc/sys/net/ipv4/ip_forward"],
                          capture_output=True, text=True, check=True).stdout
    assert seen == "1\n", "the joined namespace did not get the setting"
    assert read_host("/proc/sys/net/ipv4/ip_forward") == host


def test_sysctl_conflicts_with_field(berth, bundle):
    bundle.config["domainname"] = "field.example"
    bundle.linux["sysctl"] = {"kernel.domainname": "sysctl.example"}
    create_fails(berth, bundle, "linux.sysctl: `kernel.domainname` conflicts with `domainname`")


def test_sysctl_unknown_setting(berth, bundle):
    bundle.linux["sysctl"] = {"net.ipv4.no_such_setting": "1"}
    create_fails(berth, bundle, "linux.sysctl: set `net.ipv4.no_such_setting` to `1`: No such file or directory")


def test_sysctl_bad_value(berth, bundle):
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "not-a-number"}
    create_fails(berth, bundle, "linux.sysctl: set `net.ipv4.ip_forward` to `not-a-number`: Invalid argument")


def test_sysctl_with_user_namespace(berth, make_bundle):
    bundle = make_bundle(traversable=True)
    bundle.set_ns("user")
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.config.pop("hostname", None)
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "55555", "fs.mqueue.msg_max": "33",
                              "kernel.hostname": "userns-host", "kernel.domainname": "userns.example"}
    out = berth.sh(bundle, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax "
                           "/proc/sys/fs/mqueue/msg_max; hostname; cat /proc/sys/kernel/domainname")
    assert out.split() == ["1", "55555", "33", "userns-host", "userns.example"]


def test_sysctl_hostname(berth, bundle):
    before = read_host("/proc/sys/kernel/hostname")
    bundle.config.pop("hostname", None)
    bundle.linux["sysctl"] = {"kernel.hostname": "from-sysctl"}
    assert berth.sh(bundle, "hostname") == "from-sysctl\n"
    assert read_host("/proc/sys/kernel/hostname") == before


def test_sysctl_hostname_conflicts_with_field(berth, bundle):
    bundle.config["hostname"] = "field"
    bundle.linux["sysctl"] = {"kernel.hostname": "from-sysctl"}
    create_fails(berth, bundle, "linux.sysctl: `kernel.hostname` conflicts with `hostname`")


# ---------------------------------------------------------------- timeOffsets

def uptime_inside(berth, bundle):
    return float(berth.sh(bundle, "cut -d' ' -f1 /proc/uptime"))


def host_uptime():
    return float(read_host("/proc/uptime").split()[0])


def test_time_offsets(berth, bundle):
    bundle.set_ns("time")
    day = 86400
    bundle.linux["timeOffsets"] = {"monotonic": {"secs": 7 * day, "nanosecs": 500}, "boottime": {"secs": day}}
    out = berth.sh(bundle, "cat /proc/self/timens_offsets; cut -d' ' -f1 /proc/uptime")
    lines = out.splitlines()
    assert lines[0].split() == ["monotonic", str(7 * day), "500"]
    assert lines[1].split() == ["boottime", str(day), "0"]
    inside = float(lines[2])
    # /proc/uptime follows CLOCK_BOOTTIME: a day ahead of the host's (no timing
    # involved: the day dwarfs the time the container took to start).
    assert day - 60 < inside - host_uptime() < day + 60


def test_time_offsets_negative(berth, bundle):
    bundle.set_ns("time")
    up = int(host_uptime())
    assert up > 20, "needs a host up for more than 20 seconds"
    bundle.linux["timeOffsets"] = {"boottime": {"secs": -10}}
    assert berth.sh(bundle, "cat /proc/self/timens_offsets").split()[3:6] == ["boottime", "-10", "0"]


def test_time_namespace_without_offsets(berth, bundle):
    bundle.set_ns("time")
    out = berth.sh(bundle, "readlink /proc/self/ns/time; cat /proc/self/timens_offsets")
    lines = out.splitlines()
    assert lines[0] != ns_inode("self", "time")
    assert lines[1].split() == ["monotonic", "0", "0"]


def test_time_offsets_require_time_namespace(berth, bundle):
    bundle.remove_ns("time")
    bundle.linux["timeOffsets"] = {"monotonic": {"secs": 1}}
    create_fails(berth, bundle, "linux.timeOffsets: requires a new time namespace")


def test_time_offsets_joined_namespace_refused(berth, bundle):
    bundle.set_ns("time", "/proc/self/ns/time")
    bundle.linux["timeOffsets"] = {"monotonic": {"secs": 1}}
    create_fails(berth, bundle, "linux.timeOffsets: requires a new time namespace")


@pytest.mark.parametrize("offsets,message", [
    ({"realtime": {"secs": 1}}, "linux.timeOffsets.realtime: unknown clock (expected `monotonic` or `boottime`)"),
    ({"monotonic": {"secs": "1"}}, "linux.timeOffsets.monotonic.secs: expected an integer"),
    ({"monotonic": {"nanosecs": 1000000000}}, "linux.timeOffsets.monotonic.nanosecs: expected an integer between 0 and 999999999"),
    ({"boottime": []}, "linux.timeOffsets.boottime: expected an object"),
])
def test_time_offsets_bad_values(berth, bundle, offsets, message):
    bundle.set_ns("time")
    bundle.linux["timeOffsets"] = offsets
    create_fails(berth, bundle, message)


def test_time_offsets_out_of_range(berth, bundle):
    # The kernel refuses offsets that would make the clock negative.
    bundle.set_ns("time")
    bundle.linux["timeOffsets"] = {"boottime": {"secs": -int(host_uptime()) - 100000}}
    create_fails(berth, bundle, "linux.timeOffsets: write `boottime -")


def test_time_offsets_leave_caller_namespace(berth, bundle):
    # The parent unshares a time namespace for its child only; afterwards the
    # next container without offsets shares the host's again.
    bundle.set_ns("time")
    bundle.linux["timeOffsets"] = {"monotonic": {"secs": 5}}
    first = berth.sh(bundle, "readlink /proc/self/ns/time")
    bundle.remove_ns("time")
    bundle.linux.pop("timeOffsets")
    assert berth.sh(bundle, "readlink /proc/self/ns/time") == ns_inode("self", "time") + "\n"
    assert first != ns_inode("self", "time") + "\n"


# ---------------------------------------------------------------- personality

@pytest.mark.skipif(platform.machine() != "x86_64", reason="the LINUX32 check expects an x86_64 host")
def test_personality_linux32(berth, bundle):
    bundle.linux["personality"] = {"domain": "LINUX32"}
    assert berth.sh(bundle, "uname -m") == "i686\n"


def test_personality_linux(berth, bundle):
    bundle.linux["personality"] = {"domain": "LINUX", "flags": []}
    assert berth.sh(bundle, "uname -m") == os.uname().machine + "\n"


@pytest.mark.parametrize("personality,message", [
    ({"domain": "SVR4"}, "linux.personality.domain: unknown domain `SVR4` (expected `LINUX` or `LINUX32`)"),
    ({}, "linux.personality.domain: required"),
    ({"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}, "linux.personality.flags: unknown flag `ADDR_NO_RANDOMIZE`"),
    ({"domain": "LINUX", "flags": "x"}, "linux.personality.flags: expected an array of strings"),
])
def test_personality_bad(berth, bundle, personality, message):
    bundle.linux["personality"] = personality
    create_fails(berth, bundle, message)
