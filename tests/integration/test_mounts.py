"""mounts: every filesystem type and option runc knows, checked from inside
the container (mountinfo, stat, writes that must fail); destinations made
inside the rootfs; linux.devices; linux.rootfsPropagation; and the default
configs of `berth spec` and `runc spec` running unchanged."""

import json
import os
import shutil
import stat
import subprocess

import pytest

from conftest import TIMEOUT
from fsutil import SYS_MOUNT_SETATTR, at, group, must_at, nosys, parse_mountinfo, propagation, run_with_mountinfo


def tmpfs(bundle, dest, *options):
    bundle.add_mount(dest, "tmpfs", "tmpfs", list(options))


# ---------------------------------------------------------------- the default configs

def test_berth_spec_default_runs(berth, bundle):
    """`berth spec` as written (only the process replaced): every mount is there."""
    _, mounts = run_with_mountinfo(berth, bundle)
    for m in bundle.config["mounts"]:
        got = must_at(mounts, m["destination"])
        if m["type"] != "cgroup":
            assert got["fstype"] == m["type"]


def test_runc_spec_default_runs(berth, bundle, tmp_path):
    runc = shutil.which("runc")
    if not runc:
        pytest.skip("runc is not installed (apt-get install runc): no `runc spec` to compare with")
    d = tmp_path / "runc-spec"
    d.mkdir()
    subprocess.run([runc, "spec", "--bundle", str(d)], check=True, timeout=TIMEOUT)
    config = json.loads((d / "config.json").read_text())
    config["process"]["terminal"] = False
    bundle.config = config
    bundle.sh("cat /proc/self/mountinfo; hostname")
    r = berth.run_container(bundle)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[-1] == config["hostname"]
    mounts = parse_mountinfo("\n".join(out[:-1]))
    for m in config["mounts"]:
        must_at(mounts, m["destination"])


# ---------------------------------------------------------------- filesystem types and data

def test_tmpfs_data_passed_through(berth, bundle):
    tmpfs(bundle, "/t", "mode=0711", "size=2m", "uid=1234", "gid=4321", "nr_inodes=100")
    out, mounts = run_with_mountinfo(berth, bundle, "stat -c '%a %u %g' /t")
    assert out.split() == ["711", "1234", "4321"]
    sup = must_at(mounts, "/t")["super"]
    for opt in ("size=2048k", "mode=711", "uid=1234", "gid=4321", "nr_inodes=100"):
        assert opt in sup, sup


def test_overlay(berth, bundle):
    base = os.path.join(bundle.path, "ovl")
    for d in ("lower", "upper", "work"):
        os.makedirs(os.path.join(base, d))
    with open(os.path.join(base, "lower", "from-lower"), "w") as f:
        f.write("lower\n")
    data = f"lowerdir={base}/lower,upperdir={base}/upper,workdir={base}/work"
    bundle.add_mount("/o", "overlay", "overlay", [data])
    out, mounts = run_with_mountinfo(berth, bundle, "cat /o/from-lower; echo new > /o/from-container")
    assert out == "lower\n"
    assert must_at(mounts, "/o")["fstype"] == "overlay"
    with open(os.path.join(base, "upper", "from-container")) as f:
        assert f.read() == "new\n"
    assert not os.path.exists(os.path.join(base, "lower", "from-container"))


def test_overlay_relative_paths_from_the_callers_cwd(berth, bundle):
    """Paths in mount options are the kernel's to read, relative to the cwd
    berth was called in (berth mounts from inside the targets, and goes back
    for these)."""
    base = os.path.join(bundle.path, "ovl")
    for d in ("lower", "upper", "work"):
        os.makedirs(os.path.join(base, d))
    with open(os.path.join(base, "lower", "from-lower"), "w") as f:
        f.write("relative\n")
    bundle.add_mount("/o", "overlay", "overlay", ["lowerdir=lower,upperdir=upper,workdir=work"])
    bundle.set_args("cat", "/o/from-lower")
    r = berth.run_container(bundle, wrap=["env", "-C", base])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "relative\n"


def test_devpts_proc_sysfs_mqueue_options(berth, bundle):
    # The default spec's own filesystems, with their data as written.
    _, mounts = run_with_mountinfo(berth, bundle)
    pts = must_at(mounts, "/dev/pts")
    assert {"gid=5", "mode=620", "ptmxmode=666"} <= set(pts["super"])
    assert must_at(mounts, "/proc")["fstype"] == "proc"
    assert "ro" in must_at(mounts, "/sys")["options"]
    assert must_at(mounts, "/dev/mqueue")["fstype"] == "mqueue"


