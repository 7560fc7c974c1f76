"""Paths that try to leave the rootfs: symlinked mount destinations (to /etc
on the host, to ../../.., through a chain), `..` in destinations, magic
links, a symlinked bind source, symlinked masked paths, and a /dev/null
that is not one.  In every case the host is untouched (files, directories,
mounts) and the container gets what runc documents: the destination
resolved inside the rootfs, as if the rootfs were `/`.

Each case runs twice: with openat2(RESOLVE_IN_ROOT), and with openat2
failing with ENOSYS so that berth's component walk resolves instead."""

import os
import uuid

import pytest

from fsutil import SYS_OPENAT2, dir_state, host_mountinfo, must_at, nosys, run_with_mountinfo


@pytest.fixture(params=["openat2", "walk"])
def resolver(request):
    """Keyword arguments for berth.sh/run_container choosing the resolver."""
    return {} if request.param == "openat2" else {"wrap": nosys(SYS_OPENAT2)}


@pytest.fixture
def host_untouched():
    """Fails the test if the host's /etc (listing and mtime), the names in /,
    or the host's mounts at / or in /etc changed while it ran.  (Other
    processes on the host come and go in /tmp and mount things elsewhere;
    the tests check their own names there.)"""
    def watched_mounts():
        return sorted((m["mountpoint"], m["fstype"], m["root"]) for m in host_mountinfo()
                      if m["mountpoint"] in ("/", "/etc") or m["mountpoint"].startswith("/etc/"))
    etc, top, mounts = dir_state("/etc"), sorted(os.listdir("/")), watched_mounts()
    yield
    assert dir_state("/etc") == etc, "host /etc changed"
    assert sorted(os.listdir("/")) == top, "host / changed"
    assert watched_mounts() == mounts, "host mounts changed"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def must_not_exist(path):
    """Assert a host path is absent; remove it if it is there, so a failure
    does not litter the host."""
    if os.path.lexists(path):
        try:
            os.rmdir(path)
        except OSError:
            os.unlink(path)
        raise AssertionError(f"berth created {path} on the host")


def tmpfs_at(bundle, dest):
    bundle.add_mount(dest, "tmpfs", "tmpfs", ["size=1m"])


# ---------------------------------------------------------------- destinations

def test_destination_symlink_to_host_etc(berth, bundle, resolver, host_untouched):
    etc_files = sorted(os.listdir("/etc"))
    os.symlink("/etc", os.path.join(bundle.rootfs, "mnt"))
    tmpfs_at(bundle, "/mnt")
    out, mounts = run_with_mountinfo(berth, bundle, "touch /etc/written-by-container; ls /etc", **resolver)
    # The container's /etc is what got the tmpfs ...
    assert must_at(mounts, "/etc")["fstype"] == "tmpfs"
    assert out.split() == ["written-by-container"]
    # ... never the host's.
    assert sorted(os.listdir("/etc")) == etc_files
    assert os.readlink(os.path.join(bundle.rootfs, "mnt")) == "/etc"


def test_destination_symlink_up_and_out(berth, bundle, resolver, host_untouched):
    name = unique("berth-safety")
    os.symlink("../../../../../../../../../..", os.path.join(bundle.rootfs, "up"))
    tmpfs_at(bundle, f"/up/{name}")
    _, mounts = run_with_mountinfo(berth, bundle, **resolver)
    must_not_exist(f"/{name}")
    assert must_at(mounts, f"/{name}")["fstype"] == "tmpfs"
    assert os.path.isdir(os.path.join(bundle.rootfs, name))


def test_destination_symlink_chain(berth, bundle, tmp_path, resolver, host_untouched):
    host_target = tmp_path / "host-target"
    host_target.mkdir()
    # a -> b -> /c/d, c -> ../../..<host_target>: each step looks outward.
    os.symlink("b", os.path.join(bundle.rootfs, "a"))
    os.symlink("/c/d", os.path.join(bundle.rootfs, "b"))
    os.symlink("../../../../../../../../.." + str(host_target), os.path.join(bundle.rootfs, "c"))
    tmpfs_at(bundle, "/a/made-here")
    _, mounts = run_with_mountinfo(berth, bundle, **resolver)
    assert list(host_target.iterdir()) == [], "berth wrote into the host directory"
    inside = str(host_target) + "/d/made-here"
    assert must_at(mounts, inside)["fstype"] == "tmpfs"
    assert os.path.isdir(os.path.join(bundle.rootfs, inside.lstrip("/")))


def test_dotdot_in_destination(berth, bundle, resolver, host_untouched):
    name = unique("berth-dotdot")
    tmpfs_at(bundle, f"/../../../../../../../tmp/{name}")
    _, mounts = run_with_mountinfo(berth, bundle, **resolver)
    must_not_exist(f"/tmp/{name}")
    assert must_at(mounts, f"/tmp/{name}")["fstype"] == "tmpfs"


def test_magic_link_destination_refused(berth, bundle, resolver, host_untouched):
    # /proc is mounted first: /proc/self/root would be the host's / for the init.
    name = unique("berth-magic")
    tmpfs_at(bundle, f"/proc/self/root/{name}")
    r = berth.run_container(bundle, **resolver)
    must_not_exist(f"/{name}")
    assert r.returncode == 1
    assert f"`/proc/self/root/{name}` in the rootfs: Too many levels of symbolic links" in r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)


