"""berth on a system without clone3, pidfd_open and pidfd_send_signal
(kernels before 5.3, valgrind 3.19, a seccomp sandbox that refuses them):
every command runs berth under a seccomp filter that answers those three
with ENOSYS (nosys.py), so it takes its fallbacks (src/lib/pidfd.h): clone(2)
for clone3, a /proc/PID handle for pidfd_open, kill(2) for
pidfd_send_signal, a liveness look for poll on a pidfd, and namespaces
joined one by one from /proc/PID/ns for setns on a pidfd.

Each test goes through one of them and fails without it: with no clone(2)
fallback nothing starts; with no /proc handle `kill`, `exec` and `stop`
find no init ("container not running"); with no kill(2) fallback `kill` and
`stop` cannot signal; with no liveness look `stop` does not wait for the
graceful exit."""

import json
import subprocess
import sys

import pytest

from conftest import NS_PROC_NAME, ns_inode, wait_for
from fsutil import nosys

from test_namespaces import minimal_userns_bundle

SYS_PIDFD_SEND_SIGNAL = 424
SYS_PIDFD_OPEN = 434
SYS_CLONE3 = 435

WRAP = nosys(SYS_CLONE3, SYS_PIDFD_OPEN, SYS_PIDFD_SEND_SIGNAL)


def b(berth, *args, **kw):
    """berth ARGS under the filter."""
    return berth.run(list(args), wrap=WRAP, **kw)


def state(berth, id):
    r = b(berth, "state", id, check=True)
    return json.loads(r.stdout)


def detached_sleeper(berth, bundle):
    bundle.set_args("sleep", "1000")
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    b(berth, "run", "-d", "--bundle", bundle.path, id, check=True)
    berth.state(id)  # the init's pid and start time, for the leftover check
    return id


def test_run_passes_the_exit_code_through(berth, bundle, leftovers):
    bundle.sh("echo $$; exit 7")
    r = berth.run_container(bundle, wrap=WRAP)
    assert r.returncode == 7, r.stderr
    assert r.stdout == "1\n"  # the init of a pid namespace of its own
    leftovers(r.id, rootfs=bundle.rootfs)


def test_create_start_state_kill_delete(berth, bundle, leftovers):
    bundle.set_args("sleep", "1000")
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    b(berth, "create", "--bundle", bundle.path, id, check=True)
    st = state(berth, id)
    assert st["status"] == "created"
    pid = st["pid"]
    berth.state(id)
    b(berth, "start", id, check=True)
    assert state(berth, id)["status"] == "running"
    b(berth, "kill", id, "KILL", check=True)
    # kill returns once the signal is sent; delete (not --force) needs it stopped.
    wait_for(lambda: state(berth, id)["status"] == "stopped", what=f"`{id}` to stop")
    b(berth, "delete", id, check=True)
    leftovers(id, pid=pid, rootfs=bundle.rootfs, start=berth.used[id].get("start"))


@pytest.mark.parametrize("userns", [False, True], ids=["rootful", "userns"])
def test_exec_joins_the_init_namespaces(berth, make_bundle, userns):
    bundle = minimal_userns_bundle(make_bundle) if userns else make_bundle()
    id = detached_sleeper(berth, bundle)
    init = berth.used[id]["pid"]
    kinds = [k for k in ("user", "mount", "network", "ipc", "uts", "cgroup", "pid")
             if k != "user" or userns]
    script = "; ".join(f"readlink /proc/self/ns/{NS_PROC_NAME[k]}" for k in kinds)
    r = b(berth, "exec", id, "sh", "-c", script)
    assert r.returncode == 0, r.stderr
    inside = dict(zip(kinds, r.stdout.split()))
    for k in kinds:
        assert inside[k] == ns_inode(init, k), k
        assert inside[k] != ns_inode("self", k), k


def test_stop_waits_for_the_graceful_exit(berth, bundle, leftovers):
    # The init exits 0 on TERM; had stop not waited for it, SIGKILL would have ended it.
    bundle.sh("trap 'exit 0' TERM; while :; do sleep 0.1; done")
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    b(berth, "run", "-d", "--monitor", "--bundle", bundle.path, id, check=True)
    berth.state(id)
    b(berth, "stop", id, check=True)
    exit = state(berth, id)["berth"]["exit"]
    assert (exit["exitCode"], exit["signal"]) == (0, 0)
    b(berth, "delete", id, check=True)
    leftovers(id, pid=berth.used[id]["pid"], rootfs=bundle.rootfs)


def test_hooks_run(berth, bundle, tmp_path):
    log = tmp_path / "hooks.log"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\necho \"$1 $(cat | tr -d '\\n' | head -c 40)\" >> {log}\n")
    hook.chmod(0o755)
    bundle.config["hooks"] = {k: [{"path": str(hook), "args": [str(hook), k]}]
                              for k in ("createRuntime", "poststart", "poststop")}
    bundle.sh("true")
    r = berth.run_container(bundle, wrap=WRAP)
    assert r.returncode == 0, r.stderr
    kinds = [line.split()[0] for line in log.read_text().splitlines()]
    assert kinds == ["createRuntime", "poststart", "poststop"]
    assert all('{"ociVersion"' in line for line in log.read_text().splitlines())


def test_delete_force_of_a_running_container(berth, bundle, leftovers):
    id = detached_sleeper(berth, bundle)
    assert state(berth, id)["status"] == "running"
    b(berth, "delete", "--force", id, check=True)
    leftovers(id, pid=berth.used[id]["pid"], rootfs=bundle.rootfs, start=berth.used[id]["start"])


def test_new_time_namespace_needs_clone3(berth, bundle, leftovers):
    bundle.set_ns("time")
    bundle.sh("true")
    r = berth.run_container(bundle, wrap=WRAP)
    assert r.returncode != 0
    assert ("linux.namespaces: a new time namespace needs clone3(2), which this system does not have"
            in r.stderr), r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)


def test_time_namespace_with_offsets_needs_no_clone3(berth, bundle):
    # With offsets berth makes the namespace itself and clones the init into it (namespaces.c).
    bundle.set_ns("time")
    bundle.linux["timeOffsets"] = {"boottime": {"secs": 86400}}
    bundle.sh("cat /proc/self/timens_offsets")
    r = berth.run_container(bundle, wrap=WRAP)
    assert r.returncode == 0, r.stderr
    assert ["boottime", "86400", "0"] in [line.split() for line in r.stdout.splitlines()]


def test_the_filter_is_in_effect(tmp_path):
    """The fallbacks above are taken only if the calls really fail: check the harness."""
    code = ("import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
            "r = libc.syscall(434, os.getpid(), 0); print(r, ctypes.get_errno())")
    out = subprocess.run([*WRAP, sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["-1", "38"]  # ENOSYS