# ---------------------------------------------------------------- flags

@pytest.mark.parametrize("flag", ["nosuid", "nodev", "noexec", "ro"])
def test_flag_set(berth, bundle, flag):
    tmpfs(bundle, "/t", flag)
    _, mounts = run_with_mountinfo(berth, bundle)
    assert flag in must_at(mounts, "/t")["options"]


def test_ro_write_fails(berth, bundle):
    tmpfs(bundle, "/t", "ro")
    out = berth.sh(bundle, "touch /t/x 2>&1; echo rc=$?")
    assert "Read-only file system" in out and "rc=1" in out


def test_noexec_exec_fails(berth, bundle):
    tmpfs(bundle, "/t", "noexec", "mode=1777")
    out = berth.sh(bundle, "cp /bin/busybox /t/bb && /t/bb true 2>&1; echo rc=$?")
    assert "Permission denied" in out and "rc=126" in out


def test_rw_clears_ro(berth, bundle):
    tmpfs(bundle, "/t", "ro", "rw")
    out, mounts = run_with_mountinfo(berth, bundle, "touch /t/x && echo ok")
    assert out == "ok\n"
    assert "rw" in must_at(mounts, "/t")["options"]


@pytest.mark.parametrize("options,present,absent", [
    (["relatime"], {"relatime"}, {"noatime"}),
    (["noatime"], {"noatime"}, {"relatime"}),
    (["strictatime"], set(), {"relatime", "noatime"}),
    (["strictatime", "nostrictatime"], {"relatime"}, {"noatime"}),  # back to the kernel's default
    (["nodiratime"], {"nodiratime"}, set()),
])
def test_atime(berth, bundle, options, present, absent):
    tmpfs(bundle, "/t", *options)
    _, mounts = run_with_mountinfo(berth, bundle)
    got = set(must_at(mounts, "/t")["options"])
    assert present <= got and not (absent & got), got


def test_sync_dirsync_mand(berth, bundle):
    # Filesystem flags: they show among the superblock's options.
    tmpfs(bundle, "/t", "sync", "dirsync", "mand")
    _, mounts = run_with_mountinfo(berth, bundle)
    sup = must_at(mounts, "/t")["super"]
    assert "sync" in sup and "dirsync" in sup


def test_remount(berth, bundle):
    tmpfs(bundle, "/t", "size=1m")
    bundle.add_mount("/t", "tmpfs", "tmpfs", ["remount", "ro", "size=2m"])
    out, mounts = run_with_mountinfo(berth, bundle, "touch /t/x 2>&1; true")
    assert "Read-only file system" in out
    got = [m for m in mounts if m["mountpoint"] == "/t"]
    assert len(got) == 1, "remount made a new mount"
    assert "ro" in got[0]["options"] and "size=2048k" in got[0]["super"]


