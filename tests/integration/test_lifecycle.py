"""run, create, start, state, kill, delete, list: the OCI lifecycle."""

import json
import os
import re
import signal

import pytest

from conftest import mountinfo, read_line, wait_for

WAIT_FOR_GO = "while [ ! -e /tmp/go ]; do sleep 0.05; done"


def host_mounts_under(path):
    real = os.path.realpath(path)
    return [m["mountpoint"] for m in mountinfo()
            if m["mountpoint"] == real or m["mountpoint"].startswith(real + "/")]


# ---------------------------------------------------------------- run

@pytest.mark.parametrize("code", [0, 3, 255])
def test_run_exit_code(berth, bundle, code):
    bundle.sh(f"exit {code}")
    r = berth.run_container(bundle)
    assert r.returncode == code, r.stderr


def test_run_stdout_stderr_stdin(berth, bundle):
    bundle.sh("echo out; echo err >&2; cat")
    r = berth.run_container(bundle, input="from stdin\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "out\nfrom stdin\n"
    assert r.stderr == "err\n"


def test_run_deletes_container(berth, bundle, leftovers):
    bundle.set_args("true")
    r = berth.run_container(bundle)
    assert r.returncode == 0, r.stderr
    s = berth.run(["state", r.id])
    assert s.returncode == 1
    assert f"container `{r.id}` does not exist" in s.stderr
    leftovers(r.id, rootfs=bundle.rootfs)


def test_run_keep(berth, bundle, leftovers):
    bundle.sh("exit 4")
    r = berth.run_container(bundle, opts=["--keep"])
    assert r.returncode == 4, r.stderr
    assert berth.status(r.id) == "stopped"
    berth.run(["delete", r.id], check=True)
    leftovers(r.id, rootfs=bundle.rootfs)


def test_run_killed_by_berth_kill(berth, bundle):
    bundle.set_args("sleep", "100")
    p = berth.popen_run(bundle)
    berth.wait_status(p.id, "running")
    berth.run(["kill", p.id, "KILL"], check=True)
    assert p.wait(timeout=5) == 128 + signal.SIGKILL, p.stderr.read()


def test_run_killed_by_term_without_pidns(berth, bundle):
    # Without a pid namespace the init is not pid 1, so SIGTERM's default
    # action applies: the exit status must be 128+15.
    bundle.remove_ns("pid")
    bundle.set_args("sleep", "100")
    p = berth.popen_run(bundle)
    berth.wait_status(p.id, "running")
    berth.run(["kill", p.id, "TERM"], check=True)
    assert p.wait(timeout=5) == 128 + signal.SIGTERM, p.stderr.read()


@pytest.mark.parametrize("sig,name,code", [
    (signal.SIGTERM, "TERM", 7), (signal.SIGINT, "INT", 8), (signal.SIGUSR1, "USR1", 9)])
def test_run_forwards_signals(berth, bundle, sig, name, code):
    bundle.sh(f'trap "exit {code}" {name}; echo ready; while :; do sleep 0.05; done')
    p = berth.popen_run(bundle)
    assert read_line(p.stdout) == "ready\n"
    p.send_signal(sig)
    assert p.wait(timeout=5) == code, p.stderr.read()


def test_run_detached(berth, bundle, leftovers):
    bundle.set_args("sleep", "100")
    r = berth.run_detached(bundle)
    assert r.stdout == ""
    st = berth.state(r.id)
    assert st["status"] == "running"
    pid = st["pid"]
    assert pid > 0 and os.path.exists(f"/proc/{pid}")
    berth.run(["kill", r.id, "KILL"], check=True)
    berth.wait_status(r.id, "stopped")
    berth.run(["delete", r.id], check=True)
    assert berth.run(["state", r.id]).returncode == 1
    leftovers(r.id, pid=pid, rootfs=bundle.rootfs)


# ---------------------------------------------------------------- create / start

def test_create_start_delete(berth, bundle, tmp_path, leftovers):
    bundle.set_readonly(False)
    bundle.sh(f"echo started > /tmp/out; {WAIT_FOR_GO}")
    pid_file = tmp_path / "pid"
    r = berth.create(bundle, opts=["--pid-file", str(pid_file)])
    assert r.stdout == ""
    st = berth.state(r.id)
    assert st["status"] == "created"
    pid = st["pid"]
    assert pid > 0 and os.path.exists(f"/proc/{pid}")
    assert pid_file.read_text().strip() == str(pid)
    out = os.path.join(bundle.rootfs, "tmp", "out")
    assert not os.path.exists(out), "the process ran before `start`"
    assert host_mounts_under(bundle.rootfs) == [], "container mounts propagated to the host"

    berth.run(["start", r.id], check=True)
    wait_for(lambda: os.path.exists(out), what="the container to write /tmp/out")
    assert open(out).read() == "started\n"
    assert berth.status(r.id) == "running"
    assert berth.state(r.id)["pid"] == pid

    open(os.path.join(bundle.rootfs, "tmp", "go"), "w").close()
    berth.wait_status(r.id, "stopped")
    berth.run(["delete", r.id], check=True)
    leftovers(r.id, pid=pid, rootfs=bundle.rootfs)


def test_start_twice(berth, bundle):
    bundle.set_readonly(False)
    bundle.sh(WAIT_FOR_GO)
    id = berth.create(bundle).id
    berth.run(["start", id], check=True)
    r = berth.run(["start", id])
    assert r.returncode == 1
    assert f"cannot start container `{id}`: it is running" in r.stderr
    assert berth.status(id) == "running"
    open(os.path.join(bundle.rootfs, "tmp", "go"), "w").close()
    berth.wait_status(id, "stopped")
    r = berth.run(["start", id])
    assert r.returncode == 1
    assert f"cannot start container `{id}`: it is stopped" in r.stderr


def test_kill_stopped(berth, bundle):
    bundle.set_args("true")
    id = berth.create(bundle).id
    berth.run(["start", id], check=True)
    berth.wait_status(id, "stopped")
    r = berth.run(["kill", id, "KILL"])
    assert r.returncode == 1
    assert f"cannot kill container `{id}`: container not running" in r.stderr


def test_delete_running_needs_force(berth, bundle, leftovers):
    bundle.set_args("sleep", "100")
    r = berth.run_detached(bundle)
    pid = berth.state(r.id)["pid"]
    d = berth.run(["delete", r.id])
    assert d.returncode == 1
    assert f"cannot delete container `{r.id}`: it is running" in d.stderr
    assert berth.status(r.id) == "running"
    berth.run(["delete", "-f", r.id], check=True)
    assert berth.run(["state", r.id]).returncode == 1
    leftovers(r.id, pid=pid, rootfs=bundle.rootfs)


def test_delete_created_needs_force(berth, bundle, leftovers):
    bundle.set_args("true")
    id = berth.create(bundle).id
    pid = berth.state(id)["pid"]
    d = berth.run(["delete", id])
    assert d.returncode == 1
    assert f"cannot delete container `{id}`: it is created" in d.stderr
    assert berth.status(id) == "created"
    berth.run(["delete", "--force", id], check=True)
    leftovers(id, pid=pid, rootfs=bundle.rootfs)


def test_delete_force_unknown(berth):
    r = berth.run(["delete", "-f", "nosuch"])
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("cmd", [["delete"], ["kill"], ["start"], ["state"]])
def test_unknown_id(berth, cmd):
    r = berth.run([*cmd, "nosuch"])
    assert r.returncode == 1
    assert "container `nosuch` does not exist" in r.stderr


# ---------------------------------------------------------------- kill

@pytest.mark.parametrize("sig", ["KILL", "SIGKILL", "9"])
def test_kill_signal_forms(berth, bundle, sig):
    bundle.set_args("sleep", "100")
    id = berth.run_detached(bundle).id
    berth.run(["kill", id, sig], check=True)
    berth.wait_status(id, "stopped")


def test_kill_default_is_term(berth, bundle):
    bundle.set_readonly(False)
    bundle.sh('trap "echo got-term > /tmp/sig; exit 0" TERM; echo > /tmp/ready;'
              ' while :; do sleep 0.05; done')
    id = berth.run_detached(bundle).id
    wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "tmp", "ready")),
             what="the trap to be set")
    berth.run(["kill", id], check=True)
    berth.wait_status(id, "stopped")
    assert open(os.path.join(bundle.rootfs, "tmp", "sig")).read() == "got-term\n"


