"""events: runc's `events --stats` JSON (what containerd and Docker read)
and the event stream (stats every --interval, until the container stops)."""

import json
import os

from conftest import read_cgroup, read_line, controller_dir

MiB = 1 << 20


def stats(berth, id):
    r = berth.run(["events", "--stats", id], check=True)
    assert r.stdout.endswith("\n") and r.stdout.count("\n") == 1
    ev = json.loads(r.stdout)
    assert ev["type"] == "stats" and ev["id"] == id
    return ev["data"]


def test_stats_format(berth, bundle):
    bundle.linux["resources"] = {"memory": {"limit": 64 * MiB}, "pids": {"limit": 50}}
    bundle.sh("sleep 100 & sleep 100 & wait")
    id = berth.run_detached(bundle).id
    data = stats(berth, id)
    # runc's top-level fields, all present
    assert set(data) >= {"cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt",
                         "network_interfaces"}
    usage = data["cpu"]["usage"]
    assert {"kernel", "user"} <= set(usage)
    assert usage.get("total", 0) > 0
    assert "throttling" in data["cpu"]
    mem = data["memory"]
    for entry in ("usage", "swap", "kernel", "kernelTCP"):
        assert {"limit", "failcnt"} <= set(mem[entry]), entry
    assert mem["usage"]["limit"] == 64 * MiB
    assert mem["usage"]["usage"] > 0
    assert "raw" in mem and isinstance(mem["raw"], dict) and mem["raw"]
    assert data["pids"] == {"current": 3, "limit": 50}
    assert isinstance(data["hugetlb"], dict)


def test_stats_match_cgroup_files(berth, bundle):
    bundle.linux["resources"] = {"memory": {"limit": 32 * MiB}}
    bundle.sh("sleep 100")
    id = berth.run_detached(bundle).id
    data = stats(berth, id)
    if controller_dir(id, "memory") is not None:
        assert data["memory"]["usage"]["limit"] == int(read_cgroup(id, "memory", "memory.limit_in_bytes"))
        assert data["memory"]["raw"]["hierarchical_memory_limit"] == 32 * MiB
    if controller_dir(id, "cpuset") is not None:
        cpus = read_cgroup(id, "cpuset", "cpuset.cpus")
        assert data["cpuset"]["cpus"] == expand(cpus)


def expand(cpus):
    out = []
    for part in cpus.split(","):
        lo, _, hi = part.partition("-")
        out += range(int(lo), int(hi or lo) + 1)
    return out


def test_stats_unlimited_is_max_uint64(berth, bundle):
    # runc prints "no limit" as the largest uint64 (v2 "max"), or v1's own huge value.
    bundle.sh("sleep 100")
    id = berth.run_detached(bundle).id
    data = stats(berth, id)
    assert data["memory"]["usage"]["limit"] >= 1 << 62
    assert data["memory"]["usage"]["limit"] <= (1 << 64) - 1


def test_stats_errors(berth, bundle):
    r = berth.run(["events", "--stats", "no-such-container"])
    assert r.returncode == 1
    assert "container `no-such-container` does not exist" in r.stderr
    bundle.set_args("true")
    id = berth.run_container(bundle, opts=["--keep"]).id
    r = berth.run(["events", "--stats", id])
    assert r.returncode == 1
    assert f"container `{id}` is not running" in r.stderr
    r = berth.run(["events", id])
    assert f"container `{id}` is not running" in r.stderr


def test_interval_errors(berth):
    for bad in ("0s", "5", "fast", "-1s"):
        r = berth.run(["events", "--interval", bad, "x"])
        assert r.returncode == 1, bad
        assert f"--interval: expected a duration like 5s or 500ms (at least 1ms), got `{bad}`" in r.stderr


def test_stream_until_stopped(berth, bundle):
    bundle.set_readonly(False)
    bundle.sh("while [ ! -e /tmp/stop ]; do sleep 0.02; done")
    id = berth.run_detached(bundle).id
    p = berth.popen(["events", "--interval", "50ms", id])
    for _ in range(3):
        ev = json.loads(read_line(p.stdout))
        assert ev["type"] == "stats" and ev["id"] == id
        assert "memory" in ev["data"]
    open(os.path.join(bundle.rootfs, "tmp", "stop"), "w").close()
    # The stream ends (exit 0) when the container's init does.
    p.wait(timeout=10)
    assert p.returncode == 0, p.stderr.read()
    for line in p.stdout.read().decode().splitlines():
        assert json.loads(line)["type"] == "stats"
