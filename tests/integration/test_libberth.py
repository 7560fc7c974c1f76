"""libberth driven directly, without the CLI (tests/lib/libberth-run.c)."""

import os
import re
import subprocess

import pytest

from conftest import LIBBERTH_RUN, TIMEOUT


@pytest.fixture
def libberth_run(berth):
    if not os.access(LIBBERTH_RUN, os.X_OK):
        pytest.skip(f"{LIBBERTH_RUN} not built (set $LIBBERTH_RUN or run make)")

    def run(bundle, id=None):
        id = id or berth.new_id()
        bundle.write()
        berth.track(id, bundle)
        r = subprocess.run([LIBBERTH_RUN, berth.root, bundle.path, id], capture_output=True,
                           text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        r.id = id
        return r
    return run


def parse(stdout):
    m = re.fullmatch(r"pid=(\d+) exit=(\d+) signal=(\d+) oom=([01])\n", stdout)
    assert m, f"unexpected output: {stdout!r}"
    return tuple(int(g) for g in m.groups())


def test_run_exit_status(libberth_run, berth, bundle, leftovers):
    bundle.set_ns("pid")
    bundle.sh("exit 5")
    r = libberth_run(bundle)
    assert r.returncode == 0, r.stderr
    pid, code, sig, oom = parse(r.stdout)
    assert pid > 0
    assert (code, sig, oom) == (5, 0, 0)
    # berth_run deletes the container once it has ended
    assert "does not exist" in berth.run(["state", r.id]).stderr
    leftovers(r.id, pid=pid, rootfs=bundle.rootfs)


def test_run_container_output(libberth_run, bundle):
    bundle.sh("echo from-the-container")
    r = libberth_run(bundle)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("from-the-container\n")
    parse(r.stdout[len("from-the-container\n"):])


def test_run_error_object(libberth_run, berth, bundle, leftovers):
    bundle.config["process"]["user"]["uid"] = -1
    r = libberth_run(bundle)
    assert r.returncode == 1
    assert "process.user.uid: expected a non-negative integer" in r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)


def test_run_error_errno(libberth_run, berth, bundle):
    os.unlink(bundle.config_path)
    r = subprocess.run([LIBBERTH_RUN, berth.root, bundle.path, berth.new_id()],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 1
    assert f"open `{bundle.path}/config.json`: No such file or directory" in r.stderr
    assert "(errno=2)" in r.stderr
