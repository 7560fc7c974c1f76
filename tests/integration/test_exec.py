"""berth exec: a new process in a running container, observed from inside
(what it sees) and from the host (where it sits)."""

import json
import os
import signal

import pytest

from conftest import CAPS, NS_PROC_NAME, cap_mask, container_cgroup_dirs, parse_status, wait_for

from test_namespaces import minimal_userns_bundle

ALL_KINDS = ["pid", "network", "mount", "ipc", "uts", "cgroup", "time"]


def start_sleeper(berth, bundle, **kw):
    """A detached container whose init sleeps; returns (id, init pid)."""
    bundle.set_args("sleep", "1000")
    r = berth.run_detached(bundle, **kw)
    return r.id, berth.state(r.id)["pid"]


def exec_(berth, id, *args, opts=(), **kw):
    return berth.run(["exec", *opts, id, *args], **kw)


@pytest.fixture
def detached(berth, tmp_path):
    """detached(id, *args, opts=()): `exec -d --pid-file`; returns the
    process's host pid.  A detached process is reparented to us (the
    subreaper), and a dying pid-namespace init waits until every process of
    its namespace is reaped: so we kill and reap ours before `delete`, as a
    container engine's shim does."""
    pids = []

    def start(id, *args, opts=()):
        pid_file = tmp_path / f"exec-{len(pids)}.pid"
        r = exec_(berth, id, *args, opts=["-d", "--pid-file", str(pid_file), *opts])
        assert r.returncode == 0, r.stderr
        pid = int(pid_file.read_text())
        pids.append(pid)
        return pid
    yield start
    for pid in pids:
        reap(pid)


