"""Faults: berth killed (SIGKILL) at every step of create, a container init
that dies while it is being set up, hooks that hang, a state directory on a
full filesystem, a corrupted state.json.  Each time: a clear error (or a sane
`state`), then `delete --force` removes everything, and nothing is left —
state directory, cgroups in every hierarchy, mounts, processes, veths.

berth is stopped at a precise step of create by BERTH_TEST_FAULT=<step>, a
test-only hook read by src/lib/container.c that raises SIGKILL right after
that step; the moment "mounts made" is reached through a createRuntime hook
that kills berth, its parent, with SIGKILL."""

import json
import os
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import (BERTH, TIMEOUT, container_cgroup_dirs, mountinfo, proc_state,
                      reap_orphans, wait_for)
from test_net import NetNS

# In the order create reaches them (src/lib/container.c, test_fault()).
STEPS = ["state-dir", "cgroup", "clone", "ready", "state"]


def cgroup_pids(id, cgroups_path=None):
    """Every pid in the container's cgroup, in any hierarchy."""
    pids = set()
    for _, d in container_cgroup_dirs(id, cgroups_path):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids.update(int(p) for p in f.read().split())
        except FileNotFoundError:
            pass
    return pids


def assert_gone(pids):
    def gone():
        reap_orphans()
        return all(proc_state(p) is None for p in pids)
    wait_for(gone, timeout=5, what=f"pids {sorted(pids)} to go")


def killed_create(berth, bundle, step, opts=(), wrap=None):
    """`create` with BERTH_TEST_FAULT=step: berth must die by SIGKILL."""
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    argv = berth.cmd(["create", "--bundle", bundle.path, *opts, id])
    # Files, not pipes: the init keeps its stdio open.
    with tempfile.TemporaryFile() as err:
        r = subprocess.run([*(wrap or []), *argv], stdout=subprocess.DEVNULL, stderr=err, timeout=TIMEOUT,
                           stdin=subprocess.DEVNULL, env={**os.environ, "BERTH_TEST_FAULT": step})
        err.seek(0)
        assert r.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), (r.returncode, err.read())
    return id


def state_after_fault(berth, id, step):
    """What `state` says of an interrupted create: well-formed, and sane."""
    r = berth.run(["state", id])
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["id"] == id
    if step == "state":
        # state.json was complete: the init waits for `start`, as after a create.
        assert st["status"] == "created" and st["pid"] > 0
    else:
        # Its creator is gone before the create completed: it is over.
        assert st["status"] == "stopped" and st["pid"] == 0, st
    listed = json.loads(berth.run(["list", "--format", "json"], check=True).stdout)
    assert [c["id"] for c in listed] == [id]
    return st


def check_recovery(berth, bundle, id, pids):
    r = berth.run(["delete", "--force", id])
    assert r.returncode == 0, r.stderr
    assert_gone(pids)
    berth.leftovers(id, rootfs=bundle.rootfs)
    # Nothing blocks the id: it can be created again, and works.
    bundle.set_args("true")
    assert berth.run_container(bundle, id=id).returncode == 0


@pytest.mark.parametrize("step", STEPS)
def test_berth_killed_during_create(berth, bundle, step):
    bundle.set_args("sleep", "30")
    id = killed_create(berth, bundle, step)
    state_after_fault(berth, id, step)
    made = [d for _, d in container_cgroup_dirs(id) if os.path.isdir(d)]
    assert bool(made) == (step != "state-dir"), made
    pids = cgroup_pids(id)
    if step in ("ready", "state"):
        assert pids, "the init should be alive, in its cgroup"
    check_recovery(berth, bundle, id, pids)


@pytest.mark.parametrize("step", STEPS)
def test_interrupted_create_goes_with_plain_delete(berth, bundle, step):
    """Stopped (or created, for the last step: then --force is needed, as for any created container)."""
    bundle.set_args("sleep", "30")
    id = killed_create(berth, bundle, step)
    pids = cgroup_pids(id)
    r = berth.run(["delete", id])
    if step == "state":
        assert r.returncode == 1 and f"cannot delete container `{id}`: it is created" in r.stderr
        r = berth.run(["delete", "--force", id])
    assert r.returncode == 0, r.stderr
    assert_gone(pids)
    berth.leftovers(id, rootfs=bundle.rootfs)


@pytest.mark.parametrize("step", ["clone", "ready", "state"])
def test_berth_killed_during_create_with_a_veth(berth, bundle, step):
    netns = NetNS(berth)
    try:
        netns.bridge()
        bundle.set_args("sleep", "30")
        id = killed_create(berth, bundle, step, opts=["--net-bridge", "br0", "--net-address", "10.0.3.2/24"],
                           wrap=netns.wrap)
        state_after_fault(berth, id, step)
        pids = cgroup_pids(id)
        r = netns.run(["delete", "--force", id])
        assert r.returncode == 0, r.stderr
        assert_gone(pids)
        berth.leftovers(id, rootfs=bundle.rootfs)
        # The host end goes with the container's namespace even when state.json never named it.
        wait_for(lambda: netns.links("veth") == [], what="the veth to go")
    finally:
        netns.remove()


