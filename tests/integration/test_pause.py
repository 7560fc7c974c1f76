"""pause / resume: the freezer (v1 freezer.state here, cgroup.freeze on v2),
`state` saying paused, and kill / delete of a paused container."""

import os
import time

from conftest import controller_dir, proc_state, read_cgroup, reap_orphans, wait_for

COUNTER = "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; done"


def start_counter(berth, bundle):
    bundle.set_readonly(False)
    bundle.sh(COUNTER)
    id = berth.run_detached(bundle).id
    path = os.path.join(bundle.rootfs, "tmp", "count")
    wait_for(lambda: read_count(path) > 0, what="the counter to start")
    return id, path


def read_count(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def freezer_state(id):
    if controller_dir(id, "freezer") is not None:
        return read_cgroup(id, "freezer", "freezer.state")
    return "FROZEN" if read_cgroup(id, "", "cgroup.freeze") == "1" else "THAWED"


def test_pause_stops_and_resume_continues(berth, bundle):
    id, path = start_counter(berth, bundle)
    berth.run(["pause", id], check=True)
    assert berth.status(id) == "paused"
    assert freezer_state(id) == "FROZEN"
    frozen_at = read_count(path)
    time.sleep(0.3)  # long enough for thousands of increments were it running
    assert read_count(path) == frozen_at
    berth.run(["resume", id], check=True)
    assert berth.status(id) == "running"
    assert freezer_state(id) == "THAWED"
    wait_for(lambda: read_count(path) > frozen_at, what="the counter to go on")


def test_pause_errors(berth, bundle):
    bundle.set_args("sleep", "100")
    id = berth.create(bundle).id
    r = berth.run(["pause", id])
    assert r.returncode == 1
    assert f"cannot pause container `{id}`: it is created" in r.stderr
    berth.run(["start", id], check=True)
    r = berth.run(["resume", id])
    assert r.returncode == 1
    assert f"cannot resume container `{id}`: it is running" in r.stderr
    berth.run(["pause", id], check=True)
    r = berth.run(["pause", id])
    assert f"cannot pause container `{id}`: it is paused" in r.stderr
    r = berth.run(["pause", "no-such-container"])
    assert "container `no-such-container` does not exist" in r.stderr


def test_kill_9_paused(berth, bundle, leftovers):
    # SIGKILL reaches frozen tasks only once they thaw: kill thaws, as runc does.
    id, _ = start_counter(berth, bundle)
    pid = berth.state(id)["pid"]
    berth.run(["pause", id], check=True)
    berth.run(["kill", id, "9"], check=True)
    berth.wait_status(id, "stopped")
    berth.run(["delete", id], check=True)
    leftovers(id, pid=pid, rootfs=bundle.rootfs)


def test_delete_force_paused(berth, bundle, leftovers):
    bundle.remove_ns("pid")  # so that the init's death alone would not end the others
    bundle.set_readonly(False)
    bundle.sh("sleep 100 & " + COUNTER)
    id = berth.run_detached(bundle).id
    wait_for(lambda: read_count(os.path.join(bundle.rootfs, "tmp", "count")) > 0, what="the counter")
    pids = [int(p) for p in berth.run(["ps", "--format", "json", id], check=True).stdout.strip("[]\n").split(",")]
    assert len(pids) >= 2
    berth.run(["pause", id], check=True)
    berth.run(["delete", "-f", id], check=True)
    reap_orphans()
    for p in pids:
        st = proc_state(p)
        assert st is None or st[0] == "Z", f"process {p} survived delete -f"
    leftovers(id, rootfs=bundle.rootfs)


def test_created_is_not_frozen(berth, bundle):
    # A created container is not frozen: state says created, not paused.
    bundle.set_args("true")
    id = berth.create(bundle).id
    assert berth.status(id) == "created"
    assert freezer_state(id) == "THAWED"