def reap(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


@pytest.fixture
def sleeper(berth, bundle):
    return start_sleeper(berth, bundle)


# ---------------------------------------------------------------- basics

def test_exec_output_and_exit_code(berth, sleeper):
    id, _ = sleeper
    r = exec_(berth, id, "sh", "-c", "echo out; echo err >&2; exit 7")
    assert r.returncode == 7, r.stderr
    assert r.stdout == "out\n"
    assert r.stderr == "err\n"
    assert berth.status(id) == "running"


def test_exec_killed_by_signal(berth, sleeper):
    id, _ = sleeper
    r = exec_(berth, id, "sh", "-c", "kill -TERM $$")
    assert r.returncode == 128 + signal.SIGTERM, r.stderr


def test_exec_forwards_signals(berth, sleeper):
    id, _ = sleeper
    p = berth.popen(["exec", id, "sh", "-c", 'trap "exit 9" USR1; echo ready; while :; do sleep 0.05; done'])
    assert p.stdout.readline() == b"ready\n"
    p.send_signal(signal.SIGUSR1)
    assert p.wait(timeout=5) == 9, p.stderr.read()


def test_exec_joins_every_namespace(berth, bundle):
    for kind in ALL_KINDS:
        bundle.set_ns(kind)
    id, init = start_sleeper(berth, bundle)
    script = "; ".join(f"readlink /proc/self/ns/{NS_PROC_NAME[k]}" for k in ALL_KINDS + ["user"])
    r = exec_(berth, id, "sh", "-c", script, check=True)
    inside = dict(zip(ALL_KINDS + ["user"], r.stdout.split()))
    for kind in ALL_KINDS + ["user"]:
        assert inside[kind] == os.readlink(f"/proc/{init}/ns/{NS_PROC_NAME[kind]}"), kind
        if kind != "user":
            assert inside[kind] != os.readlink(f"/proc/self/ns/{NS_PROC_NAME[kind]}"), kind


def test_exec_pid_namespace_view(berth, sleeper):
    id, _ = sleeper
    # The init is pid 1; the exec'd shell is another pid in the same namespace.
    r = exec_(berth, id, "sh", "-c", "echo $$; cat /proc/1/cmdline | tr '\\0' ' '", check=True)
    pid, cmdline = r.stdout.splitlines()
    assert int(pid) > 1
    assert cmdline.strip() == "sleep 1000"


def test_exec_joins_user_namespace(berth, make_bundle):
    bundle = minimal_userns_bundle(make_bundle)
    id, init = start_sleeper(berth, bundle)
    r = exec_(berth, id, "sh", "-c", "readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u", check=True)
    lines = r.stdout.splitlines()
    assert lines[0] == os.readlink(f"/proc/{init}/ns/user")
    assert lines[1].split() == ["0", "100000", "65536"]
    assert lines[2] == "0"


def test_exec_cgroup_every_hierarchy(berth, detached, sleeper):
    id, init = sleeper
    pid = detached(id, "sleep", "100")
    with open(f"/proc/{init}/cgroup") as f:
        want = f.read()
    with open(f"/proc/{pid}/cgroup") as f:
        assert f.read() == want
    for ctrls, d in container_cgroup_dirs(id):
        with open(os.path.join(d, "cgroup.procs")) as f:
            assert str(pid) in f.read().split(), ctrls


def test_exec_sub_cgroup(berth, detached, sleeper):
    id, _ = sleeper
    dirs = dict(container_cgroup_dirs(id))
    pids_dir = next(d for c, d in dirs.items() if "pids" in c.split(","))
    sub = os.path.join(pids_dir, "sub")
    os.mkdir(sub)
    try:
        pid = detached(id, "sleep", "100", opts=["--cgroup", "pids:sub"])
        with open(os.path.join(sub, "cgroup.procs")) as f:
            assert f.read().split() == [str(pid)]
        # other hierarchies keep the container's own cgroup
        memory = next(d for c, d in dirs.items() if "memory" in c.split(","))
        with open(os.path.join(memory, "cgroup.procs")) as f:
            assert str(pid) in f.read().split()
        reap(pid)
    finally:
        os.rmdir(sub)


def test_exec_sub_cgroup_errors(berth, sleeper):
    id, _ = sleeper
    r = exec_(berth, id, "true", opts=["--cgroup", "../escape"])
    assert r.returncode == 1
    assert "--cgroup: `../escape`: expected a path below the container's cgroup" in r.stderr
    r = exec_(berth, id, "true", opts=["--cgroup", "nosuchctrl:x"])
    assert "--cgroup: `nosuchctrl:x`: no cgroup hierarchy has controller `nosuchctrl`" in r.stderr
    r = exec_(berth, id, "true", opts=["--cgroup", "pids:missing"])
    assert r.returncode == 1
    assert "join cgroup `" in r.stderr and "No such file or directory" in r.stderr


# ---------------------------------------------------------------- the process

def test_exec_inherits_process_settings(berth, bundle):
    bundle.set_user(uid=1000, gid=1001, additional_gids=[5])
    bundle.set_env(["PATH=/bin", "FOO=from-config"])
    bundle.set_cwd("/tmp")
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}]
    bundle.config["process"]["noNewPrivileges"] = True
    id, init = start_sleeper(berth, bundle)
    r = exec_(berth, id, "sh", "-c", "id -u; id -g; id -G; echo $FOO; pwd; ulimit -n; cat /proc/self/status",
              check=True)
    lines = r.stdout.splitlines()
    assert lines[:6] == ["1000", "1001", "5 1001" if lines[2].startswith("5") else "1001 5", "from-config",
                         "/tmp", "123"]
    st = parse_status(r.stdout)
    with open(f"/proc/{init}/status") as f:
        init_st = parse_status(f.read())
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs"):
        assert st[key] == init_st[key], key
    assert st["NoNewPrivs"] == "1"


def test_exec_overrides(berth, sleeper):
    id, _ = sleeper
    r = exec_(berth, id, "sh", "-c", "id -u; id -g; id -G; echo $FOO $NEW; pwd; grep NoNewPrivs /proc/self/status",
              opts=["--user", "123:456", "-g", "10", "--additional-gids", "20", "--env", "FOO=override",
                    "-e", "NEW=x", "--cwd", "/etc", "--no-new-privs"], check=True)
    lines = r.stdout.splitlines()
    assert lines[0] == "123"
    assert lines[1] == "456"
    assert sorted(map(int, lines[2].split())) == [10, 20, 456]
    assert lines[3] == "override x"
    assert lines[4] == "/etc"
    assert lines[5].split() == ["NoNewPrivs:", "1"]