def test_bind_remount(berth, bundle, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    bundle.add_mount("/b", "bind", str(src), ["bind"])
    bundle.add_mount("/b", None, None, ["remount", "bind", "ro", "nosuid"])
    _, mounts = run_with_mountinfo(berth, bundle)
    got = [m for m in mounts if m["mountpoint"] == "/b"]
    assert len(got) == 1
    assert {"ro", "nosuid"} <= set(got[0]["options"])


# ---------------------------------------------------------------- binds

def test_bind_directory(berth, bundle, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "host-file").write_text("from host\n")
    bundle.add_mount("/data/deep", "bind", str(src), ["rbind"])
    out = berth.sh(bundle, "cat /data/deep/host-file; echo back > /data/deep/from-container")
    assert out == "from host\n"
    assert (src / "from-container").read_text() == "back\n"
    # The destination was made inside the rootfs, as directories.
    assert os.path.isdir(os.path.join(bundle.rootfs, "data", "deep"))


def test_bind_file_makes_file_destination(berth, bundle, tmp_path):
    src = tmp_path / "one-file"
    src.write_text("content\n")
    bundle.add_mount("/etc/conf/app.conf", "bind", str(src), ["bind", "ro"])
    out = berth.sh(bundle, "cat /etc/conf/app.conf; echo x > /etc/conf/app.conf 2>&1; echo rc=$?")
    assert out.startswith("content\n") and "rc=1" in out
    dest = os.path.join(bundle.rootfs, "etc", "conf", "app.conf")
    st = os.lstat(dest)
    assert stat.S_ISREG(st.st_mode) and st.st_size == 0, "destination is not an empty file"
    assert src.read_text() == "content\n"


def test_bind_relative_source_is_bundle_relative(berth, bundle):
    os.makedirs(os.path.join(bundle.path, "rel-src"))
    with open(os.path.join(bundle.path, "rel-src", "f"), "w") as f:
        f.write("rel\n")
    bundle.add_mount("/r", "bind", "rel-src", ["bind"])
    assert berth.sh(bundle, "cat /r/f") == "rel\n"


def test_bind_readonly_really_readonly(berth, bundle, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("keep\n")
    bundle.add_mount("/b", "bind", str(src), ["bind", "ro"])
    out, mounts = run_with_mountinfo(berth, bundle, "(echo changed > /b/f) 2>&1; touch /b/new 2>&1; true")
    assert out.count("Read-only file system") == 2
    assert "ro" in must_at(mounts, "/b")["options"]
    assert (src / "f").read_text() == "keep\n" and not (src / "new").exists()


def test_bind_missing_source(berth, bundle, tmp_path):
    src = tmp_path / "nosuch"
    bundle.add_mount("/b", "bind", str(src), ["bind"])
    r = berth.run_container(bundle)
    assert r.returncode == 1
    assert f"mount `{src}` on `/b`: No such file or directory" in r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)


SUBMOUNT = ('mount -t tmpfs -o size=1m sub "$SRC/sub" && echo in-sub > "$SRC/sub/f" && '
            'exec "$@"')


def with_submount(src):
    """A `wrap` running berth in a private mount namespace where `src/sub`
    is a tmpfs: a bind source with a submount, without touching the host's mounts."""
    os.makedirs(os.path.join(src, "sub"), exist_ok=True)
    return ["env", f"SRC={src}", "unshare", "-m", "--propagation", "private",
            "sh", "-c", SUBMOUNT, "sh"]


def run_wrapped(berth, bundle, src, script):
    bundle.sh(f"{script}; echo '---'; cat /proc/self/mountinfo")
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    r = berth.run(["run", "--bundle", bundle.path, id], wrap=with_submount(src))
    assert r.returncode == 0, r.stderr
    out, info = r.stdout.split("---\n", 1)
    return out, parse_mountinfo(info)


def test_bind_is_not_recursive(berth, bundle, tmp_path):
    bundle.add_mount("/b", "bind", str(tmp_path / "src"), ["bind"])
    out, mounts = run_wrapped(berth, bundle, tmp_path / "src", "ls /b/sub")
    assert out == "" and at(mounts, "/b/sub") is None


def test_rbind_is_recursive(berth, bundle, tmp_path):
    bundle.add_mount("/b", "bind", str(tmp_path / "src"), ["rbind"])
    out, mounts = run_wrapped(berth, bundle, tmp_path / "src", "cat /b/sub/f")
    assert out == "in-sub\n" and must_at(mounts, "/b/sub")["fstype"] == "tmpfs"


def test_rbind_ro_only_top_readonly(berth, bundle, tmp_path):
    # Plain `ro` is the mount's own flag, as with runc: submounts keep theirs.
    bundle.add_mount("/b", "bind", str(tmp_path / "src"), ["rbind", "ro"])
    out, mounts = run_wrapped(berth, bundle, tmp_path / "src", "touch /b/x 2>&1; touch /b/sub/y && echo sub-rw")
    assert "Read-only file system" in out and "sub-rw" in out
    assert "ro" in must_at(mounts, "/b")["options"]
    assert "rw" in must_at(mounts, "/b/sub")["options"]


def test_rro_makes_the_whole_tree_readonly(berth, bundle, tmp_path):
    bundle.add_mount("/b", "bind", str(tmp_path / "src"), ["rbind", "rro"])
    out, mounts = run_wrapped(berth, bundle, tmp_path / "src", "touch /b/x 2>&1; touch /b/sub/y 2>&1; true")
    assert out.count("Read-only file system") == 2
    assert "ro" in must_at(mounts, "/b")["options"]
    assert "ro" in must_at(mounts, "/b/sub")["options"]


@pytest.mark.parametrize("options,flag", [
    (["rnosuid"], "nosuid"), (["rnodev"], "nodev"), (["rnoexec"], "noexec"),
    (["rnoatime"], "noatime"), (["rnodiratime"], "nodiratime"),
])
def test_recursive_attributes(berth, bundle, tmp_path, options, flag):
    bundle.add_mount("/b", "bind", str(tmp_path / "src"), ["rbind", *options])
    _, mounts = run_wrapped(berth, bundle, tmp_path / "src", "true")
    for dest in ("/b", "/b/sub"):
        assert flag in must_at(mounts, dest)["options"], dest


def test_rro_without_mount_setattr(berth, bundle, tmp_path):
    # An older kernel: no silent downgrade to a read-only top.
    bundle.add_mount("/b", "bind", str(tmp_path), ["rbind", "rro"])
    r = berth.run_container(bundle, wrap=nosys(SYS_MOUNT_SETATTR))
    assert r.returncode == 1
    assert ("set recursive mount options of `/b` (this kernel has no mount_setattr): "
            "Function not implemented") in r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)


