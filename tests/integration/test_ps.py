"""ps: ps -ef filtered to the container's processes, or their pids as JSON
(what `docker top` and `ctr task ps` read)."""

import json
import os

from conftest import container_cgroup_dirs, wait_for


def cgroup_pids(id):
    pids = set()
    for _, d in container_cgroup_dirs(id):
        with open(os.path.join(d, "cgroup.procs")) as f:
            pids |= {int(p) for p in f.read().split()}
    return pids


def start_family(berth, bundle):
    bundle.set_readonly(False)
    bundle.sh("sleep 101 & sleep 102 & echo > /tmp/ready; wait")
    id = berth.run_detached(bundle).id
    wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "tmp", "ready")), what="the sleeps")
    return id


def test_ps_json(berth, bundle):
    id = start_family(berth, bundle)
    r = berth.run(["ps", "--format", "json", id], check=True)
    pids = json.loads(r.stdout)
    assert pids == sorted(cgroup_pids(id))
    assert berth.state(id)["pid"] in pids
    assert len(pids) == 3


def test_ps_table(berth, bundle):
    id = start_family(berth, bundle)
    r = berth.run(["ps", id], check=True)
    lines = r.stdout.splitlines()
    header = lines[0].split()
    assert header[:2] == ["UID", "PID"]  # ps -ef's columns
    shown = {int(l.split()[1]) for l in lines[1:]}
    assert shown == cgroup_pids(id)
    assert any("sleep 101" in l for l in lines[1:])
    assert not any("pytest" in l for l in lines)


def test_ps_options_after_id(berth, bundle):
    id = start_family(berth, bundle)
    r = berth.run(["ps", id, "-o", "pid,args"], check=True)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["PID", "COMMAND"]
    assert {int(l.split()[0]) for l in lines[1:]} == cgroup_pids(id)


def test_ps_no_pid_column(berth, bundle):
    id = start_family(berth, bundle)
    r = berth.run(["ps", id, "-o", "args"])
    assert r.returncode == 1
    assert "no PID column in the output of `ps`" in r.stderr


def test_ps_errors(berth, bundle):
    r = berth.run(["ps", "no-such-container"])
    assert r.returncode == 1
    assert "container `no-such-container` does not exist" in r.stderr
    r = berth.run(["ps", "--format", "yaml", "x"])
    assert r.returncode == 1
    assert "--format: expected `table` or `json`, got `yaml`" in r.stderr


def test_ps_created_container(berth, bundle):
    # A created container's init is already in its cgroup.
    bundle.set_args("true")
    id = berth.create(bundle).id
    r = berth.run(["ps", "--format", "json", id], check=True)
    assert json.loads(r.stdout) == [berth.state(id)["pid"]]
