"""process.terminal false: stdio passed through untouched — byte-exact data,
end of input propagated — for run, create + start (the init keeps the fds
given to create) and exec."""

import os
import subprocess
import tempfile

import pytest

from conftest import TIMEOUT

# Every byte value, NULs and CRs included, and more than a pipe buffer holds.
DATA = bytes(range(256)) * 1024 + b"\r\n\x00end"


def pipe_through(argv, data):
    p = subprocess.run(argv, input=data, capture_output=True, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def test_run_stdio_byte_exact(berth, bundle):
    bundle.sh("cat; echo eof-seen >&2")
    bundle.write()
    id = berth.new_id()
    berth.track(id, bundle)
    code, out, err = pipe_through(berth.cmd(["run", "--bundle", bundle.path, id]), DATA)
    assert code == 0, err
    assert out == DATA
    assert err == b"eof-seen\n"


def test_run_stderr_byte_exact(berth, bundle):
    bundle.sh("cat >&2")
    bundle.write()
    id = berth.new_id()
    berth.track(id, bundle)
    code, out, err = pipe_through(berth.cmd(["run", "--bundle", bundle.path, id]), DATA)
    assert code == 0
    assert out == b""
    assert err == DATA


def test_run_stdio_files(berth, bundle, tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    src.write_bytes(DATA)
    bundle.sh("cat")
    bundle.write()
    id = berth.new_id()
    berth.track(id, bundle)
    with open(src, "rb") as i, open(dst, "wb") as o:
        r = subprocess.run(berth.cmd(["run", "--bundle", bundle.path, id]), stdin=i, stdout=o,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert dst.read_bytes() == DATA


def test_create_start_keeps_create_stdio(berth, bundle):
    # The init keeps the pipes `create` was given; `start`, run with other
    # stdio, changes nothing about them.
    bundle.sh("cat; echo status-$? >&2")
    bundle.write()
    id = berth.new_id()
    berth.track(id, bundle)
    p = subprocess.Popen(berth.cmd(["create", "--bundle", bundle.path, id]), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # create exits while the init holds the pipes: wait for that, not for EOF
    assert p.wait(timeout=TIMEOUT) == 0
    berth.state(id)
    berth.run(["start", id], check=True)
    out, err = p.communicate(DATA, timeout=TIMEOUT)
    assert out == DATA
    assert err == b"status-0\n"


@pytest.fixture
def sleeper(berth, bundle):
    bundle.set_args("sleep", "1000")
    return berth.run_detached(bundle).id


def test_exec_stdio_byte_exact(berth, sleeper):
    code, out, err = pipe_through(berth.cmd(["exec", sleeper, "sh", "-c", "cat; echo eof-seen >&2"]), DATA)
    assert code == 0, err
    assert out == DATA
    assert err == b"eof-seen\n"


def test_exec_empty_stdin_is_eof(berth, sleeper):
    code, out, _ = pipe_through(berth.cmd(["exec", sleeper, "wc", "-c"]), b"")
    assert code == 0
    assert out.strip() == b"0"


# ---------------------------------------------------------------- sd_notify

NOTIFY_C = r"""
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(int argc, char **argv)
{
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        if (!path || argc < 2 || strlen(path) >= sizeof a.sun_path)
                return 2;
        strcpy(a.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        return sendto(fd, argv[1], strlen(argv[1]), 0, (struct sockaddr *)&a, sizeof a) < 0 ? 1 : 0;
}
"""


@pytest.fixture(scope="session")
def notify_tool(tmp_path_factory):
    """A static sd_notify sender for the busybox rootfs (busybox has none)."""
    import shutil
    if not shutil.which("cc"):
        pytest.skip("no C compiler to build the static sd_notify sender")
    d = tmp_path_factory.mktemp("notify")
    (d / "notify.c").write_text(NOTIFY_C)
    r = subprocess.run(["cc", "-static", "-O2", "-o", str(d / "notify"), str(d / "notify.c")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot link a static program (libc.a missing?): {r.stderr}")
    return d / "notify"


@pytest.fixture
def host_notify(tmp_path):
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "host-notify.sock"
    s.bind(str(path))
    s.settimeout(10)
    yield str(path), s
    s.close()


def notify_bundle(bundle, tool, script):
    import shutil
    shutil.copy(tool, os.path.join(bundle.rootfs, "bin", "sd-notify"))
    bundle.sh(script)
    bundle.write()


@pytest.mark.parametrize("mode", ["run-d", "create-start"])
def test_notify_socket_ready_detached(berth, bundle, notify_tool, host_notify, mode):
    path, sock = host_notify
    bundle.set_readonly(False)
    notify_bundle(bundle, notify_tool,
                  'echo "$NOTIFY_SOCKET" > /tmp/env; sd-notify "STATUS=starting"; sd-notify READY=1; sleep 1000')
    id = berth.new_id()
    berth.track(id, bundle)
    env = {**os.environ, "NOTIFY_SOCKET": path}

    def berth_cmd(args, env=None):
        # files, not pipes: the detached container keeps its stdio open
        with tempfile.TemporaryFile() as err:
            r = subprocess.run(berth.cmd(args), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=err, timeout=TIMEOUT)
            err.seek(0)
            assert r.returncode == 0, err.read()
    if mode == "run-d":
        berth_cmd(["run", "-d", "--bundle", bundle.path, id], env)  # returns once the container said READY
    else:
        berth_cmd(["create", "--bundle", bundle.path, id], env)
        berth_cmd(["start", id])
    pid = berth.state(id)["pid"]
    msg = sock.recv(4096).decode()
    assert msg == f"READY=1\nMAINPID={pid}\n"
    with open(os.path.join(bundle.rootfs, "tmp", "env")) as f:
        assert f.read() == "/run/notify/notify.sock\n"


def test_notify_socket_foreground(berth, bundle, notify_tool, host_notify):
    path, sock = host_notify
    notify_bundle(bundle, notify_tool, "sd-notify READY=1; exit 4")
    id = berth.new_id()
    berth.track(id, bundle)
    p = subprocess.Popen(berth.cmd(["run", "--notify-socket", path, "--bundle", bundle.path, id]),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    msg = sock.recv(4096).decode()
    assert p.wait(timeout=TIMEOUT) == 4
    # in the foreground berth stays, so it is the main pid
    assert msg == f"READY=1\nMAINPID={p.pid}\n"