def test_symlink_loop_destination(berth, bundle, resolver, host_untouched):
    os.symlink("loop-b", os.path.join(bundle.rootfs, "loop-a"))
    os.symlink("/loop-a", os.path.join(bundle.rootfs, "loop-b"))
    tmpfs_at(bundle, "/loop-a/x")
    r = berth.run_container(bundle, **resolver)
    assert r.returncode == 1
    assert "`/loop-a/x` in the rootfs: Too many levels of symbolic links" in r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)


def test_device_path_symlink(berth, bundle, tmp_path, resolver, host_untouched):
    # linux.devices paths go through the same resolver.
    host_dir = tmp_path / "host-dev"
    host_dir.mkdir()
    os.symlink("../../../../../../.." + str(host_dir), os.path.join(bundle.rootfs, "devlink"))
    bundle.linux["devices"] = [{"type": "c", "path": "/devlink/mynull", "major": 1, "minor": 3}]
    out = berth.sh(bundle, f"stat -c %t:%T {host_dir}/mynull", **resolver)
    assert out == "1:3\n"
    assert list(host_dir.iterdir()) == []


# ---------------------------------------------------------------- bind sources

def test_bind_source_symlinks(berth, bundle, tmp_path, host_untouched):
    """A bind source is a host path the caller chose: symlinks in it are
    followed on the host (as runc does), and the destination is made as what
    the link points to: a directory for a directory, a file for a file."""
    srcdir = tmp_path / "srcdir"
    srcdir.mkdir()
    (srcdir / "f").write_text("in dir\n")
    srcfile = tmp_path / "srcfile"
    srcfile.write_text("a file\n")
    (tmp_path / "dirlink").symlink_to(srcdir)
    (tmp_path / "filelink").symlink_to(srcfile)
    bundle.add_mount("/m/dir", "bind", str(tmp_path / "dirlink"), ["bind"])
    bundle.add_mount("/m/file", "bind", str(tmp_path / "filelink"), ["bind", "ro"])
    out = berth.sh(bundle, "cat /m/dir/f /m/file")
    assert out == "in dir\na file\n"
    assert os.path.isdir(os.path.join(bundle.rootfs, "m", "dir"))
    made = os.path.join(bundle.rootfs, "m", "file")
    assert os.path.isfile(made) and not os.path.islink(made)
    assert os.readlink(tmp_path / "dirlink") == str(srcdir)


# ---------------------------------------------------------------- masked and read-only paths

def test_masked_path_symlink_masks_inside(berth, bundle, resolver, host_untouched):
    data = os.path.join(bundle.rootfs, "data")
    os.makedirs(os.path.join(data, "dir"))
    with open(os.path.join(data, "secret"), "w") as f:
        f.write("secret\n")
    with open(os.path.join(data, "dir", "inner"), "w") as f:
        f.write("inner\n")
    os.symlink("/data/secret", os.path.join(bundle.rootfs, "file-link"))
    os.symlink("../../../../../../data/dir", os.path.join(bundle.rootfs, "dir-link"))
    bundle.linux["maskedPaths"] = ["/file-link", "/dir-link"]
    out = berth.sh(bundle, "cat /data/secret; ls -A /data/dir; echo end", **resolver)
    assert out == "end\n", "the symlinks' targets inside the rootfs were not masked"
    with open(os.path.join(data, "secret")) as f:
        assert f.read() == "secret\n"


def test_readonly_path_symlink(berth, bundle, resolver, host_untouched):
    os.makedirs(os.path.join(bundle.rootfs, "data"))
    os.symlink("/data", os.path.join(bundle.rootfs, "ro-link"))
    bundle.set_readonly(False)
    bundle.linux["readonlyPaths"] = ["/ro-link"]
    out = berth.sh(bundle, "touch /data/x 2>&1; touch /y && echo root-rw", **resolver)
    assert "Read-only file system" in out and "root-rw" in out


def test_masking_uses_the_hosts_dev_null(berth, bundle, resolver, host_untouched):
    """CVE-2025-31133: an image whose /dev/null is a symlink to a procfs file
    must not get that file bound, writable, over a masked path."""
    for dest in ("/dev/pts", "/dev/shm", "/dev/mqueue", "/dev"):
        bundle.remove_mount(dest)
    os.symlink("/proc/sys/kernel/hostname", os.path.join(bundle.rootfs, "dev", "null"))
    bundle.set_ns("uts")
    bundle.config["hostname"] = "leaked-hostname"
    bundle.linux["maskedPaths"] = ["/proc/timer_list"]
    out = berth.sh(bundle, "stat -c %t:%T /proc/timer_list; cat /proc/timer_list; echo end", **resolver)
    assert out == "1:3\nend\n"


def test_mask_with_missing_paths_skipped(berth, bundle, resolver):
    bundle.linux["maskedPaths"] = ["/nosuch/file", "/bin/busybox/not-a-dir", "/proc/timer_list"]
    assert berth.sh(bundle, "cat /proc/timer_list; echo end", **resolver) == "end\n"
