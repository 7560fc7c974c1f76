"""linux.namespaces (new and joined by path), hostname, domainname."""

import socket

import pytest

from conftest import NS_PROC_NAME, ns_inode, wait_for

NEW_KINDS = ["pid", "network", "mount", "ipc", "uts", "cgroup", "time"]


def ns_links_inside(berth, bundle, kinds):
    script = "; ".join(f"readlink /proc/self/ns/{NS_PROC_NAME[k]}" for k in kinds)
    return dict(zip(kinds, berth.sh(bundle, script).split()))


def minimal_userns_bundle(make_bundle):
    """A user namespace mapping container 0 -> host 100000 (65536 ids), with
    only /proc and /dev mounted: the rest of the default mounts under a user
    namespace is the filesystem issue's."""
    bundle = make_bundle(traversable=True)
    bundle.set_ns("user")
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.keep_only_mounts("/proc", "/dev")
    bundle.linux.pop("maskedPaths", None)
    bundle.linux.pop("readonlyPaths", None)
    return bundle


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_new_namespace(berth, bundle, kind):
    bundle.set_ns(kind)
    inside = ns_links_inside(berth, bundle, [kind])[kind]
    assert inside.startswith(NS_PROC_NAME[kind] + ":[")
    assert inside != ns_inode("self", kind)


def test_user_namespace(berth, make_bundle):
    bundle = minimal_userns_bundle(make_bundle)
    out = berth.sh(bundle, "readlink /proc/self/ns/user; cat /proc/self/uid_map /proc/self/gid_map; id -u")
    lines = out.splitlines()
    assert lines[0] != ns_inode("self", "user")
    assert lines[1].split() == ["0", "100000", "65536"]
    assert lines[2].split() == ["0", "100000", "65536"]
    assert lines[3] == "0"


def test_user_namespace_host_view(berth, make_bundle):
    # Seen from the host, the container's root is uid 100000.
    bundle = minimal_userns_bundle(make_bundle)
    bundle.set_args("sleep", "100")
    id = berth.create(bundle).id
    pid = berth.state(id)["pid"]
    with open(f"/proc/{pid}/status") as f:
        uid_line = next(l for l in f if l.startswith("Uid:"))
    assert uid_line.split()[1:] == ["100000"] * 4


def test_all_namespaces_at_once(berth, make_bundle):
    bundle = minimal_userns_bundle(make_bundle)
    for kind in NEW_KINDS:
        bundle.set_ns(kind)
    kinds = NEW_KINDS + ["user"]
    inside = ns_links_inside(berth, bundle, kinds)
    for kind in kinds:
        assert inside[kind] != ns_inode("self", kind), kind


@pytest.mark.parametrize("kind", ["network", "ipc", "uts", "cgroup"])
def test_namespace_not_requested_is_shared(berth, bundle, kind):
    bundle.remove_ns(kind)
    if kind == "uts":
        bundle.config.pop("hostname", None)
        bundle.config.pop("domainname", None)
    assert ns_links_inside(berth, bundle, [kind])[kind] == ns_inode("self", kind)


def test_pid_1(berth, bundle):
    bundle.set_ns("pid")
    assert berth.sh(bundle, "echo $$") == "1\n"


def test_no_pid_namespace(berth, bundle):
    bundle.remove_ns("pid")
    pid = int(berth.sh(bundle, "echo $$"))
    assert pid > 1


@pytest.mark.parametrize("kind", ["network", "ipc", "uts"])
def test_join_namespace_by_path(berth, bundle, spawn, kind):
    flag = {"network": "--net", "ipc": "--ipc", "uts": "--uts"}[kind]
    holder = spawn(["unshare", flag, "sleep", "60"])
    wait_for(lambda: ns_inode(holder.pid, kind) != ns_inode("self", kind),
             what="unshare to make its namespace")
    want = ns_inode(holder.pid, kind)
    bundle.set_ns(kind, f"/proc/{holder.pid}/ns/{NS_PROC_NAME[kind]}")
    if kind == "uts":
        bundle.config.pop("hostname", None)
        bundle.config.pop("domainname", None)
    assert ns_links_inside(berth, bundle, [kind])[kind] == want


def test_hostname(berth, bundle):
    before = socket.gethostname()
    bundle.set_ns("uts")
    bundle.config["hostname"] = "berth-test-host"
    assert berth.sh(bundle, "hostname") == "berth-test-host\n"
    assert socket.gethostname() == before


def test_domainname(berth, bundle):
    with open("/proc/sys/kernel/domainname") as f:
        before = f.read()
    bundle.set_ns("uts")
    bundle.config["domainname"] = "example.test"
    assert berth.sh(bundle, "cat /proc/sys/kernel/domainname") == "example.test\n"
    with open("/proc/sys/kernel/domainname") as f:
        assert f.read() == before
