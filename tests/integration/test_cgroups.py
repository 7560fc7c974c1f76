"""Each container in its own cgroup in every hierarchy, under our own cgroup."""

import os

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


def test_default_parent_stays_and_hands_down_cpusets(berth, bundle):
    """The default parent `berth/` is the runtime's own: made once, kept, so
    that a container costs one mkdir and one rmdir per hierarchy.  A delete
    removes only the container's directory.  In the v1 cpuset hierarchy the
    parent berth made passes its cpus and mems to each new container
    (cgroup.clone_children), which can take tasks at once."""
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
            if ctrls in made:
                with open(os.path.join(parents[ctrls], "cgroup.clone_children")) as f:
                    assert f.read().strip() == "1"
    berth.run(["delete", "-f", id], check=True)
    berth.leftovers(id, pid=pid)
    kept = [p for p in parents.values() if os.path.isdir(p)]
    assert kept == list(parents.values()), f"the parent `berth/` went: {set(parents.values()) - set(kept)}"


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
