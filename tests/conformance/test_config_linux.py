"""config-linux.md: namespaces, devices, cgroups (path, device list,
memory, unified, the other controllers' required fields), Intel RDT,
seccomp (errno, the listener), masked and read-only paths, and the fields
of later spec versions."""

import json
import os
import socket
import subprocess
import threading

import pytest

from conftest import TIMEOUT, clause, controller_dir, expect_error, ns_inode, own_cgroups, state

NS_TYPES = ["pid", "network", "ipc", "uts", "mount", "cgroup", "user", "time"]


def sleeper(bundle):
    bundle.set_args("sleep", "1000")


def holder(kind):
    """A process of the test's own in a new namespace of `kind` (unshare)."""
    flag = {"network": "--net", "uts": "--uts", "ipc": "--ipc", "pid": "--pid", "cgroup": "--cgroup",
            "time": "--time", "mount": "--mount", "user": "--user"}[kind]
    p = subprocess.Popen(["unshare", flag, "--", "sh", "-c", "echo in; exec sleep 1000"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    assert p.stdout.readline().strip() == b"in"
    return p


# ---------------------------------------------------------------- namespaces

@clause("config-linux/namespace-path-absolute")
def test_a_relative_namespace_path_is_refused(berth, bundle):
    bundle.set_ns("network", "proc/1/ns/net")
    expect_error(berth, bundle, "linux.namespaces[", command="create")


@clause("config-linux/namespace-path-joined")
@pytest.mark.parametrize("kind", ["network", "uts", "ipc"])
def test_a_namespace_path_is_joined(berth, bundle, kind):
    h = holder(kind)
    try:
        bundle.set_ns(kind, f"/proc/{h.pid}/ns/{ {'network': 'net'}.get(kind, kind) }")
        sleeper(bundle)
        id = berth.run_detached(bundle).id
        assert ns_inode(state(berth, id)["pid"], kind) == ns_inode(h.pid, kind)
        berth.run(["delete", "--force", id], check=True)
    finally:
        h.kill()
        h.wait()


@clause("config-linux/namespace-path-wrong-type")
def test_a_path_of_another_type_is_an_error(berth, bundle):
    h = holder("uts")
    try:
        bundle.set_ns("network", f"/proc/{h.pid}/ns/uts")
        expect_error(berth, bundle, "linux.namespaces: network path", command="create")
    finally:
        h.kill()
        h.wait()


@clause("config-linux/namespace-new")
@pytest.mark.parametrize("kind", NS_TYPES)
def test_a_namespace_without_path_is_new(berth, make_bundle, kind):
    # A user namespace's root is an unprivileged host uid: it needs a bundle it can reach.
    bundle = make_bundle(traversable=kind == "user")
    bundle.set_ns(kind)
    if kind == "user":
        bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    sleeper(bundle)
    id = berth.run_detached(bundle).id
    assert ns_inode(state(berth, id)["pid"], kind) != ns_inode(os.getpid(), kind)


@clause("config-linux/namespace-inherited")
@pytest.mark.parametrize("kind", ["pid", "network", "ipc", "uts", "cgroup", "user", "time"])
def test_a_namespace_not_listed_is_the_runtime_s(berth, bundle, kind):
    bundle.remove_ns(kind)
    if kind == "uts":
        bundle.config.pop("hostname", None)  # it would be the host's: berth refuses that
    sleeper(bundle)
    id = berth.run_detached(bundle).id
    assert ns_inode(state(berth, id)["pid"], kind) == ns_inode(os.getpid(), kind)


@clause("config-linux/namespace-duplicate")
def test_a_duplicated_namespace_is_an_error(berth, bundle):
    bundle.linux["namespaces"].append({"type": "uts"})
    bundle.linux["namespaces"].append({"type": "uts"})
    expect_error(berth, bundle, "uts", command="create")


# ---------------------------------------------------------------- devices

@clause("config-linux/devices-available")
def test_listed_devices_are_in_the_container(berth, bundle):
    bundle.linux["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640, "uid": 7, "gid": 8},
        {"path": "/outside-dev/loop-like", "type": "b", "major": 7, "minor": 200, "fileMode": 0o600},
        {"path": "/dev/my-fifo", "type": "p", "fileMode": 0o620},
    ]
    out = berth.sh(bundle, "stat -c '%n %F %t:%T %a %u:%g' /dev/fuse /outside-dev/loop-like /dev/my-fifo")
    lines = out.strip().splitlines()
    assert lines[0] == "/dev/fuse character special file a:e5 640 7:8"
    assert lines[1].startswith("/outside-dev/loop-like block special file 7:c8 600")
    assert lines[2].startswith("/dev/my-fifo fifo") and " 620 " in lines[2]


@clause("config-linux/devices-existing-file-mismatch")
def test_a_file_in_the_way_of_a_device_is_an_error(berth, bundle):
    with open(os.path.join(bundle.rootfs, "not-a-device"), "w") as f:
        f.write("plain file")
    bundle.linux["devices"] = [{"path": "/not-a-device", "type": "c", "major": 1, "minor": 3}]
    expect_error(berth, bundle, "/not-a-device", command="create")


DEFAULT_DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9),
                   "tty": (5, 0)}