def test_readonly_paths_without_mount_setattr(berth, bundle):
    out, mounts = run_with_mountinfo(berth, bundle, "(echo x > /proc/sys/kernel/hostname) 2>&1; true",
                                     wrap=nosys(SYS_MOUNT_SETATTR))
    assert "Read-only file system" in out
    assert "ro" in must_at(mounts, "/proc/sys")["options"]


def test_rrw_clears_readonly(berth, bundle, tmp_path):
    bundle.add_mount("/b", "bind", str(tmp_path / "src"), ["rbind", "ro", "rrw"])
    out, mounts = run_wrapped(berth, bundle, tmp_path / "src", "touch /b/x /b/sub/y && echo ok")
    assert out == "ok\n"
    assert "rw" in must_at(mounts, "/b")["options"]


# ---------------------------------------------------------------- propagation

def propagation_bundle(bundle, option, rec):
    """/a: a shared tmpfs with a tmpfs below; /b: a bind of it (through its
    path on the host, which is the rootfs) with `option`."""
    tmpfs(bundle, "/a", "shared")
    tmpfs(bundle, "/a/sub")
    opts = ["rbind" if rec else "bind"] + ([option] if option else [])
    bundle.add_mount("/b", "bind", os.path.join(bundle.rootfs, "a"), opts)


@pytest.mark.parametrize("option,top,sub", [
    (None, {"shared"}, {"shared"}),          # a bind of a shared mount joins its peer group
    ("shared", {"shared"}, {"shared"}),
    ("rshared", {"shared"}, {"shared"}),
    ("private", set(), {"shared"}),
    ("rprivate", set(), set()),
    ("slave", {"master"}, {"shared"}),
    ("rslave", {"master"}, {"master"}),
    ("unbindable", {"unbindable"}, {"shared"}),
    ("runbindable", {"unbindable"}, {"unbindable"}),
])
def test_propagation(berth, bundle, option, top, sub):
    propagation_bundle(bundle, option, rec=True)
    _, mounts = run_with_mountinfo(berth, bundle)
    a, asub = must_at(mounts, "/a"), must_at(mounts, "/a/sub")
    b, bsub = must_at(mounts, "/b"), must_at(mounts, "/b/sub")
    assert propagation(b) == top, b["optional"]
    assert propagation(bsub) == sub, bsub["optional"]
    if "master" in top:
        assert group(b, "master") == group(a, "shared")
    if "shared" in top:
        assert group(b, "shared") == group(a, "shared")
    if "master" in sub:
        assert group(bsub, "master") == group(asub, "shared")


@pytest.mark.parametrize("value,fields", [
    ("private", set()), ("rprivate", set()), ("unbindable", {"unbindable"}),
    ("runbindable", {"unbindable"}), ("shared", {"shared"}), ("rshared", {"shared"}),
])
def test_rootfs_propagation(berth, bundle, value, fields):
    bundle.linux["rootfsPropagation"] = value
    _, mounts = run_with_mountinfo(berth, bundle)
    assert propagation(must_at(mounts, "/")) == fields


# ---------------------------------------------------------------- tmpcopyup

def make_image_dir(bundle):
    d = os.path.join(bundle.rootfs, "data")
    os.makedirs(os.path.join(d, "sub", "deeper"))
    with open(os.path.join(d, "file"), "w") as f:
        f.write("image content\n")
    os.chmod(os.path.join(d, "file"), 0o604)
    os.chown(os.path.join(d, "file"), 1234, 5678)
    with open(os.path.join(d, "sub", "deeper", "x"), "w") as f:
        f.write("deep\n")
    os.symlink("/etc/passwd", os.path.join(d, "abs-link"))
    os.symlink("../file", os.path.join(d, "sub", "rel-link"))
    os.mkfifo(os.path.join(d, "fifo"))
    os.chmod(d, 0o750)
    os.utime(os.path.join(d, "file"), ns=(1_000_000_000, 1_000_000_000))
    return d


