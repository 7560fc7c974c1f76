"""Exit reports (berth extension): a stopped container's `state` says how it
ended — "berth": {"exit": {exitCode, signal, oomKilled, peakMemory,
cpuTimeNs, startedAt, finishedAt}} — for `run --keep` (berth is the init's
parent) and for detached containers with `--monitor` (a monitor process is),
and `--exit-file` writes the same JSON.  Without those options nothing
changes: no report, and the init's parent is the caller's tree."""

import json
import os
import re
import subprocess
from datetime import datetime

import libberth_ctypes
from conftest import BERTH, parse_status, proc_state, reap_orphans, wait_for

MiB = 1 << 20
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
FIELDS = ["exitCode", "signal", "oomKilled", "peakMemory", "cpuTimeNs", "startedAt", "finishedAt"]


def when(text):
    assert RFC3339.match(text), text
    return datetime.strptime(text[:26], "%Y-%m-%dT%H:%M:%S.%f")


def report(berth, id):
    # A signal or an exit takes effect asynchronously: wait until the init is gone.
    berth.wait_status(id, "stopped")
    st = berth.state(id)
    assert st["status"] == "stopped"
    assert st["pid"] == 0
    # The OCI fields stay as they are; berth's own object is beside them.
    assert set(st) == {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner",
                       "annotations", "berth"}
    exit = st["berth"]["exit"]
    assert list(exit) == FIELDS
    return exit


def monitor_pid(berth, id):
    with open(os.path.join(berth.root, id, "monitor")) as f:
        return int(f.read())


def assert_gone(pid):
    def gone():
        reap_orphans()
        return proc_state(pid) is None
    wait_for(gone, timeout=5, what=f"process {pid} to go")


def test_run_keep_reports_exit_memory_cpu_and_times(berth, bundle, leftovers):
    # 16 MiB on the container's /dev/shm tmpfs count as its memory; the loop is CPU time.
    bundle.sh("dd if=/dev/zero of=/dev/shm/fill bs=1M count=16 2>/dev/null; "
              "i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; exit 3")
    r = berth.run_container(bundle, opts=["--keep"])
    assert r.returncode == 3, r.stderr
    exit = report(berth, r.id)
    assert exit["exitCode"] == 3 and exit["signal"] == 0 and exit["oomKilled"] is False
    assert exit["peakMemory"] >= 16 * MiB
    assert exit["cpuTimeNs"] > 0
    assert when(exit["startedAt"]) <= when(exit["finishedAt"])
    berth.run(["delete", r.id], check=True)
    leftovers(r.id, rootfs=bundle.rootfs)


def test_run_keep_killed_by_signal(berth, bundle):
    bundle.remove_ns("pid")  # a pid namespace's init cannot be killed from inside
    bundle.sh("kill -KILL $$")
    r = berth.run_container(bundle, opts=["--keep"])
    assert r.returncode == 137, r.stderr
    exit = report(berth, r.id)
    assert (exit["exitCode"], exit["signal"]) == (137, 9)


def test_run_oom_killed(berth, bundle):
    bundle.linux["resources"] = {"memory": {"limit": 4 * MiB}}
    bundle.set_args("dd", "if=/dev/zero", "of=/dev/null", "bs=24M", "count=1")
    r = berth.run_container(bundle, opts=["--keep"])
    assert r.returncode == 137, r.stderr
    exit = report(berth, r.id)
    assert exit["oomKilled"] is True and exit["signal"] == 9
    assert exit["peakMemory"] <= 4 * MiB


def test_exit_file_in_the_foreground(berth, bundle, tmp_path, leftovers):
    bundle.sh("exit 4")
    path = tmp_path / "exit.json"
    r = berth.run_container(bundle, opts=["--exit-file", str(path)])
    assert r.returncode == 4, r.stderr
    exit = json.loads(path.read_text())
    assert list(exit) == FIELDS and exit["exitCode"] == 4
    leftovers(r.id, rootfs=bundle.rootfs)  # without --keep the container is gone; the file stays


def test_no_report_without_the_options(berth, bundle):
    bundle.sh("exit 5")
    r = berth.run_detached(bundle)
    wait_for(lambda: berth.status(r.id) == "stopped", what="the container to stop")
    assert "berth" not in berth.state(r.id)
    assert not os.path.exists(os.path.join(berth.root, r.id, "monitor"))


def test_default_init_parent_is_the_callers_tree(berth, bundle):
    """Engines rely on reaping the init with their subreaper: without --monitor it stays so."""
    bundle.set_args("sleep", "100")
    r = berth.run_detached(bundle)
    ppid = int(parse_status(open(f"/proc/{berth.used[r.id]['pid']}/status").read())["PPid"])
    assert ppid == os.getpid()


