"""process.terminal: the pty master handed over --console-socket (SCM_RIGHTS,
as containerd, Docker and Podman receive it), and the foreground proxy of
berth's own terminal (raw mode restored, window size passed on)."""

import fcntl
import os
import select
import signal
import socket
import struct
import subprocess
import termios
import time

import pytest

from test_exec import detached, reap  # noqa: F401 (a fixture)


class ConsoleSocket:
    """A unix socket an engine would listen on for the pty master."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.sock.settimeout(5)

    def receive(self):
        conn, _ = self.sock.accept()
        with conn:
            msg, fds, _, _ = socket.recv_fds(conn, 1024, 4)
        assert len(fds) == 1, fds
        return msg, fds[0]

    def close(self):
        self.sock.close()


@pytest.fixture
def console(tmp_path):
    c = ConsoleSocket(tmp_path / "console.sock")
    yield c
    c.close()


def read_until(fd, text, timeout=5.0):
    """Read `fd` until `text` appears; returns everything read."""
    buf = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {text!r}; got {buf!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side is closed
                chunk = b""
            if not chunk:
                raise AssertionError(f"end of output waiting for {text!r}; got {buf!r}")
            buf += chunk
    return buf.decode(errors="replace")


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def tty_bundle(bundle, *args):
    bundle.config["process"]["terminal"] = True
    bundle.set_args(*args)
    return bundle


# ---------------------------------------------------------------- console socket

def test_console_socket_run_detached(berth, bundle, console):
    tty_bundle(bundle, "sh")
    r = berth.run_detached(bundle, opts=["--console-socket", console.path])
    msg, master = console.receive()
    try:
        assert msg == b"/dev/ptmx"
        # markers the shell computes, so the echo of the command line never matches
        os.write(master, b"echo hi-$((6*7)); tty; [ /dev/console -ef $(tty) ] && echo console-$((1+1))\n")
        out = read_until(master, "console-2\r\n")
        assert "hi-42\r\n" in out
        assert "\n/dev/pts/0\r\n" in out
        os.write(master, b"exit 3\n")
        berth.wait_status(r.id, "stopped")
    finally:
        os.close(master)


def test_console_socket_create_start(berth, bundle, console):
    tty_bundle(bundle, "sh", "-c", "tty; stty size; read x; echo got-$x")
    bundle.config["process"]["consoleSize"] = {"height": 30, "width": 100}
    r = berth.create(bundle, opts=["--console-socket", console.path])
    _, master = console.receive()
    try:
        berth.run(["start", r.id], check=True)
        out = read_until(master, "30 100\r\n")
        assert "/dev/pts/0\r\n" in out
        os.write(master, b"line\n")
        read_until(master, "got-line\r\n")
    finally:
        os.close(master)


def test_console_is_controlling_terminal_of_user(berth, bundle, console):
    tty_bundle(bundle, "sh", "-c", "ls -ln $(tty); echo $$ $(cat /proc/self/stat | cut -d' ' -f6); read x")
    bundle.set_user(uid=1000, gid=1000)
    berth.run_detached(bundle, opts=["--console-socket", console.path])
    _, master = console.receive()
    try:
        out = read_until(master, " /dev/pts/0\r\n")
        if out.count("\r\n") < 2:
            out += read_until(master, "\r\n")
        lines = [l for l in out.splitlines() if l.strip()]
        assert lines[0].split()[2] == "1000"  # the user owns its terminal
        pid, session = lines[1].split()
        assert pid == session == "1"  # its own session
    finally:
        os.close(master)


def test_exec_tty_console_socket(berth, bundle, console, tmp_path):
    bundle.set_args("sleep", "1000")
    id = berth.run_detached(bundle).id
    pid_file = tmp_path / "exec.pid"
    r = berth.run(["exec", "-t", "-d", "--console-socket", console.path, "--pid-file", str(pid_file), id, "sh"])
    assert r.returncode == 0, r.stderr
    msg, master = console.receive()
    try:
        assert msg == b"/dev/ptmx"
        os.write(master, b"echo $((6*7)); tty\n")
        out = read_until(master, "\n/dev/pts/")
        assert "\n42\r\n" in out
        os.write(master, b"exit\n")
        _, status = os.waitpid(int(pid_file.read_text()), 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        os.close(master)


# ---------------------------------------------------------------- refused

def test_terminal_detached_needs_console_socket(berth, bundle, leftovers):
    tty_bundle(bundle, "sh")
    r = berth.create(bundle, check=False)
    assert r.returncode == 1
    assert "cannot allocate a terminal for a detached process without --console-socket" in r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)


@pytest.mark.parametrize("terminal,cmd", [(False, "create"), (True, "run")])
def test_console_socket_needs_terminal_and_detach(berth, bundle, console, leftovers, terminal, cmd):
    bundle.config["process"]["terminal"] = terminal
    bundle.set_args("true")
    bundle.write()
    id = berth.new_id()
    berth.track(id, bundle)
    r = berth.run([cmd, "--console-socket", console.path, "--bundle", bundle.path, id])
    assert r.returncode == 1
    assert "--console-socket: only for a detached process with a terminal" in r.stderr
    leftovers(id, rootfs=bundle.rootfs)


def test_console_socket_missing(berth, bundle, tmp_path, leftovers):
    tty_bundle(bundle, "sh")
    path = tmp_path / "nosuch.sock"
    r = berth.create(bundle, opts=["--console-socket", str(path)], check=False)
    assert r.returncode == 1
    assert f"connect to console socket `{path}`: No such file or directory" in r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)


# ---------------------------------------------------------------- foreground proxy

def under_pty(argv, rows, cols):
    """Start argv with a new pty as its controlling terminal and stdio."""
    master, slave = os.openpty()
    set_size(master, rows, cols)
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(slave)
    return p, master


SCRIPT = 'stty size; echo ready; while read x; do [ "$x" = q ] && exit 5; stty size; done'


@pytest.mark.parametrize("mode", ["run", "exec"])
def test_foreground_proxy(berth, bundle, mode):
    if mode == "run":
        tty_bundle(bundle, "sh", "-c", SCRIPT)
        bundle.write()
        id = berth.new_id()
        berth.track(id, bundle)
        argv = berth.cmd(["run", "--bundle", bundle.path, id])
    else:
        bundle.set_args("sleep", "1000")
        id = berth.run_detached(bundle).id
        argv = berth.cmd(["exec", "-t", id, "sh", "-c", SCRIPT])
    p, master = under_pty(argv, 24, 80)
    try:
        before = termios.tcgetattr(master)
        assert before[3] & termios.ECHO and before[3] & termios.ICANON
        out = read_until(master, "ready\r\n")
        # the container's terminal starts at berth's own size
        assert "24 80\r\n" in out
        # berth's terminal is raw while the container runs
        during = termios.tcgetattr(master)
        assert not during[3] & (termios.ECHO | termios.ICANON | termios.ISIG)
        set_size(master, 40, 120)  # SIGWINCH to berth, the pty's foreground
        os.write(master, b"x\r")
        read_until(master, "40 120\r\n")
        os.write(master, b"q\r")
        assert p.wait(timeout=10) == 5
        after = termios.tcgetattr(master)
        assert after == before
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)


def test_foreground_console_size_wins_at_start(berth, bundle):
    tty_bundle(bundle, "sh", "-c", "stty size")
    bundle.config["process"]["consoleSize"] = {"height": 33, "width": 99}
    bundle.write()
    id = berth.new_id()
    berth.track(id, bundle)
    p, master = under_pty(berth.cmd(["run", "--bundle", bundle.path, id]), 24, 80)
    try:
        read_until(master, "33 99\r\n")
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)


def test_foreground_terminal_with_pipes(berth, bundle):
    # terminal:true but berth's stdio are pipes: the pty is still proxied
    # (no raw mode), and end of input reaches a reader as end-of-file.
    tty_bundle(bundle, "sh", "-c", "cat; echo done-$?")
    r = berth.run_container(bundle, input="line one\n")
    assert r.returncode == 0, r.stderr
    assert "line one\r\n" in r.stdout
    assert "done-0\r\n" in r.stdout