@clause("config-linux/default-devices")
def test_default_devices_are_supplied(berth, bundle):
    out = berth.sh(bundle, "for d in null zero full random urandom tty; do "
                           "stat -L -c '%n %F %t:%T' /dev/$d; done; "
                           "readlink /dev/ptmx || stat -c '%n %t:%T' /dev/ptmx; "
                           "head -c4 /dev/zero | od -An -tx1")
    lines = out.strip().splitlines()
    for line, (name, (major, minor)) in zip(lines, DEFAULT_DEVICES.items()):
        assert line == f"/dev/{name} character special file {major:x}:{minor:x}", line
    assert lines[6] in ("pts/ptmx", "/dev/pts/ptmx") or lines[6].endswith("5:2"), lines[6]
    assert lines[7].split() == ["00", "00", "00", "00"]


@clause("config-linux/default-devices")
def test_dev_console_with_a_terminal(berth, bundle, tmp_path):
    """With process.terminal, /dev/console is the pty (a bind of its slave)."""
    path = str(tmp_path / "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(TIMEOUT)
    bundle.config["process"]["terminal"] = True
    bundle.sh("[ /dev/console -ef $(tty) ] && echo console-is-the-tty; sleep 1000")
    got = {}

    def accept():
        conn, _ = srv.accept()
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 1024, 1)
        got["master"] = fds[0]
    t = threading.Thread(target=accept)
    t.start()
    try:
        id = berth.run_detached(bundle, opts=["--console-socket", path]).id
        t.join(TIMEOUT)
        master = got["master"]
        buf = b""
        while b"console-is-the-tty" not in buf:
            chunk = os.read(master, 1024)
            assert chunk, buf
            buf += chunk
        os.close(master)
        berth.run(["delete", "--force", id], check=True)
    finally:
        srv.close()


# ---------------------------------------------------------------- cgroups