def test_kill_bad_signal(berth, bundle):
    bundle.set_args("sleep", "100")
    id = berth.run_detached(bundle).id
    r = berth.run(["kill", id, "NOSUCHSIG"])
    assert r.returncode == 1
    assert "NOSUCHSIG" in r.stderr
    assert berth.status(id) == "running"


def test_status_derived_from_process(berth, bundle):
    # Killing the init behind berth's back must show as stopped.
    bundle.set_args("sleep", "100")
    id = berth.run_detached(bundle).id
    pid = berth.state(id)["pid"]
    os.kill(pid, signal.SIGKILL)
    berth.wait_status(id, "stopped")


# ---------------------------------------------------------------- state

def test_state_fields(berth, bundle):
    bundle.config["annotations"] = {"org.berth.test": "yes", "second": "2"}
    bundle.set_args("true")
    id = berth.create(bundle).id
    r = berth.run(["state", id], check=True)
    st = json.loads(r.stdout)
    assert st["ociVersion"]
    assert st["id"] == id
    assert st["status"] == "created"
    assert st["pid"] > 0
    assert st["bundle"] == os.path.realpath(bundle.path)
    assert os.path.isabs(st["bundle"])
    assert st["rootfs"] == os.path.realpath(bundle.rootfs)
    assert st["annotations"] == {"org.berth.test": "yes", "second": "2"}
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", st["created"])
    assert "owner" in st
    assert '\n  "id": ' in r.stdout, "state JSON is indented by 2 spaces"


