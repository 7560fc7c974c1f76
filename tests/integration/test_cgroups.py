"""Each container in its own cgroup in every hierarchy, under our own cgroup."""

import os

import pytest

from conftest import container_cgroup_dirs, own_cgroups, proc_state, reap_orphans, wait_for


def proc_cgroups(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        return {ctrls: path for _, ctrls, path in (l.rstrip("\n").split(":", 2) for l in f)}


def expect_paths(rel):
    """What /proc/PID/cgroup should say: `rel` below our own cgroup."""
    return {ctrls: "/" + "/".join(p for p in f"{own}/{rel}".split("/") if p)
            for ctrls, own, _ in own_cgroups()}


def test_default_cgroup_in_every_hierarchy(berth, bundle):
    bundle.linux.pop("cgroupsPath", None)
    bundle.set_args("true")
    id = berth.create(bundle).id
    pid = berth.state(id)["pid"]
    want = expect_paths(f"berth/{id}")
    assert len(want) >= 1
    assert proc_cgroups(pid) == want
    for ctrls, d in container_cgroup_dirs(id):
        with open(os.path.join(d, "cgroup.procs")) as f:
            assert str(pid) in f.read().split(), d


def test_relative_cgroups_path(berth, bundle):
    id = berth.new_id()
    rel = f"berthtest-{os.getpid()}/{id}"
    bundle.linux["cgroupsPath"] = rel
    bundle.set_args("true")
    berth.create(bundle, id=id)
    pid = berth.state(id)["pid"]
    assert proc_cgroups(pid) == expect_paths(rel)
    berth.run(["delete", "-f", id], check=True)
    berth.leftovers(id, pid=pid, cgroups_path=rel)
    parents = [d for _, d in container_cgroup_dirs(id, f"berthtest-{os.getpid()}")]
    left = [d for d in parents if os.path.exists(d)]
    for d in left:  # ours (named after our pid): tidy up before failing
        try:
            os.rmdir(d)
        except OSError:
            pass
    assert not left, f"the parent cgroups berth made remain: {left}"


def test_default_parent_stays_but_in_cpuset(berth, bundle):
    """The default parent `berth/` is the runtime's own: made once, kept, so
    that a container costs one mkdir and one rmdir per hierarchy.  A delete
    removes only the container's directory; but in the v1 cpuset hierarchy,
    where a kept parent would pin the caller's cpus and mems (the kernel
    refuses to shrink a cpuset below its children's), the parent berth made
    goes with its last container."""
    parents = {ctrls: os.path.dirname(d) for ctrls, d in container_cgroup_dirs("x")}
    for p in parents.values():   # start without them where we can (none in use)
        try:
            os.rmdir(p)
        except OSError:
            pass
    made = {c for c, p in parents.items() if not os.path.exists(p)}
    bundle.linux.pop("cgroupsPath", None)
    bundle.set_args("true")
    id = berth.create(bundle).id
    pid = berth.state(id)["pid"]
    assert proc_cgroups(pid) == expect_paths(f"berth/{id}")
    for ctrls, d in container_cgroup_dirs(id):
        if "cpuset" in ctrls.split(","):
            for attr in ("cpuset.cpus", "cpuset.mems"):
                with open(os.path.join(d, attr)) as f, open(os.path.join(parents[ctrls], attr)) as g:
                    assert f.read() == g.read() != "\n", attr
    berth.run(["delete", "-f", id], check=True)
    berth.leftovers(id, pid=pid)
    for ctrls, p in parents.items():
        cpuset = "cpuset" in ctrls.split(",")
        if cpuset and ctrls in made:
            assert not os.path.exists(p), f"the cpuset parent {p} stayed"
        elif not cpuset:
            assert os.path.isdir(p), f"the parent {p} went"


def test_cgroup_namespace_root(berth, bundle):
    # With a cgroup namespace the container sees its own cgroup as `/`.
    bundle.set_ns("cgroup")
    out = berth.sh(bundle, "cat /proc/self/cgroup")
    paths = {l.split(":", 2)[2] for l in out.splitlines()}
    assert paths == {"/"}


def _cgroup_pids(id):
    pids = set()
    for _, d in container_cgroup_dirs(id):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids |= {int(p) for p in f.read().split()}
        except FileNotFoundError:
            pass
    return pids


def _alive(pid):
    reap_orphans()
    st = proc_state(pid)
    return st is not None and st[0] != "Z"


def _start_family(berth, bundle):
    """A container without a pid namespace (so killing its init alone does
    not take the others down) running an init and two background sleeps."""
    bundle.remove_ns("pid")
    bundle.set_readonly(False)
    bundle.sh("sleep 100 & sleep 100 & echo > /tmp/ready; wait")
    id = berth.run_detached(bundle).id
    wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "tmp", "ready")),
             what="the background processes")
    pids = _cgroup_pids(id)
    assert len(pids) == 3, pids
    return id, pids


def test_kill_all(berth, bundle):
    id, pids = _start_family(berth, bundle)
    berth.run(["kill", "--all", id, "KILL"], check=True)
    wait_for(lambda: not any(_alive(p) for p in pids), what="every process to die")
    berth.wait_status(id, "stopped")


def test_kill_without_all_signals_only_init(berth, bundle):
    id, pids = _start_family(berth, bundle)
    init = berth.state(id)["pid"]
    berth.run(["kill", id, "KILL"], check=True)
    berth.wait_status(id, "stopped")
    survivors = {p for p in pids if _alive(p)}
    assert survivors == pids - {init}
    # delete -f must still take the rest down (the teardown checks the cgroup)
    berth.run(["delete", "-f", id], check=True)
    wait_for(lambda: not any(_alive(p) for p in survivors), what="`delete -f` to kill the rest")


def test_own_cgroup2_mount_is_rooted_at_the_container(berth, bundle):
    """A cgroup2 mount of the spec's own, with a cgroup namespace, shows the
    container's cgroup2 directory as its root: the namespace is made before
    the mounts then (the late v1 memory join waits for no such mount)."""
    if not os.path.isfile("/sys/fs/cgroup/unified/cgroup.procs"):
        pytest.skip("needs a hybrid host (cgroup2 at /sys/fs/cgroup/unified)")
    bundle.linux.pop("cgroupsPath", None)
    bundle.set_ns("cgroup")
    bundle.add_mount("/mnt/v2", "cgroup2", "cgroup2", ["nosuid", "nodev", "noexec"])
    out = berth.sh(bundle, "find /mnt/v2 -mindepth 1 -type d | wc -l; cat /proc/self/cgroup")
    lines = out.split()
    assert lines[0] == "0", f"the host's cgroup2 tree shows:\n{out}"