@clause("config-linux/cgroupsPath-absolute")
def test_an_absolute_cgroupsPath_is_taken_from_the_mount_point(berth, bundle):
    """(Below the test's own cgroup, as every cgroup of this suite.)"""
    # One absolute path for every hierarchy: below the deepest of our own
    # cgroups, which must lie below the others (on this kind of host we are
    # at the root of every hierarchy but memory).
    own = own_cgroups()
    deepest = max((p for _, p, _ in own), key=len)
    if not all(deepest == p or deepest.startswith(p.rstrip("/") + "/") for _, p, _ in own):
        pytest.skip(f"the caller's cgroups are not nested ({sorted(p for _, p, _ in own)}): an absolute "
                    "cgroupsPath cannot stay below all of them")
    absolute = f"{deepest.rstrip('/')}/abs-{os.getpid()}"
    bundle.linux["cgroupsPath"] = absolute
    sleeper(bundle)
    id = berth.new_id()
    bundle.write()  # not tracked: the teardown only knows relative paths; checked here
    before = {os.path.normpath(os.path.join(d, os.path.relpath(deepest, p))) for _, p, d in own
              if os.path.isdir(os.path.join(d, os.path.relpath(deepest, p)))}
    berth.run(["run", "-d", "--bundle", bundle.path, id], check=True)
    dirs = [os.path.normpath(os.path.join(d, os.path.relpath(absolute, p))) for _, p, d in own]
    made = [x for x in (os.path.dirname(x) for x in dirs) if x not in before]
    assert all(os.path.isdir(x) for x in dirs), dirs
    berth.run(["delete", "--force", id], check=True)
    assert not any(os.path.exists(x) for x in dirs)
    # and what it made above the leaf in the other hierarchies is gone too
    assert not [x for x in made if os.path.exists(x)]


@clause("config-linux/cgroupsPath-consistent")
def test_the_same_cgroupsPath_lands_in_the_same_place(berth, bundle):
    rel = f"same-{os.getpid()}/ctr"
    bundle.linux["cgroupsPath"] = rel
    sleeper(bundle)
    seen = []
    for _ in range(2):
        id = berth.run_detached(bundle).id
        pid = state(berth, id)["pid"]
        with open(f"/proc/{pid}/cgroup") as f:
            seen.append(sorted(f.read().splitlines()))
        berth.run(["delete", "--force", id], check=True)
        berth.leftovers(id, cgroups_path=rel)
    assert seen[0] == seen[1]
    assert all(line.endswith("/" + rel) for line in seen[0] if not line.startswith(("0::/", "0::")) or True)


@clause("config-linux/cgroupsPath-invalid")
@pytest.mark.parametrize("path", ["../escape", "a/../../b", ".."])
def test_an_invalid_cgroupsPath_is_an_error(berth, bundle, path):
    bundle.linux["cgroupsPath"] = path
    bundle.write()
    before = {d: sorted(os.listdir(d)) for _, _, d in own_cgroups()}
    id = berth.new_id()  # not tracked: the teardown cannot place such a path
    r = berth.run(["create", "--bundle", bundle.path, id])
    assert r.returncode == 1 and "linux.cgroupsPath" in r.stderr, r.stderr
    assert {d: sorted(os.listdir(d)) for _, _, d in own_cgroups()} == before
    assert not os.path.exists(os.path.join(berth.root, id))


@clause("config-linux/devices-cgroup-in-order")
@pytest.mark.parametrize("order", ["deny-then-allow", "allow-then-deny"])
def test_the_device_list_applies_in_order(berth, bundle, order):
    """A node of an unused major: with access allowed opening it fails with
    ENXIO (no driver), with access denied by the cgroup with EPERM."""
    deny = {"allow": False, "access": "rw"}
    allow = {"allow": True, "type": "c", "major": 242, "minor": 42, "access": "rw"}
    bundle.linux.setdefault("resources", {})["devices"] = [deny, allow] if order == "deny-then-allow" \
        else [allow, deny]
    # Made by the container itself (a linux.devices entry would be allowed on top, as runc does).
    caps = bundle.config["process"]["capabilities"]
    for s in ("bounding", "effective", "permitted"):
        caps[s] = sorted(set(caps.get(s, [])) | {"CAP_MKNOD"})
    out = berth.sh(bundle, "mknod /dev/probe c 242 42 && cat /dev/probe 2>&1; true")
    if order == "deny-then-allow":
        assert "No such device or address" in out, out
    else:
        assert "Operation not permitted" in out, out


