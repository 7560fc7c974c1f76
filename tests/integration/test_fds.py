"""File descriptors: only 0, 1, 2 and the preserved ones reach a container
process (init or exec'd), seen from inside and from the host; --preserve-fds
and socket activation (LISTEN_FDS / LISTEN_PID)."""

import fcntl
import os
import re

import pytest

from conftest import TIMEOUT
from test_exec import detached, reap  # noqa: F401 (a fixture)

HIGH_FD = 60


def high(fd):
    """`fd` moved to a number >= HIGH_FD (the original is closed)."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD, HIGH_FD)
    os.close(fd)
    return new


def pipe():
    r, w = os.pipe()
    return high(r), high(w)


def run_with_fds(berth, args, fds, env=None, stdin_data=None):
    """berth ARGS with `fds` as its fds 3, 4, …: a shell puts them there
    and execs berth (so $$ is berth's pid, for LISTEN_PID).  The originals
    stay open in berth too, at their high numbers: host fds that must not
    reach the container."""
    redir = " ".join(f"{3 + i}>&{fd}" for i, fd in enumerate(fds))
    script = f'{env or ""} exec "$0" "$@" {redir}'
    import subprocess
    import tempfile
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        r = subprocess.run(["bash", "-c", script, *berth.cmd(args)], stdout=out, stderr=err,
                           stdin=subprocess.DEVNULL, pass_fds=fds, timeout=TIMEOUT)
        out.seek(0)
        err.seek(0)
        r.stdout = out.read().decode(errors="replace")
        r.stderr = err.read().decode(errors="replace")
    return r


def read_all(fd):
    data = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return data
        data += chunk


def inside_fds(listing):
    """fd numbers from `ls -l /proc/self/fd` output, without the one ls
    itself holds on that directory."""
    fds = set()
    for line in listing.splitlines():
        m = re.search(r"\s(\d+) -> (.*)$", line)
        if m and not re.fullmatch(r"/proc/\d+/fd", m.group(2)):
            fds.add(int(m.group(1)))
    return fds


def host_fds(pid):
    return {int(f) for f in os.listdir(f"/proc/{pid}/fd")}


LIST = "ls -l /proc/self/fd"


# ---------------------------------------------------------------- no leaks

def test_run_only_stdio(berth, bundle):
    r_fd, w_fd = pipe()
    try:
        bundle.sh(LIST)
        bundle.write()
        id = berth.new_id()
        berth.track(id, bundle)
        # berth itself holds an extra fd (w_fd, not preserved): it must not leak
        r = run_with_fds(berth, ["run", "--bundle", bundle.path, id], [])
        assert r.returncode == 0, r.stderr
        assert inside_fds(r.stdout) == {0, 1, 2}, r.stdout
    finally:
        os.close(r_fd)
        os.close(w_fd)


def test_create_start_only_stdio_host_view(berth, bundle):
    bundle.set_args("sleep", "1000")
    r = berth.create(bundle)
    pid = berth.state(r.id)["pid"]
    berth.run(["start", r.id], check=True)
    berth.wait_status(r.id, "running")
    assert host_fds(pid) == {0, 1, 2}


def test_exec_only_stdio(berth, bundle, tmp_path):
    bundle.set_args("sleep", "1000")
    id = berth.run_detached(bundle).id
    r_fd, w_fd = pipe()
    try:
        r = run_with_fds(berth, ["exec", id, "sh", "-c", LIST], [])
        assert r.returncode == 0, r.stderr
        assert inside_fds(r.stdout) == {0, 1, 2}, r.stdout
        pid_file = tmp_path / "pid"
        r = run_with_fds(berth, ["exec", "-d", "--pid-file", str(pid_file), id, "sleep", "100"], [])
        assert r.returncode == 0, r.stderr
        pid = int(pid_file.read_text())
        assert host_fds(pid) == {0, 1, 2}
        reap(pid)
    finally:
        os.close(r_fd)
        os.close(w_fd)


def test_exec_process_is_dumpable_after_exec(berth, bundle, detached):
    # berth makes the joining process non-dumpable; the program it executes
    # must be an ordinary one again (its /proc files owned by its user).
    bundle.set_args("sleep", "1000")
    id = berth.run_detached(bundle).id
    pid = detached(id, "sleep", "100", opts=["-u", "1234"])
    assert os.stat(f"/proc/{pid}/fd").st_uid == 1234
    assert os.readlink(f"/proc/{pid}/exe") == "/bin/busybox"  # as its root sees it


# ---------------------------------------------------------------- preserved

@pytest.mark.parametrize("mode", ["run", "create"])
def test_preserve_fds_init(berth, bundle, mode):
    pipes = [pipe(), pipe()]
    try:
        bundle.sh(f"echo one >&3; echo two >&4; {LIST}")
        bundle.write()
        id = berth.new_id()
        berth.track(id, bundle)
        cmd = "run" if mode == "run" else "create"
        r = run_with_fds(berth, [cmd, "--preserve-fds", "2", "--bundle", bundle.path, id], [w for _, w in pipes])
        assert r.returncode == 0, r.stderr
        if mode == "create":
            berth.state(id)
            berth.run(["start", id], check=True)
        for _, w in pipes:
            os.close(w)
        assert read_all(pipes[0][0]) == b"one\n"
        assert read_all(pipes[1][0]) == b"two\n"
        if mode == "run":
            assert inside_fds(r.stdout) == {0, 1, 2, 3, 4}, r.stdout
    finally:
        for r_, _ in pipes:
            os.close(r_)


def test_preserve_fds_exec(berth, bundle):
    bundle.set_args("sleep", "1000")
    id = berth.run_detached(bundle).id
    pipes = [pipe(), pipe()]
    try:
        r = run_with_fds(berth, ["exec", "--preserve-fds", "2", id, "sh", "-c", f"echo a >&3; echo b >&4; {LIST}"],
                         [w for _, w in pipes])
        assert r.returncode == 0, r.stderr
        assert inside_fds(r.stdout) == {0, 1, 2, 3, 4}, r.stdout
        for _, w in pipes:
            os.close(w)
        assert read_all(pipes[0][0]) == b"a\n"
        assert read_all(pipes[1][0]) == b"b\n"
    finally:
        for r_, _ in pipes:
            os.close(r_)


# ---------------------------------------------------------------- socket activation

@pytest.mark.parametrize("pidns", [True, False])
def test_listen_fds(berth, bundle, pidns):
    if not pidns:
        bundle.remove_ns("pid")
    pipes = [pipe(), pipe(), pipe()]
    try:
        bundle.sh(f'echo "$LISTEN_FDS $LISTEN_PID $$"; echo l0 >&3; echo l1 >&4; echo p >&5; {LIST}')
        bundle.write()
        id = berth.new_id()
        berth.track(id, bundle)
        r = run_with_fds(berth, ["run", "--preserve-fds", "1", "--bundle", bundle.path, id],
                         [w for _, w in pipes], env="LISTEN_PID=$$ LISTEN_FDS=2")
        assert r.returncode == 0, r.stderr
        fds, pid, shell = r.stdout.splitlines()[0].split()
        assert fds == "2"
        assert pid == shell  # the container's process itself, as it sees its pid
        if pidns:
            assert pid == "1"
        assert inside_fds(r.stdout) == {0, 1, 2, 3, 4, 5}, r.stdout
        for _, w in pipes:
            os.close(w)
        assert [read_all(p[0]) for p in pipes] == [b"l0\n", b"l1\n", b"p\n"]
    finally:
        for r_, _ in pipes:
            os.close(r_)


def test_listen_fds_for_another_pid_ignored(berth, bundle):
    bundle.sh(f'echo "[$LISTEN_FDS]"; {LIST}')
    bundle.write()
    id = berth.new_id()
    berth.track(id, bundle)
    r_fd, w_fd = pipe()
    try:
        r = run_with_fds(berth, ["run", "--bundle", bundle.path, id], [w_fd], env="LISTEN_PID=1 LISTEN_FDS=1")
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[0] == "[]"
        assert inside_fds(r.stdout) == {0, 1, 2}
    finally:
        os.close(r_fd)
        os.close(w_fd)