def test_tmpcopyup(berth, bundle):
    d = make_image_dir(bundle)
    tmpfs(bundle, "/data", "tmpcopyup")
    script = ("stat -c '%n %a %u %g %F %Y' /data /data/file /data/fifo; "
              "cat /data/file /data/sub/deeper/x; readlink /data/abs-link; readlink /data/sub/rel-link; "
              "echo new > /data/file; echo more > /data/added")
    out, mounts = run_with_mountinfo(berth, bundle, script)
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["/data", "750", "0", "0"]
    assert lines[1].split() == ["/data/file", "604", "1234", "5678", "regular", "file", "1"]
    assert lines[2].split()[4] == "fifo"
    assert lines[3:7] == ["image content", "deep", "/etc/passwd", "../file"]
    assert must_at(mounts, "/data")["fstype"] == "tmpfs"
    # the image is untouched
    with open(os.path.join(d, "file")) as f:
        assert f.read() == "image content\n"
    assert not os.path.exists(os.path.join(d, "added"))


def test_tmpcopyup_readonly(berth, bundle):
    make_image_dir(bundle)
    tmpfs(bundle, "/data", "tmpcopyup", "ro")
    out, mounts = run_with_mountinfo(berth, bundle, "cat /data/sub/deeper/x; touch /data/y 2>&1; true")
    assert out.startswith("deep\n") and "Read-only file system" in out
    assert "ro" in must_at(mounts, "/data")["options"]


def test_tmpcopyup_requires_tmpfs(berth, bundle):
    bundle.add_mount("/p", "proc", "proc", ["tmpcopyup"])
    r = berth.run_container(bundle)
    assert r.returncode == 1
    assert "mounts[7].options: `tmpcopyup` requires a tmpfs mount" in r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)


# ---------------------------------------------------------------- cgroup

def test_cgroup_mount_honours_cgroup_namespace(berth, bundle):
    bundle.set_ns("cgroup")
    bundle.set_ns("pid")
    out = berth.sh(bundle, "cat /proc/self/cgroup; echo ---; cat /sys/fs/cgroup/pids/cgroup.procs")
    own, procs = out.split("---\n")
    for line in own.splitlines():
        assert line.split(":", 2)[2] == "/", line   # the namespace's root is the container's cgroup
    assert "1" in procs.split(), "the container's own cgroup is not the one mounted"


def test_cgroup_mount_read_only(berth, bundle):
    out = berth.sh(bundle, "mkdir /sys/fs/cgroup/pids/x 2>&1; true")
    assert "Read-only file system" in out


# ---------------------------------------------------------------- /dev

def test_linux_devices(berth, bundle):
    bundle.linux["devices"] = [
        {"type": "c", "path": "/dev/mynull", "major": 1, "minor": 3, "fileMode": 0o606, "uid": 1000, "gid": 1001},
        {"type": "b", "path": "/dev/blk/myloop", "major": 7, "minor": 0, "fileMode": 0o660},
        {"type": "p", "path": "/dev/myfifo", "fileMode": 0o640},
        {"type": "u", "path": "/dev/myzero", "major": 1, "minor": 5},
    ]
    out = berth.sh(bundle, "stat -c '%n|%F|%t|%T|%a|%u|%g' /dev/mynull /dev/blk/myloop /dev/myfifo /dev/myzero;"
                           " echo x > /dev/mynull && echo null-works")
    got = {l.split("|")[0]: l.split("|")[1:] for l in out.splitlines() if "|" in l}
    assert got["/dev/mynull"] == ["character special file", "1", "3", "606", "1000", "1001"]
    assert got["/dev/blk/myloop"] == ["block special file", "7", "0", "660", "0", "0"]
    assert got["/dev/myfifo"][0] == "fifo" and got["/dev/myfifo"][3] == "640"
    assert got["/dev/myzero"][:3] == ["character special file", "1", "5"]
    assert "null-works" in out


def test_dev_core_and_shm(berth, bundle):
    out, mounts = run_with_mountinfo(berth, bundle, "readlink /dev/core; touch /dev/shm/x && echo shm-ok")
    assert out == "/proc/kcore\nshm-ok\n"
    assert must_at(mounts, "/dev/shm")["fstype"] == "tmpfs"


def test_no_dev_mount_no_default_devices(berth, bundle):
    # A bind-mounted /dev is the caller's: berth adds no nodes to it.
    src = os.path.join(bundle.path, "mydev")
    os.makedirs(src)
    bundle.remove_mount("/dev/pts")
    bundle.remove_mount("/dev/shm")
    bundle.remove_mount("/dev/mqueue")
    bundle.remove_mount("/dev")
    bundle.add_mount("/dev", "bind", src, ["bind"])
    bundle.linux["maskedPaths"] = []
    assert berth.sh(bundle, "ls -A /dev") == ""
    assert os.listdir(src) == []
