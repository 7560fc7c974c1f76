"""checkpoint and restore with CRIU (Debian's `criu`; scripts/setup installs
it).  Where CRIU works on this kernel, a counting container is checkpointed,
restored, and counts on from where it was.  Where it cannot work (CRIU 3.17
on a kernel newer than it knows: `criu check` fails), the same test checks
the failure instead: berth says that criu failed, with CRIU's own errors and
its log, and the container runs on as it was.  Either way one of the two is
checked; neither skips."""

import os
import shutil
import subprocess
import time

import pytest

from conftest import TIMEOUT, wait_for

CRIU = shutil.which("criu") or (os.path.exists("/usr/sbin/criu") and "/usr/sbin/criu")
COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /count; sleep 0.05; done"


def need_criu():
    if not CRIU:
        pytest.skip("criu is not installed (scripts/setup installs Debian's `criu`)")


def criu_works():
    """(works, why): `criu check` on this kernel."""
    r = subprocess.run([CRIU, "check"], capture_output=True, text=True, timeout=TIMEOUT)
    out = (r.stdout + r.stderr).strip()
    return r.returncode == 0 and "Error" not in out, out


def count(bundle):
    with open(os.path.join(bundle.rootfs, "count")) as f:
        text = f.read().strip()
    return int(text) if text else 0


def counting(berth, bundle):
    bundle.set_readonly(False)
    bundle.sh(COUNTER)
    id = berth.run_detached(bundle).id
    wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "count")) and count(bundle) >= 3,
             what="the counter to start")
    return id


def test_checkpoint_restore_counting(berth, bundle, tmp_path):
    need_criu()
    id = counting(berth, bundle)
    images = tmp_path / "images"
    works, why = criu_works()
    r = berth.run(["checkpoint", "--image-path", str(images), id], timeout=60)
    if not works:
        # This kernel is newer than this CRIU: the failure, said clearly, and nothing lost.
        assert r.returncode == 1
        assert r.stderr.startswith(f"berth: checkpoint container `{id}`: criu dump failed (exit status 1): Error ("), \
            r.stderr
        assert f"(log: {images}/dump.log)" in r.stderr
        first_error = next(l for l in why.splitlines() if l.startswith("Error"))
        assert first_error.split(": ", 1)[1] in r.stderr, (why, r.stderr)
        assert berth.status(id) == "running"
        seen = count(bundle)
        wait_for(lambda: count(bundle) > seen, what="the counter to go on")
        return
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(os.path.join(berth.root, id)), "the checkpointed container is still there"
    at_dump = count(bundle)
    time.sleep(0.3)
    assert count(bundle) == at_dump, "the container kept counting after its checkpoint"
    r = berth.run(["restore", "-d", "--image-path", str(images), "--bundle", bundle.path, id], timeout=60)
    assert r.returncode == 0, r.stderr
    berth.track(id, bundle)
    assert berth.status(id) == "running"
    wait_for(lambda: count(bundle) > at_dump + 2, what="the restored counter to go on")
    assert count(bundle) < at_dump + 200, "the counter started over instead of going on"


def test_leave_running(berth, bundle, tmp_path):
    need_criu()
    works, _ = criu_works()
    id = counting(berth, bundle)
    r = berth.run(["checkpoint", "--leave-running", "--image-path", str(tmp_path / "img"), id], timeout=60)
    assert r.returncode == (0 if works else 1), r.stderr
    assert berth.status(id) == "running"
    seen = count(bundle)
    wait_for(lambda: count(bundle) > seen, what="the counter to go on")


def test_criu_missing(berth, bundle, tmp_path):
    bundle.sh("sleep 60")
    id = berth.run_detached(bundle).id
    r = berth.run(["checkpoint", "--criu", str(tmp_path / "no-criu"), "--image-path", str(tmp_path / "img"), id])
    assert r.returncode == 1
    assert r.stderr == (f"berth: checkpoint container `{id}`: criu binary `{tmp_path}/no-criu` not found "
                        "(install Debian's `criu`, or give --criu PATH): No such file or directory\n")
    assert berth.status(id) == "running" and not (tmp_path / "img").exists()
    # the global option, as containerd passes it
    r = berth.run(["checkpoint", id], global_opts=["--criu", str(tmp_path / "no-criu")])
    assert r.returncode == 1 and f"criu binary `{tmp_path}/no-criu` not found" in r.stderr


def test_checkpoint_needs_a_running_container(berth, bundle, tmp_path):
    bundle.sh("sleep 60")
    id = berth.create(bundle).id
    r = berth.run(["checkpoint", "--image-path", str(tmp_path / "img"), id])
    assert r.returncode == 1 and f"cannot checkpoint container `{id}`: it is created" in r.stderr
    r = berth.run(["checkpoint", "--image-path", str(tmp_path / "img"), "nosuch"])
    assert r.returncode == 1 and "container `nosuch` does not exist" in r.stderr
    assert berth.status(id) == "created"


def test_restore_without_a_checkpoint(berth, bundle, tmp_path):
    need_criu()
    id = berth.new_id()
    berth.track(id, bundle)
    bundle.write()
    r = berth.run(["restore", "-d", "--image-path", str(tmp_path / "none"), "--bundle", bundle.path, id])
    assert r.returncode == 1
    assert r.stderr == (f"berth: restore container `{id}`: --image-path `{tmp_path}/none`: no checkpoint there "
                        "(no inventory.img): No such file or directory\n")
    assert not (tmp_path / "none").exists()
    berth.leftovers(id, rootfs=bundle.rootfs)


def test_restore_failure_leaves_nothing(berth, bundle, tmp_path):
    # Images CRIU cannot use: its failure is reported, and the cgroup and
    # state berth made for the container are gone again.
    need_criu()
    images = tmp_path / "bogus"
    images.mkdir()
    (images / "inventory.img").write_bytes(b"not an image")
    id = berth.new_id()
    berth.track(id, bundle)
    bundle.write()
    r = berth.run(["restore", "-d", "--image-path", str(images), "--bundle", bundle.path, id], timeout=60)
    assert r.returncode == 1
    assert r.stderr.startswith(f"berth: restore container `{id}`: criu restore failed (exit status 1)"), r.stderr
    assert f"(log: {images}/restore.log)" in r.stderr
    berth.leftovers(id, rootfs=bundle.rootfs)


def test_bad_options(berth):
    r = berth.run(["checkpoint", "--manage-cgroups-mode", "loose", "x"])
    assert r.returncode == 1
    assert "--manage-cgroups-mode: expected soft, full, strict or ignore, got `loose`" in r.stderr
    r = berth.run(["checkpoint", "--status-fd", "x", "x"])
    assert r.returncode == 1 and "--status-fd: expected an fd number, got `x`" in r.stderr