def test_berth_killed_after_the_mounts(berth, bundle, tmp_path):
    """A createRuntime hook (run by berth once the init has made its mounts,
    before pivot_root) saves the init's mount table and kills berth, its
    parent.  The init, its channel to berth gone, ends by itself; its mounts
    go with its mount namespace."""
    saved = tmp_path / "mountinfo"
    pidfile = tmp_path / "init.pid"
    hook = (r'pid=$(sed -n "s/.*\"pid\":\([0-9]*\).*/\1/p"); echo $pid > ' f'{pidfile}; '
            f'cat /proc/$pid/mountinfo > {saved}; kill -KILL $PPID')
    bundle.config["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", hook]}]}
    bundle.add_mount("/mnt", "tmpfs", "tmpfs")
    bundle.set_args("true")
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    r = berth.run(["create", "--bundle", bundle.path, id])
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr)
    init = int(pidfile.read_text())
    mnt = mountinfo(str(saved))
    assert any(m["mountpoint"].endswith("/mnt") and m["fstype"] == "tmpfs" for m in mnt), "mounts not made yet"
    state_after_fault(berth, id, "mounts")
    del bundle.config["hooks"]
    check_recovery(berth, bundle, id, {init})


def find_marked(marker):
    """Host pids whose command line holds `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def ppid_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("PPid:"):
                return int(line.split()[1])
    raise AssertionError(f"no PPid for {pid}")


@pytest.mark.parametrize("command", ["create", "run"])
def test_init_killed_during_setup(berth, bundle, command):
    """The init dies (SIGKILL from the host) while a createContainer hook it
    runs is in progress: create fails with an error naming the step, and
    nothing remains."""
    marker = f"berth-fault-{os.getpid()}-{command}"
    bundle.config["hooks"] = {"createContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", "while :; do sleep 1; done", marker]}]}
    bundle.set_args("true")
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    p = subprocess.Popen(berth.cmd([command, "--bundle", bundle.path, id]), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    berth.popens.append(p)
    hook = wait_for(lambda: find_marked(marker), what="the createContainer hook")[0]
    init = ppid_of(hook)
    pids = cgroup_pids(id)
    assert init in pids
    os.kill(init, signal.SIGKILL)
    _, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 1, err
    assert f"berth: container `{id}`: container init failed before step" in err, err
    assert_gone(pids | {hook})
    berth.leftovers(id, rootfs=bundle.rootfs)


@pytest.mark.parametrize("kind", ["startContainer", "poststop"])
def test_hanging_hook_times_out(berth, bundle, tmp_path, kind):
    """createRuntime and createContainer: test_hooks.py.  A hanging
    startContainer hook fails `start` and destroys the container; a hanging
    poststop hook is a warning, and `delete` still removes everything."""
    path = "/bin/sh"  # startContainer: busybox's, in the rootfs; poststop: the host's
    bundle.config["hooks"] = {kind: [{"path": path, "args": ["sh", "-c", "sleep 60"], "timeout": 1}]}
    bundle.set_args("sleep", "30")
    r = berth.create(bundle)
    id = r.id
    pids = cgroup_pids(id)
    r = berth.run(["start", id])
    if kind == "startContainer":
        assert r.returncode == 1
        assert f"hooks.startContainer[0]: `{path}` timed out after 1 s" in r.stderr, r.stderr
        assert "does not exist" in berth.run(["state", id]).stderr
    else:
        assert r.returncode == 0, r.stderr
        r = berth.run(["delete", "--force", id])
        assert r.returncode == 0, r.stderr
        assert f"berth: warning: hooks.poststop[0]: `{path}` timed out after 1 s" in r.stderr, r.stderr
    assert_gone(pids)
    berth.leftovers(id, rootfs=bundle.rootfs)


# ---------------------------------------------------------------- a full state filesystem

FILL = {
    # Every block taken: the first state.json cannot be written.
    "blocks": "dd if=/dev/zero of=$root/fill bs=4k 2>/dev/null; true",
    # Every inode taken: not even the container's directory can be made.
    "inodes": "i=0; while touch $root/f$i 2>/dev/null; do i=$((i+1)); done",
}


def run_on_tiny_root(berth, bundle, tmp_path, fill, args):
    """berth with --root on a 64 KiB tmpfs (1024 inodes) made full by `fill`,
    mounted in a private mount namespace of its own (never on the host).
    Returns (CompletedProcess, what the root held afterwards)."""
    root = tmp_path / "tinyroot"
    root.mkdir()
    listing = tmp_path / "listing"
    script = (f'root={root}; mount -t tmpfs -o size=64k,nr_inodes=1024,mode=0700 tmpfs $root || exit 99; '
              f'{fill}; "$@"; rc=$?; ls -A $root | grep -v "^f[0-9]*$" | grep -vx fill > {listing}; exit $rc')
    argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
            BERTH, "--root", str(root), *args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode != 99, r.stderr
    return r, listing.read_text().split()


@pytest.mark.parametrize("fill", sorted(FILL))
@pytest.mark.parametrize("command", ["create", "run"])
def test_full_state_filesystem(berth, bundle, tmp_path, fill, command):
    bundle.set_args("true")
    id = berth.new_id()
    bundle.write()
    r, left = run_on_tiny_root(berth, bundle, tmp_path, FILL[fill], [command, "--bundle", bundle.path, id])
    assert r.returncode == 1, r.stderr
    what = "write state" if fill == "blocks" else "create state"
    assert f"berth: container `{id}`: {what} of container `{id}`: No space left on device" in r.stderr, r.stderr
    assert left == [], f"the state root kept {left}"
    berth.leftovers(id, rootfs=bundle.rootfs)
    assert not [d for _, d in container_cgroup_dirs(id) if os.path.exists(d)]


# ---------------------------------------------------------------- a corrupted state.json

CORRUPTIONS = {
    "garbage": b"\x00\xffnot json at all",
    "empty": b"",
    "truncated": None,  # the first half of the real one
    "not an object": b"[1, 2, 3]",
    "bad cgroup entry": None,  # valid JSON whose cgroup entry points outside
}


def corrupt(path, how):
    data = path.read_bytes()
    if how == "truncated":
        new = data[:len(data) // 2]
    elif how == "bad cgroup entry":
        doc = json.loads(data)
        doc["cgroup"][0]["path"] = "/../../etc"
        new = json.dumps(doc).encode()
    else:
        new = CORRUPTIONS[how]
    path.write_bytes(new)


@pytest.mark.parametrize("how", sorted(CORRUPTIONS))
def test_corrupted_state(berth, make_bundle, how):
    bundle = make_bundle()
    bundle.set_args("sleep", "30")
    id = berth.run_detached(bundle).id
    neighbour = make_bundle()
    neighbour.set_args("sleep", "30")
    other = berth.run_detached(neighbour).id  # a healthy neighbour
    pids = cgroup_pids(id)
    assert pids
    corrupt(Path(berth.root, id, "state.json"), how)
    for args in (["state", id], ["kill", id, "KILL"], ["start", id], ["delete", id], ["pause", id]):
        r = berth.run(args)
        assert r.returncode == 1 and r.stderr.startswith(f"berth: state of container `{id}`"), (args, r.stderr)
    # The processes were left alone by the failed commands.
    assert all(proc_state(p) for p in pids)
    # list shows the healthy one and says what is wrong with the other.
    r = berth.run(["list", "--quiet"])
    assert r.returncode == 0 and r.stdout.split() == [other], (r.stdout, r.stderr)
    assert f"berth: warning: state of container `{id}`" in r.stderr
    # delete --force rebuilds the cgroup from the saved config.json and removes it all.
    r = berth.run(["delete", "--force", id])
    assert r.returncode == 0, r.stderr
    assert f"berth: warning: container `{id}`: its state.json could not be read" in r.stderr
    assert_gone(pids)
    berth.leftovers(id, rootfs=bundle.rootfs)
    assert berth.status(other) == "running"


def test_corrupted_state_and_config(berth, bundle):
    """Nothing left to rebuild the cgroup from: the state directory still goes."""
    bundle.set_args("sleep", "30")
    id = berth.create(bundle).id
    pids = cgroup_pids(id)
    for name in ("state.json", "config.json"):
        with open(os.path.join(berth.root, id, name), "w") as f:
            f.write("{")
    r = berth.run(["delete", "--force", id])
    assert r.returncode == 0, r.stderr
    assert "(its cgroup is not known)" in r.stderr
    assert not os.path.exists(os.path.join(berth.root, id))
    # The conftest teardown would flag these; they are ours to clean up here.
    for _, d in container_cgroup_dirs(id):
        if os.path.exists(d):
            with open(os.path.join(d, "cgroup.procs")) as f:
                for p in f.read().split():
                    os.kill(int(p), signal.SIGKILL)
    assert_gone(pids)
    for _, d in container_cgroup_dirs(id):
        wait_for(lambda: _rmdir(d), what=f"rmdir {d}")


def _rmdir(d):
    try:
        os.rmdir(d)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True
