"""The OOM killer: a memory hog over a small limit is killed, `run` exits
137, libberth's exit status says oom_killed, and `events` reports `oom`.
The limits are a few MiB and the hog one dd buffer, so this is quick."""

import json
import os
import re
import subprocess

import pytest

from conftest import LIBBERTH_RUN, TIMEOUT, controller_dir, read_line, wait_for

MiB = 1 << 20
HOG = ["dd", "if=/dev/zero", "of=/dev/null", "bs=24M", "count=1"]


@pytest.fixture(autouse=True)
def memory_controller():
    if controller_dir("probe", "memory") is None and controller_dir("probe", "") is None:
        pytest.skip("this host has no memory controller")


def limited(bundle, limit=4 * MiB):
    bundle.linux["resources"] = {"memory": {"limit": limit}}


def libberth_run(berth, bundle):
    if not os.access(LIBBERTH_RUN, os.X_OK):
        pytest.skip(f"{LIBBERTH_RUN} not built")
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    r = subprocess.run([LIBBERTH_RUN, berth.root, bundle.path, id], capture_output=True, text=True,
                       timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    m = re.search(r"pid=(\d+) exit=(\d+) signal=(\d+) oom=([01])\n$", r.stdout)
    assert m, r.stdout
    return id, tuple(int(g) for g in m.groups()[1:])


def test_run_exits_137(berth, bundle, leftovers):
    limited(bundle)
    bundle.set_args(*HOG)
    r = berth.run_container(bundle)
    assert r.returncode == 137, r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)


def test_run_under_limit_exits_0(berth, bundle):
    limited(bundle, 16 * MiB)
    bundle.set_args("dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=1")
    r = berth.run_container(bundle)
    assert r.returncode == 0, r.stderr


def test_libberth_oom_killed(berth, bundle, leftovers):
    limited(bundle)
    bundle.set_args(*HOG)
    id, (code, sig, oom) = libberth_run(berth, bundle)
    assert (code, sig, oom) == (137, 9, 1)
    leftovers(id, rootfs=bundle.rootfs)


def test_libberth_oom_of_a_child(berth, bundle):
    # The OOM killer took a child, and the init went on to exit normally:
    # the status is the init's, and oom_killed still says what happened.
    limited(bundle)
    bundle.sh(" ".join(HOG) + "; exit 3")
    _, (code, sig, oom) = libberth_run(berth, bundle)
    assert (code, sig, oom) == (3, 0, 1)


def test_libberth_no_oom(berth, bundle):
    limited(bundle, 16 * MiB)
    bundle.sh("exit 0")
    _, (code, sig, oom) = libberth_run(berth, bundle)
    assert (code, sig, oom) == (0, 0, 0)


def test_events_reports_oom(berth, bundle):
    limited(bundle)
    bundle.set_readonly(False)
    bundle.sh("while [ ! -e /tmp/go ]; do sleep 0.02; done; " + " ".join(HOG) + "; sleep 100")
    id = berth.run_detached(bundle).id
    p = berth.popen(["events", "--interval", "10s", id])
    # The first stats line comes once the OOM watch is in place.
    assert json.loads(read_line(p.stdout))["type"] == "stats"
    open(os.path.join(bundle.rootfs, "tmp", "go"), "w").close()
    ev = json.loads(read_line(p.stdout, timeout=10))
    assert ev == {"type": "oom", "id": id}
    # The event comes as the OOM starts; the kill is counted a moment later.
    def kills():
        return json.loads(berth.run(["events", "--stats", id], check=True).stdout)["data"]["memory"][
            "event_count"]["oom_kill"]
    wait_for(lambda: kills() == 1, what="the OOM kill to be counted")
    berth.run(["kill", id, "KILL"], check=True)
    p.wait(timeout=10)
    assert p.returncode == 0


def test_events_oom_that_ends_the_container(berth, bundle):
    # The init itself is the hog: the oom event still comes before the stream ends.
    limited(bundle)
    bundle.set_readonly(False)
    bundle.sh("while [ ! -e /tmp/go ]; do sleep 0.02; done; exec " + " ".join(HOG))
    id = berth.run_detached(bundle).id
    p = berth.popen(["events", "--interval", "10s", id])
    assert json.loads(read_line(p.stdout))["type"] == "stats"
    open(os.path.join(bundle.rootfs, "tmp", "go"), "w").close()
    p.wait(timeout=10)
    lines = [json.loads(l) for l in p.stdout.read().decode().splitlines()]
    assert lines == [{"type": "oom", "id": id}]
    assert p.returncode == 0


def test_libberth_oom_watch(berth, bundle):
    # berth_oom_watch_new() from the start callback, read once berth_run is done.
    if controller_dir("probe", "memory") is None:
        pytest.skip("the memory controller is in cgroup2 here: its counter goes with the cgroup")
    limited(bundle)
    bundle.sh(" ".join(HOG) + "; " + " ".join(HOG) + "; exit 0")
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    r = subprocess.run([LIBBERTH_RUN, berth.root, bundle.path, id, "--watch-oom"], capture_output=True,
                       text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert re.search(r" exit=0 signal=0 oom=1 oom_events=2\n$", r.stdout), r.stdout
    bundle.sh("exit 0")
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    r = subprocess.run([LIBBERTH_RUN, berth.root, bundle.path, id, "--watch-oom"], capture_output=True,
                       text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert re.search(r" oom=0 oom_events=0\n$", r.stdout), r.stdout
