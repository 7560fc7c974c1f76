"""Concurrent commands on one container id.  The container's lock (flock on
its state directory) serialises the commands that change it, so the outcome
is always that of one of the serial orders: exactly one create of an id
wins, a start and a delete each see the other as done or not begun, and the
losers fail with a clear error — never a crash, a half-removed container or
a leftover.

The commands of a race are released together: each is a shell blocked
reading its line from one pipe, and the test writes all the lines at once."""

import json
import os
import subprocess
import tempfile

import pytest

from conftest import TIMEOUT, proc_state, reap_orphans, wait_for

ROUNDS = 4  # each race is run this many times, to meet several interleavings


class Race:
    """Commands that start at the same moment; .go() returns their results."""

    def __init__(self, berth, tmp_path):
        self.berth = berth
        self.r, self.w = os.pipe()
        self.procs = []

    def add(self, args):
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        # Each waits for its line on the pipe (its stdin), then becomes berth.
        argv = ["sh", "-c", 'read go; exec "$@" </dev/null', "sh", *self.berth.cmd(args)]
        p = subprocess.Popen(argv, stdin=self.r, stdout=out, stderr=err)
        self.procs.append((args, p, out, err))

    def go(self):
        os.write(self.w, b"\n" * len(self.procs))  # one write releases them all
        os.close(self.w)
        os.close(self.r)
        results = []
        for args, p, out, err in self.procs:
            p.wait(timeout=TIMEOUT)
            out.seek(0)
            err.seek(0)
            results.append((args[0], p.returncode, err.read().decode(errors="replace")))
            out.close()
            err.close()
        return results


def sleeper(bundle):
    bundle.set_args("sleep", "30")
    bundle.write()


def outcome(results, errors):
    """[(command, 'ok' or the expected error it failed with)], checking that
    every failure is one of `errors` (substrings) and nothing else."""
    seen = []
    for cmd, rc, err in results:
        if rc == 0:
            seen.append((cmd, "ok"))
            continue
        assert rc == 1, f"{cmd} exited {rc}: {err}"
        match = [e for e in errors if e in err]
        assert match, f"{cmd} failed unexpectedly: {err}"
        seen.append((cmd, match[0]))
    return seen


def pids_gone(pids):
    def gone():
        reap_orphans()
        return all(proc_state(p) is None for p in pids)
    wait_for(gone, what=f"{sorted(pids)} to go")


@pytest.mark.parametrize("round", range(ROUNDS))
def test_create_racing_create(berth, bundle, tmp_path, round):
    sleeper(bundle)
    id = berth.new_id()
    berth.track(id, bundle)
    race = Race(berth, tmp_path)
    for _ in range(4):
        race.add(["create", "--bundle", bundle.path, id])
    seen = outcome(race.go(), [f"container `{id}` already exists"])
    assert [s for _, s in seen].count("ok") == 1, seen
    # The losers took nothing of the winner's: it starts and runs.
    st = berth.state(id)
    assert st["status"] == "created"
    berth.run(["start", id], check=True)
    assert berth.status(id) == "running"
    berth.run(["delete", "--force", id], check=True)
    berth.leftovers(id, pid=st["pid"], rootfs=bundle.rootfs)


@pytest.mark.parametrize("round", range(ROUNDS))
def test_start_racing_start(berth, bundle, tmp_path, round):
    sleeper(bundle)
    id = berth.create(bundle).id
    race = Race(berth, tmp_path)
    for _ in range(3):
        race.add(["start", id])
    seen = outcome(race.go(), [f"cannot start container `{id}`: it is running"])
    assert [s for _, s in seen].count("ok") == 1, seen
    assert berth.status(id) == "running"