@clause("config-linux/memory-checkBeforeUpdate")
def test_checkBeforeUpdate_refuses_a_limit_below_usage(berth, bundle):
    if controller_dir("x", "memory") is None:
        pytest.skip("no memory controller")
    bundle.linux.setdefault("resources", {})["memory"] = {"limit": 256 << 20}
    sleeper(bundle)
    id = berth.run_detached(bundle).id
    r = berth.run(["update", "--resources", "-", id],
                  input=json.dumps({"memory": {"limit": 4096, "checkBeforeUpdate": True}}))
    assert r.returncode == 1 and "is below the container's memory usage" in r.stderr, r.stderr
    with open(os.path.join(controller_dir(id, "memory"), "memory.limit_in_bytes")) as f:
        assert int(f.read()) == 256 << 20


def unified_dir(id):
    return controller_dir(id, "")


@clause("config-linux/unified-written", "config-linux/unified-controllers-enabled")
def test_unified_keys_are_written(berth, bundle):
    if not any(c == "" for c, _, _ in own_cgroups()):
        pytest.skip("no cgroup2 hierarchy")
    with open(os.path.join([d for c, _, d in own_cgroups() if c == ""][0], "cgroup.controllers")) as f:
        available = f.read().split()
    if "hugetlb" not in available:
        pytest.skip("cgroup2 here has no hugetlb controller to write to")
    kb = sorted(int(n[len("hugepages-"):-2]) for n in os.listdir("/sys/kernel/mm/hugepages"))
    if not kb:
        pytest.skip("no huge page sizes")
    size = f"{kb[0] // 1024}MB" if kb[0] < 1 << 20 else f"{kb[0] >> 20}GB"
    key = f"hugetlb.{size}.max"
    bundle.linux.setdefault("resources", {})["unified"] = {key: "2097152"}
    sleeper(bundle)
    id = berth.run_detached(bundle).id
    with open(os.path.join(unified_dir(id), key)) as f:
        assert f.read().strip() == "2097152"


@clause("config-linux/unified-missing-controller")
def test_unified_for_a_controller_cgroup2_lacks_is_an_error(berth, bundle):
    if not any(c == "" for c, _, _ in own_cgroups()):
        pytest.skip("no cgroup2 hierarchy")
    with open(os.path.join([d for c, _, d in own_cgroups() if c == ""][0], "cgroup.controllers")) as f:
        if "pids" in f.read().split():
            pytest.skip("cgroup2 here has the pids controller")
    bundle.linux.setdefault("resources", {})["unified"] = {"pids.max": "10"}
    expect_error(berth, bundle, "linux.resources.unified.pids.max", command="create")


@clause("config-linux/unified-conversion-impossible")
def test_a_v1_setting_without_a_v1_controller_is_an_error(berth, bundle):
    if any("net_cls" in c.split(",") for c, _, _ in own_cgroups()):
        pytest.skip("this host has a v1 net_cls hierarchy")
    bundle.linux.setdefault("resources", {})["network"] = {"classID": 1048577}
    expect_error(berth, bundle, "linux.resources.network.classID", command="create")


@clause("config-linux/intelRdt-no-resctrl")
def test_intelRdt_without_resctrl_is_an_error(berth, bundle):
    bundle.linux["intelRdt"] = {"closID": "guaranteed_group", "l3CacheSchema": "L3:0=7f0"}
    expect_error(berth, bundle, "linux.intelRdt", command="create")


# ---------------------------------------------------------------- seccomp

@clause("config-linux/seccomp-errnoRet-unsupported")
@pytest.mark.parametrize("where", ["syscalls", "default"])
def test_an_errno_on_an_action_without_one_is_an_error(berth, bundle, where):
    sec = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]}
    if where == "syscalls":
        sec["syscalls"].append({"names": ["mkdir"], "action": "SCMP_ACT_ALLOW", "errnoRet": 5})
        message = "linux.seccomp.syscalls[1]"
    else:
        sec["defaultErrnoRet"] = 5
        message = "linux.seccomp.defaultErrnoRet"
    bundle.linux["seccomp"] = sec
    expect_error(berth, bundle, message, command="create")


@clause("config-linux/seccomp-names-not-empty")
def test_a_rule_without_names_is_an_error(berth, bundle):
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                               "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]}
    expect_error(berth, bundle, "linux.seccomp.syscalls[0].names", command="create")