def test_state_stopped_pid(berth, bundle):
    bundle.set_args("true")
    id = berth.run_container(bundle, opts=["--keep"], check=True).id
    st = berth.state(id)
    assert st["status"] == "stopped"
    assert st.get("pid", 0) == 0


# ---------------------------------------------------------------- list

def test_list(berth, make_bundle):
    b1, b2 = make_bundle(), make_bundle()
    b1.set_args("sleep", "100")
    running = berth.run_detached(b1).id
    b2.set_args("true")
    created = berth.create(b2).id
    pids = {running: berth.state(running)["pid"], created: berth.state(created)["pid"]}

    r = berth.run(["list"], check=True)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    rows = {l.split()[0]: l.split() for l in lines[1:] if l.strip()}
    assert set(rows) == {running, created}
    assert rows[running][1:4] == [str(pids[running]), "running", os.path.realpath(b1.path)]
    assert rows[created][1:4] == [str(pids[created]), "created", os.path.realpath(b2.path)]

    r = berth.run(["list", "-q"], check=True)
    assert r.stdout.split() == sorted([running, created])

    r = berth.run(["list", "--format", "json"], check=True)
    objs = {o["id"]: o for o in json.loads(r.stdout)}
    assert set(objs) == {running, created}
    assert objs[running]["status"] == "running"
    assert objs[created]["status"] == "created"
    assert objs[running]["pid"] == pids[running]
    assert objs[created]["bundle"] == os.path.realpath(b2.path)


def test_list_empty(berth):
    r = berth.run(["list", "--format", "json"], check=True)
    assert json.loads(r.stdout) == []
    r = berth.run(["list", "-q"], check=True)
    assert r.stdout == ""
    r = berth.run(["list"], check=True)
    assert r.stdout.split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]


# ---------------------------------------------------------------- create options

def test_preserve_fds(berth, bundle, tmp_path):
    data = tmp_path / "data"
    data.write_text("passed on\n")
    wrap = ["sh", "-c", 'exec 3<"$0"; exec "$@"', str(data)]
    bundle.sh('[ -e /proc/$$/fd/3 ] && cat <&3 || echo closed')
    assert berth.run_container(bundle, wrap=wrap, check=True).stdout == "closed\n"
    r = berth.run_container(bundle, opts=["--preserve-fds", "1"], wrap=wrap, check=True)
    assert r.stdout == "passed on\n"


@pytest.mark.parametrize("new_keyring", [True, False])
def test_session_keyring(berth, bundle, new_keyring):
    # berth names the container's session keyring `_ses.<id>`; with
    # --no-new-keyring the process keeps the caller's and no such keyring exists.
    bundle.linux["maskedPaths"] = [p for p in bundle.linux.get("maskedPaths", []) if p != "/proc/keys"]
    opts = [] if new_keyring else ["--no-new-keyring"]
    id = berth.new_id()
    bundle.sh("cat /proc/keys")
    r = berth.run_container(bundle, id=id, opts=opts)
    assert r.returncode == 0, r.stderr
    named = [l for l in r.stdout.splitlines() if " keyring " in l and l.rstrip().endswith(f"_ses.{id}: empty")]
    if new_keyring:
        assert named, f"no `_ses.{id}` session keyring in:\n{r.stdout}"
    else:
        assert not named, "--no-new-keyring still made a new session keyring"


def test_no_pivot(berth, bundle):
    # With MS_MOVE + chroot the container still sees only its rootfs.
    out = berth.sh(bundle, "ls /", opts=["--no-pivot"])
    assert sorted(out.split()) == sorted(os.listdir(bundle.rootfs))