def test_exec_user_without_group(berth, bundle):
    bundle.set_user(uid=0, gid=77)
    id, _ = start_sleeper(berth, bundle)
    r = exec_(berth, id, "sh", "-c", "id -u; id -g", opts=["-u", "55"], check=True)
    assert r.stdout.split() == ["55", "77"]


def test_exec_cap(berth, sleeper):
    id, init = sleeper
    with open(f"/proc/{init}/status") as f:
        before = int(parse_status(f.read())["CapEff"], 16)
    assert not before & cap_mask(["CAP_SYS_ADMIN"])
    r = exec_(berth, id, "cat", "/proc/self/status", opts=["--cap", "CAP_SYS_ADMIN", "-c", "NET_ADMIN"],
              check=True)
    st = parse_status(r.stdout)
    want = before | cap_mask(["CAP_SYS_ADMIN", "CAP_NET_ADMIN"])
    assert int(st["CapEff"], 16) == want
    assert int(st["CapBnd"], 16) & want == want
    r = exec_(berth, id, "true", opts=["--cap", "CAP_NOPE"])
    assert r.returncode == 1
    assert "--cap: unknown capability `CAP_NOPE`" in r.stderr


def test_exec_uses_config_saved_at_create(berth, bundle):
    bundle.set_env(["PATH=/bin", "FOO=at-create"])
    id, _ = start_sleeper(berth, bundle)
    bundle.set_env(["PATH=/bin", "FOO=changed-later"])
    bundle.write()
    r = exec_(berth, id, "sh", "-c", "echo $FOO", check=True)
    assert r.stdout == "at-create\n"


def test_exec_process_file(berth, tmp_path, sleeper):
    id, _ = sleeper
    proc = {"args": ["sh", "-c", "echo $A; pwd; id -u"], "env": ["PATH=/bin", "A=from-file"], "cwd": "/proc",
            "user": {"uid": 42, "gid": 42}, "terminal": False}
    path = tmp_path / "process.json"
    path.write_text(json.dumps(proc))
    r = exec_(berth, id, opts=["--process", str(path)], check=True)
    assert r.stdout.split() == ["from-file", "/proc", "42"]
    # options set on the command line still apply
    r = exec_(berth, id, opts=["-p", str(path), "--env", "A=flag", "-u", "7"], check=True)
    assert r.stdout.split() == ["flag", "/proc", "7"]


@pytest.mark.parametrize("proc,message", [
    ({"args": [], "cwd": "/"}, "process.args: expected a non-empty array of strings"),
    ({"args": ["true"]}, "process.cwd: required"),
    ({"args": ["true"], "cwd": "relative"}, "process.cwd"),
    ({"args": ["true"], "cwd": "/", "user": {"uid": -1}}, "process.user.uid: expected a non-negative integer"),
    ({"args": ["true"], "cwd": "/", "env": ["NOEQUALS"]}, "process.env[0]: expected `KEY=value`"),
])
def test_exec_process_file_errors(berth, tmp_path, sleeper, proc, message):
    id, _ = sleeper
    path = tmp_path / "process.json"
    path.write_text(json.dumps(proc))
    r = exec_(berth, id, opts=["--process", str(path)])
    assert r.returncode == 1
    assert message in r.stderr


def test_exec_process_file_syntax_error(berth, tmp_path, sleeper):
    id, _ = sleeper
    path = tmp_path / "process.json"
    path.write_text('{"args": ["true"],\n "cwd": }')
    r = exec_(berth, id, opts=["--process", str(path)])
    assert r.returncode == 1
    assert f"{path}: line 2, column" in r.stderr


def test_exec_not_found(berth, sleeper, tmp_path):
    id, _ = sleeper
    r = exec_(berth, id, "no-such-program")
    assert r.returncode == 1
    assert "exec `no-such-program`: executable file not found in $PATH" in r.stderr
    # nothing but the init remains in the container's cgroup
    for _, d in container_cgroup_dirs(id):
        with open(os.path.join(d, "cgroup.procs")) as f:
            assert len(f.read().split()) == 1, d