@clause("config-linux/seccomp-metadata-needs-listener")
def test_listenerMetadata_without_listenerPath_is_an_error(berth, bundle):
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x",
                               "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]}
    expect_error(berth, bundle, "linux.seccomp.listenerMetadata", command="create")


def notify_config(path):
    return {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": path, "listenerMetadata": "meta-data",
            "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_NOTIFY"}]}


@clause("config-linux/seccomp-listener-socket", "config-linux/seccomp-listener-one-state",
        "config-linux/container-process-state")
def test_the_listener_gets_one_state_and_the_fd_then_the_connection_closes(berth, bundle, tmp_path):
    path = str(tmp_path / "agent.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    srv.settimeout(TIMEOUT)
    got = {}

    def agent():
        conn, _ = srv.accept()
        with conn:
            data, fds, _, _ = socket.recv_fds(conn, 65536, 4)
            rest = b""
            while True:  # further parts of the same state, without fds
                chunk = conn.recv(65536)
                if not chunk:
                    break
                rest += chunk
            got["data"], got["fds"] = data + rest, fds
    t = threading.Thread(target=agent)
    t.start()
    bundle.linux["seccomp"] = notify_config(path)
    sleeper(bundle)
    try:
        id = berth.create(bundle).id
        t.join(TIMEOUT)
        assert not t.is_alive(), "the connection was not closed after the state"
        msg = json.loads(got["data"])
        assert len(got["fds"]) == 1 and msg["fds"] == ["seccompFd"]
        assert msg["ociVersion"] and msg["metadata"] == "meta-data"
        assert msg["pid"] == state(berth, id)["pid"]
        assert msg["state"]["id"] == id and msg["state"]["status"] == "creating"
        for fd in got["fds"]:
            os.close(fd)
        berth.run(["delete", "--force", id], check=True)
    finally:
        srv.close()


@clause("config-linux/seccomp-listener-failure")
def test_a_listener_that_cannot_be_reached_is_an_error(berth, bundle, tmp_path):
    bundle.linux["seccomp"] = notify_config(str(tmp_path / "nobody-listens.sock"))
    expect_error(berth, bundle, "nobody-listens.sock", command="create")


# ---------------------------------------------------------------- masked and read-only paths

@clause("config-linux/maskedPaths-absolute", "config-linux/readonlyPaths-absolute")
@pytest.mark.parametrize("field", ["maskedPaths", "readonlyPaths"])
def test_masked_and_readonly_paths_must_be_absolute(berth, bundle, field):
    bundle.linux[field] = ["proc/kcore"]
    expect_error(berth, bundle, f"linux.{field}[0]: expected an absolute path", command="create")


@clause("config-linux/blockio-weightDevice-needs-weight")
def test_a_weightDevice_entry_without_weight_is_an_error(berth, bundle):
    bundle.linux.setdefault("resources", {})["blockIO"] = {"weightDevice": [{"major": 8, "minor": 0}]}
    expect_error(berth, bundle, "linux.resources.blockIO.weightDevice[0]", command="create")


@clause("config-linux/rdma-needs-a-limit")
def test_an_rdma_entry_without_limits_is_an_error(berth, bundle):
    bundle.linux.setdefault("resources", {})["rdma"] = {"mlx5_1": {}}
    expect_error(berth, bundle, "linux.resources.rdma.mlx5_1", command="create")


@clause("config-linux/v1.3-fields")
@pytest.mark.parametrize("field,value", [("netDevices", {"eth9": {}}), ("memoryPolicy", {"mode": "MPOL_LOCAL"})])
def test_fields_of_later_spec_versions_are_refused_not_ignored(berth, bundle, field, value):
    """berth implements runtime-spec 1.2.0; what 1.3.0 asks for it cannot do
    is refused rather than silently left out."""
    bundle.linux[field] = value
    expect_error(berth, bundle, f"linux.{field}: not supported yet", command="create")