def test_detached_monitor_is_the_parent_and_goes_with_the_container(berth, bundle, tmp_path, leftovers):
    bundle.set_args("sleep", "100")
    exit_file = tmp_path / "exit.json"
    r = berth.run_detached(bundle, opts=["--monitor", "--exit-file", str(exit_file)])
    init = berth.used[r.id]["pid"]
    mon = monitor_pid(berth, r.id)
    status = parse_status(open(f"/proc/{init}/status").read())
    assert int(status["PPid"]) == mon
    assert parse_status(open(f"/proc/{mon}/status").read())["Name"] == "berth-monitor"
    assert "berth" not in berth.state(r.id)  # running: no report yet
    berth.run(["kill", r.id, "KILL"], check=True)
    exit = report(berth, r.id)  # `state` waits for the monitor's report
    assert (exit["exitCode"], exit["signal"], exit["oomKilled"]) == (137, 9, False)
    assert exit["startedAt"] and exit["peakMemory"] > 0
    assert json.loads(exit_file.read_text()) == exit
    assert_gone(mon)
    berth.run(["delete", r.id], check=True)
    leftovers(r.id, rootfs=bundle.rootfs)


def test_exit_file_implies_the_monitor(berth, bundle, tmp_path):
    bundle.sh("exit 6")
    exit_file = tmp_path / "sub" / ".." / "exit.json"
    (tmp_path / "sub").mkdir()
    r = berth.run_detached(bundle, opts=["--exit-file", str(exit_file)])
    assert report(berth, r.id)["exitCode"] == 6
    assert json.loads((tmp_path / "exit.json").read_text())["exitCode"] == 6


def test_exit_file_relative_to_the_callers_cwd(berth, bundle, tmp_path):
    bundle.sh("exit 8")
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    argv = berth.cmd(["run", "-d", "--bundle", bundle.path, "--exit-file", "rel.json", id])
    subprocess.run(argv, cwd=tmp_path, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=10)
    assert report(berth, id)["exitCode"] == 8
    assert json.loads((tmp_path / "rel.json").read_text())["exitCode"] == 8


def test_create_monitor_then_start(berth, bundle, leftovers):
    bundle.sh("exit 9")
    r = berth.create(bundle, opts=["--monitor"])
    assert berth.status(r.id) == "created"
    mon = monitor_pid(berth, r.id)
    assert int(parse_status(open(f"/proc/{berth.used[r.id]['pid']}/status").read())["PPid"]) == mon
    berth.run(["start", r.id], check=True)
    exit = report(berth, r.id)
    assert exit["exitCode"] == 9 and exit["startedAt"] is not None
    assert when(exit["startedAt"]) <= when(exit["finishedAt"])
    assert_gone(mon)
    berth.run(["delete", r.id], check=True)
    leftovers(r.id, rootfs=bundle.rootfs)


def test_created_and_killed_never_started(berth, bundle):
    r = berth.create(bundle, opts=["--monitor"])
    berth.run(["kill", r.id, "KILL"], check=True)
    exit = report(berth, r.id)
    assert exit["startedAt"] is None and exit["signal"] == 9


def test_delete_force_of_a_monitored_container(berth, bundle, leftovers):
    bundle.set_args("sleep", "100")
    r = berth.run_detached(bundle, opts=["--monitor"])
    mon = monitor_pid(berth, r.id)
    berth.run(["delete", "-f", r.id], check=True)
    assert_gone(mon)
    leftovers(r.id, pid=berth.used[r.id]["pid"], rootfs=bundle.rootfs)


def test_failed_create_with_monitor_leaves_nothing(berth, bundle, leftovers):
    bundle.set_args("/no/such/program")
    r = berth.create(bundle, opts=["--monitor"], check=False)
    assert r.returncode == 1
    assert "exec `/no/such/program`: no such file or directory" in r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)
    # No monitor is left either: none of our children's children is one.
    def no_monitor():
        reap_orphans()
        for entry in os.listdir("/proc"):
            try:
                if entry.isdigit() and open(f"/proc/{entry}/comm").read().strip() == "berth-monitor" and \
                        int(parse_status(open(f"/proc/{entry}/status").read())["PPid"]) == os.getpid():
                    return False
            except OSError:
                pass
        return True
    wait_for(no_monitor, what="the monitor to go")


def test_bad_exit_file_option(berth, bundle, leftovers):
    r = berth.run_container(bundle, opts=["--exit-file", ""])
    assert r.returncode == 1
    assert "run: --exit-file: expected a file name" in r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)


def test_unwritable_exit_file_is_a_warning(berth, bundle, tmp_path, leftovers):
    bundle.sh("exit 2")
    r = berth.run_container(bundle, opts=["--exit-file", str(tmp_path / "missing" / "exit.json")])
    assert r.returncode == 2
    assert "berth: warning: container `" in r.stderr and "write exit file" in r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)


# ---------------------------------------------------------------- libberth

def test_libberth_state_has_the_report(berth, bundle):
    bundle.sh("exit 11")
    r = berth.run_detached(bundle, opts=["--monitor"])
    rep = json.loads(libberth_ctypes.run(BERTH, berth.root, "state", r.id))
    assert rep, "berth_state.exit is NULL"
    assert (rep["exit_code"], rep["signal"], rep["oom_killed"]) == (11, 0, False)
    assert rep["peak_memory"] > 0 and rep["cpu_time_ns"] >= 0
    assert RFC3339.match(rep["started_at"]) and RFC3339.match(rep["finished_at"])


def test_libberth_state_without_a_report(berth, bundle):
    bundle.set_args("sleep", "100")
    r = berth.run_detached(bundle, opts=["--monitor"])
    assert json.loads(libberth_ctypes.run(BERTH, berth.root, "state", r.id)) is None