def test_exec_detach_pid_file(berth, detached, sleeper):
    id, init = sleeper
    pid = detached(id, "sleep", "100")
    assert os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{init}/ns/pid")
    with open(f"/proc/{pid}/cmdline") as f:
        assert f.read() == "sleep\x00100\x00"
    # kill --all reaches it: it is in the container's cgroup
    berth.run(["kill", "--all", id, "KILL"], check=True)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_exec_in_created_container(berth, bundle):
    bundle.set_args("sleep", "1000")
    r = berth.create(bundle)
    r2 = exec_(berth, r.id, "echo", "hi")
    assert r2.returncode == 0, r2.stderr
    assert r2.stdout == "hi\n"
    assert berth.status(r.id) == "created"


# ---------------------------------------------------------------- refused

def test_exec_stopped(berth, bundle, leftovers):
    bundle.set_args("true")
    r = berth.run_container(bundle, opts=["--keep"])
    assert r.returncode == 0, r.stderr
    r2 = exec_(berth, r.id, "true")
    assert r2.returncode == 1
    assert f"cannot exec in container `{r.id}`: container not running" in r2.stderr


def test_exec_unknown_container(berth):
    r = exec_(berth, "nosuch", "true")
    assert r.returncode == 1
    assert "container `nosuch` does not exist" in r.stderr


def freezer_dir(id):
    return next((d for c, d in container_cgroup_dirs(id) if "freezer" in c.split(",")), None)


def test_exec_paused(berth, tmp_path, sleeper):
    id, _ = sleeper
    fz = freezer_dir(id)
    if fz is None:
        pytest.skip("no v1 freezer hierarchy on this host to pause the container with")
    with open(os.path.join(fz, "freezer.state"), "w") as f:
        f.write("FROZEN")
    try:
        wait_for(lambda: open(os.path.join(fz, "freezer.state")).read().strip() == "FROZEN", what="frozen")
        assert berth.status(id) == "paused"
        r = exec_(berth, id, "true")
        assert r.returncode == 1
        assert f"cannot exec in container `{id}`: container is paused (use --ignore-paused to override)" in r.stderr
        # --ignore-paused: the process is made, and runs once the container thaws
        pid_file = tmp_path / "p.pid"
        p = berth.popen(["exec", "--ignore-paused", "-d", "--pid-file", str(pid_file), id, "sleep", "100"])
    finally:
        with open(os.path.join(fz, "freezer.state"), "w") as f:
            f.write("THAWED")
    assert p.wait(timeout=10) == 0, p.stderr.read()
    reap(int(pid_file.read_text()))


@pytest.mark.parametrize("opts,message", [
    (["--env", "NOEQUALS"], "--env: expected `KEY=value`, got `NOEQUALS`"),
    (["--cwd", "relative"], "--cwd: expected an absolute path, got `relative`"),
    (["--user", "abc"], "exec: --user: expected UID[:GID], got `abc`"),
    (["--user", "1:x"], "exec: --user: expected UID[:GID], got `1:x`"),
    (["-g", "-5"], "exec: --additional-gids: expected a GID, got `-5`"),
    (["--preserve-fds", "x"], "exec: --preserve-fds: expected a non-negative integer, got `x`"),
    (["-d"], "cannot allocate a terminal for a detached process without --console-socket"),
])
def test_exec_bad_options(berth, sleeper, opts, message):
    id, _ = sleeper
    extra = ["-t"] if opts == ["-d"] else []
    r = exec_(berth, id, "true", opts=[*extra, *opts])
    assert r.returncode == 1
    assert message in r.stderr


def test_exec_missing_command(berth, sleeper):
    id, _ = sleeper
    r = exec_(berth, id)
    assert r.returncode == 1
    assert "exec: missing command (or --process FILE)" in r.stderr


def test_exec_options_stop_at_id(berth, sleeper):
    # Options of the command itself are not berth's.
    id, _ = sleeper
    r = exec_(berth, id, "ls", "-d", "/etc", check=True)
    assert r.stdout == "/etc\n"
