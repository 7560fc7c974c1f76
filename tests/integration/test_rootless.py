"""Rootless: berth run by an unprivileged user (uid 65534 through setpriv)
with a user namespace mapping that user's own uid.  berth writes `deny` to
setgroups before the gid map (the kernel requires it), runs the container
in the caller's own cgroup when it may not create one (as runc does), and
keeps its state under $XDG_RUNTIME_DIR/berth by default."""

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import BERTH, TIMEOUT, Berth, container_cgroup_dirs, mountinfo
from fsutil import must_at, run_with_mountinfo

UID = 65534
SETPRIV = ["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups"]
ONE = [{"containerID": 0, "hostID": UID, "size": 1}]


@pytest.fixture(scope="module", autouse=True)
def need_setpriv():
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is needed to run berth as an unprivileged user")


def user_dir():
    d = tempfile.mkdtemp(prefix="berth-rootless-")
    os.chmod(d, 0o755)
    os.chown(d, UID, UID)
    return d


@pytest.fixture
def rootless():
    """A Berth whose --root belongs to the unprivileged user; its commands
    run as that user (teardown's force-delete runs as root)."""
    d = user_dir()
    b = Berth(os.path.join(d, "state"))
    os.mkdir(b.root)
    os.chown(b.root, UID, UID)
    yield b
    b.teardown()
    shutil.rmtree(d, ignore_errors=True)


def rootless_config(bundle):
    """What `runc spec --rootless` changes, on berth's default config: one
    mapped id, no devpts gid=5 (unmapped), no resources (no cgroup to put
    them in)."""
    bundle.set_ns("user")
    bundle.linux["uidMappings"] = ONE
    bundle.linux["gidMappings"] = ONE
    bundle.linux.pop("resources", None)
    for m in bundle.config["mounts"]:
        if m["type"] == "devpts":
            m["options"] = [o for o in m["options"] if o != "gid=5"]
    return bundle


@pytest.fixture
def rbundle(make_bundle):
    return rootless_config(make_bundle(traversable=True))


def test_rootless_run(rootless, rbundle):
    script = "id -u; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups"
    out, mounts = run_with_mountinfo(rootless, rbundle, script, wrap=SETPRIV)
    lines = out.splitlines()
    assert lines[0] == "0"
    assert lines[1].split() == ["0", str(UID), "1"] and lines[2].split() == ["0", str(UID), "1"]
    assert lines[3] == "deny"
    for m in rbundle.config["mounts"]:
        must_at(mounts, m["destination"])


def test_rootless_host_view_and_no_cgroup(rootless, rbundle):
    rbundle.set_args("sleep", "100")
    rbundle.write()
    id = rootless.new_id()
    rootless.track(id, rbundle)
    r = rootless.run(["run", "-d", "--bundle", rbundle.path, id], wrap=SETPRIV)
    assert r.returncode == 0, r.stderr
    st = rootless.state(id)
    assert st["status"] == "running"
    with open(f"/proc/{st['pid']}/status") as f:
        uids = next(l for l in f if l.startswith("Uid:")).split()[1:]
    assert uids == [str(UID)] * 4
    # No cgroup could be made: the container stays in the caller's.
    for _, d in container_cgroup_dirs(id):
        assert not os.path.exists(d), d
    # The unprivileged user manages it.
    assert rootless.run(["kill", id, "KILL"], wrap=SETPRIV).returncode == 0
    rootless.wait_status(id, "stopped")
    r = rootless.run(["delete", id], wrap=SETPRIV)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(os.path.join(rootless.root, id))


def test_rootless_additional_gids_refused(rootless, rbundle):
    rbundle.set_user(0, 0, additional_gids=[0])
    r = rootless.run_container(rbundle, wrap=SETPRIV)
    assert r.returncode == 1
    assert "process.user.additionalGids: setgroups: Operation not permitted" in r.stderr
    rootless.leftovers(r.id, rootfs=rbundle.rootfs)


def test_rootless_mapping_someone_elses_uid(rootless, rbundle):
    rbundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 1}]
    r = rootless.run_container(rbundle, wrap=SETPRIV)
    assert r.returncode == 1
    assert "write uid_map `0 0 1`: Operation not permitted" in r.stderr
    rootless.leftovers(r.id, rootfs=rbundle.rootfs)


def test_rootless_without_user_namespace(rootless, make_bundle):
    bundle = make_bundle(traversable=True)
    bundle.linux.pop("resources", None)
    r = rootless.run_container(bundle, wrap=SETPRIV)
    assert r.returncode == 1
    assert "clone the container init: Operation not permitted" in r.stderr
    rootless.leftovers(r.id, rootfs=bundle.rootfs)


def test_rootless_idmap_refused(rootless, rbundle):
    src = os.path.join(os.path.dirname(rbundle.path), "src")
    os.mkdir(src)
    rbundle.add_mount("/src", "bind", src, ["bind", "idmap"])
    os.mkdir(os.path.join(rbundle.rootfs, "src"))
    r = rootless.run_container(rbundle, wrap=SETPRIV)
    assert r.returncode == 1
    assert f"mounts[7]: `idmap`: clone `{src}`: Operation not permitted" in r.stderr
    rootless.leftovers(r.id, rootfs=rbundle.rootfs)


def test_rootless_default_root_is_xdg_runtime_dir(rbundle):
    xdg = user_dir()
    try:
        env = dict(os.environ, XDG_RUNTIME_DIR=xdg)
        rbundle.set_args("true")
        rbundle.write()
        r = subprocess.run([*SETPRIV, BERTH, "run", "--keep", "--bundle", rbundle.path, "xdg-test"],
                           env=env, capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr
        assert os.path.isdir(os.path.join(xdg, "berth", "xdg-test"))
        r = subprocess.run([*SETPRIV, BERTH, "delete", "xdg-test"], env=env, capture_output=True, text=True,
                           timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr
        assert os.listdir(os.path.join(xdg, "berth")) == []
    finally:
        real = os.path.realpath(rbundle.rootfs)
        assert not any(m["mountpoint"].startswith(real) for m in mountinfo())
        shutil.rmtree(xdg, ignore_errors=True)


def test_rootless_runc_spec(rootless, make_bundle, tmp_path):
    runc = shutil.which("runc")
    if not runc:
        pytest.skip("runc is not installed (apt-get install runc): no `runc spec --rootless` to run")
    bundle = make_bundle(traversable=True)
    d = os.path.join(os.path.dirname(bundle.path), "runc-spec")
    os.mkdir(d)
    os.chown(d, UID, UID)
    subprocess.run([*SETPRIV, runc, "spec", "--rootless", "--bundle", d], check=True, timeout=TIMEOUT)
    with open(os.path.join(d, "config.json")) as f:
        config = json.load(f)
    assert config["linux"]["uidMappings"][0]["hostID"] == UID
    config["process"]["terminal"] = False
    bundle.config = config
    out, mounts = run_with_mountinfo(rootless, bundle, "id -u", wrap=SETPRIV)
    assert out == "0\n"
    for m in config["mounts"]:
        must_at(mounts, m["destination"])