@pytest.mark.parametrize("round", range(ROUNDS))
def test_delete_racing_start(berth, bundle, tmp_path, round):
    """start then delete --force: both succeed; delete first: start finds nothing."""
    sleeper(bundle)
    id = berth.create(bundle).id
    pid = berth.state(id)["pid"]
    race = Race(berth, tmp_path)
    race.add(["start", id])
    race.add(["delete", "--force", id])
    seen = dict(outcome(race.go(), [f"container `{id}` does not exist"]))
    assert seen["delete"] == "ok"
    assert seen["start"] in ("ok", f"container `{id}` does not exist")
    assert "does not exist" in berth.run(["state", id]).stderr
    pids_gone({pid})
    berth.leftovers(id, pid=pid, rootfs=bundle.rootfs)


@pytest.mark.parametrize("round", range(ROUNDS))
def test_kill_racing_delete(berth, bundle, tmp_path, round):
    """kill and delete --force of a running container: the delete always
    wins in the end; the kill either came first or finds the container
    gone (never a signal to a pid that is no longer the container's)."""
    sleeper(bundle)
    id = berth.run_detached(bundle).id
    pid = berth.state(id)["pid"]
    race = Race(berth, tmp_path)
    race.add(["kill", id, "KILL"])
    race.add(["delete", "--force", id])
    gone = [f"container `{id}` does not exist", f"cannot kill container `{id}`: container not running"]
    seen = dict(outcome(race.go(), gone))
    assert seen["delete"] == "ok"
    pids_gone({pid})
    berth.leftovers(id, pid=pid, rootfs=bundle.rootfs)


@pytest.mark.parametrize("round", range(ROUNDS))
def test_kill_racing_plain_delete(berth, bundle, tmp_path, round):
    """Without --force a delete only removes a stopped container: it sees
    the container either still running (and refuses) or already stopped."""
    sleeper(bundle)
    id = berth.run_detached(bundle).id
    pid = berth.state(id)["pid"]
    race = Race(berth, tmp_path)
    race.add(["kill", id, "KILL"])
    race.add(["delete", id])
    seen = dict(outcome(race.go(), [f"cannot delete container `{id}`: it is running",
                                    f"cannot kill container `{id}`: container not running",
                                    f"container `{id}` does not exist"]))
    if seen["delete"] == "ok":
        # Deleted as stopped: so the kill had come first and succeeded.
        assert seen["kill"] == "ok", seen
    else:
        assert seen["kill"] == "ok", seen
        wait_for(lambda: berth.status(id) == "stopped", what="the container to stop")
        berth.run(["delete", id], check=True)
    pids_gone({pid})
    berth.leftovers(id, pid=pid, rootfs=bundle.rootfs)


@pytest.mark.parametrize("round", range(ROUNDS))
def test_delete_racing_delete(berth, bundle, tmp_path, round):
    """Two deletes of a stopped container: exactly one removes it."""
    bundle.set_args("true")
    id = berth.run_container(bundle, opts=["--keep"]).id
    assert berth.status(id) == "stopped"
    race = Race(berth, tmp_path)
    race.add(["delete", id])
    race.add(["delete", id])
    seen = outcome(race.go(), [f"container `{id}` does not exist"])
    assert [s for _, s in seen].count("ok") == 1, seen
    berth.leftovers(id, rootfs=bundle.rootfs)


def test_many_ids_at_once(berth, make_bundle, tmp_path):
    """Creates of different ids do not get in each other's way (they share
    the parent cgroup `berth/` that each may create or remove)."""
    race = Race(berth, tmp_path)
    ids = []
    for _ in range(8):
        b = make_bundle()
        sleeper(b)
        id = berth.new_id()
        berth.track(id, b)
        ids.append(id)
        race.add(["run", "-d", "--bundle", b.path, id])
    assert all(rc == 0 for _, rc, _ in race.go())
    states = json.loads(berth.run(["list", "--format", "json"], check=True).stdout)
    assert sorted(s["id"] for s in states) == sorted(ids)
    assert {s["status"] for s in states} == {"running"}
    race = Race(berth, tmp_path)
    for id in ids:
        race.add(["delete", "--force", id])
    assert all(rc == 0 for _, rc, _ in race.go())
    for id in ids:
        berth.leftovers(id)
