"""root, mounts, /dev, maskedPaths and readonlyPaths as the default spec uses them."""

import os

from conftest import mountinfo

SIMPLE_TYPES = {"proc", "tmpfs", "devpts", "mqueue", "sysfs"}
FLAGS = ("nosuid", "nodev", "noexec")


def mounts_inside(berth, bundle):
    out = berth.sh(bundle, "cat /proc/self/mountinfo")
    path = os.path.join(bundle.path, "mountinfo.txt")
    with open(path, "w") as f:
        f.write(out)
    return mountinfo(path)


def last_mount_at(mounts, dest):
    found = [m for m in mounts if m["mountpoint"] == dest]
    assert found, f"{dest} is not a mount point in the container"
    return found[-1]


def check_flags(dest, opts, got):
    for flag in FLAGS:
        if flag in opts:
            assert flag in got["options"], f"{dest} lacks {flag}"
    if "ro" in opts:
        assert "ro" in got["options"], f"{dest} is not read-only"
    else:
        assert "rw" in got["options"], f"{dest} is read-only"


def test_default_mounts(berth, bundle):
    mounts = mounts_inside(berth, bundle)
    for m in bundle.config["mounts"]:
        dest, typ, opts = m["destination"], m.get("type"), m.get("options", [])
        got = last_mount_at(mounts, dest)
        if typ in SIMPLE_TYPES:
            assert got["fstype"] == typ, dest
            check_flags(dest, opts, got)
        elif typ == "cgroup":
            # On v1 hosts this is a tmpfs holding one mount per hierarchy:
            # the hierarchies are what must honour the options.
            cg = [c for c in mounts if c["fstype"] in ("cgroup", "cgroup2")
                  and (c["mountpoint"] + "/").startswith(dest + "/")]
            assert cg, f"no cgroup filesystem at or under {dest}"
            for c in cg:
                check_flags(c["mountpoint"], opts, c)


def test_cgroup_hierarchies_visible(berth, bundle):
    assert "/sys/fs/cgroup" in bundle.mount_destinations()
    mounts = mounts_inside(berth, bundle)
    cg = [m for m in mounts if m["fstype"] in ("cgroup", "cgroup2")
          and (m["mountpoint"] + "/").startswith("/sys/fs/cgroup/")]
    assert cg, "no cgroup filesystem under /sys/fs/cgroup"


def test_extra_tmpfs_mount(berth, bundle):
    bundle.add_mount("/scratch", "tmpfs", "tmpfs", ["nosuid", "nodev", "size=1m"])
    bundle.set_readonly(True)
    out = berth.sh(bundle, "echo hi > /scratch/f && cat /scratch/f && grep ' /scratch ' /proc/mounts")
    lines = out.splitlines()
    assert lines[0] == "hi"
    assert lines[1].split()[2] == "tmpfs"
    assert not os.path.exists(os.path.join(bundle.rootfs, "scratch", "f")), "tmpfs not mounted"


def test_only_rootfs_visible(berth, bundle):
    out = berth.sh(bundle, "ls -A /")
    assert sorted(out.split()) == sorted(os.listdir(bundle.rootfs))


def test_root_readonly(berth, bundle):
    bundle.set_readonly(True)
    out = berth.sh(bundle, "touch /x 2>&1; echo rc=$?; touch /dev/shm/y && echo shm-ok")
    assert "Read-only file system" in out
    assert "rc=1" in out
    assert "shm-ok" in out
    assert not os.path.exists(os.path.join(bundle.rootfs, "x"))


def test_root_writable(berth, bundle):
    bundle.set_readonly(False)
    berth.sh(bundle, "echo written > /x")
    with open(os.path.join(bundle.rootfs, "x")) as f:
        assert f.read() == "written\n"


DEVICES = {  # name: (major, minor)
    "null": (1, 3), "zero": (1, 5), "full": (1, 7),
    "random": (1, 8), "urandom": (1, 9), "tty": (5, 0),
}


def test_default_devices(berth, bundle):
    script = "; ".join(f"stat -c '%n|%F|%t|%T' /dev/{d}" for d in DEVICES)
    out = berth.sh(bundle, script)
    seen = {}
    for line in out.splitlines():
        name, kind, major, minor = line.split("|")
        seen[name] = (kind, int(major, 16), int(minor, 16))
    for d, (major, minor) in DEVICES.items():
        assert seen[f"/dev/{d}"] == ("character special file", major, minor), d


def test_default_devices_work(berth, bundle):
    out = berth.sh(bundle, "echo x > /dev/null && echo null-ok; head -c 8 /dev/urandom | wc -c;"
                           " head -c 4 /dev/zero | od -An -tx1; echo x 2>&1 > /dev/full; echo full=$?")
    lines = [l.strip() for l in out.splitlines()]
    assert lines[0] == "null-ok"
    assert lines[1] == "8"
    assert lines[2].split() == ["00"] * 4
    assert "No space left on device" in out
    assert lines[-1] == "full=1"


def test_dev_symlinks(berth, bundle):
    links = {"/dev/ptmx": "pts/ptmx", "/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
             "/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2"}
    script = "; ".join(f"[ -L {p} ] && echo {p} $(readlink {p}) || echo {p} not-a-symlink" for p in links)
    out = berth.sh(bundle, script)
    got = dict(l.split(" ", 1) for l in out.splitlines())
    assert got == links


def test_dev_pts_usable(berth, bundle):
    # ptmx through the symlink gives a pty in the container's own devpts.
    out = berth.sh(bundle, "ls /dev/pts; stat -c %t:%T /dev/pts/ptmx")
    assert "ptmx" in out.split()
    assert out.split()[-1] == "5:2"


def _masked_report(paths):
    return "; ".join(
        f'if [ -d {p} ]; then echo "{p} dir $(ls -A {p} | wc -l)"; '
        f'elif [ -e {p} ]; then echo "{p} file $(cat {p} | wc -c)"; else echo "{p} none"; fi'
        for p in paths)


def test_masked_paths(berth, bundle):
    paths = ["/proc/timer_list", "/proc/keys", "/sys/firmware", "/proc/kcore"]
    bundle.linux["maskedPaths"] = paths
    # the host has something there, so an empty view means masked
    assert os.path.getsize("/proc/timer_list") or open("/proc/timer_list").read()
    assert os.listdir("/sys/firmware")
    out = berth.sh(bundle, _masked_report(paths))
    got = {l.split()[0]: l.split()[1:] for l in out.splitlines()}
    assert got["/proc/timer_list"] == ["file", "0"]
    assert got["/proc/keys"] == ["file", "0"]
    assert got["/sys/firmware"] == ["dir", "0"]
    assert got["/proc/kcore"] == ["none"]  # absent paths are skipped, not an error


def test_unmasked_when_not_listed(berth, bundle):
    bundle.linux["maskedPaths"] = []
    out = berth.sh(bundle, _masked_report(["/proc/timer_list", "/sys/firmware"]))
    got = {l.split()[0]: l.split()[1:] for l in out.splitlines()}
    assert got["/proc/timer_list"][0] == "file" and int(got["/proc/timer_list"][1]) > 0
    assert got["/sys/firmware"][0] == "dir" and int(got["/sys/firmware"][1]) > 0


def test_default_masked_paths(berth, bundle):
    paths = bundle.linux.get("maskedPaths", [])
    assert "/proc/timer_list" in paths
    out = berth.sh(bundle, _masked_report(paths))
    for line in out.splitlines():
        p, kind, *size = line.split()
        assert kind == "none" or size == ["0"], f"{p} is not masked: {line}"


def test_readonly_paths(berth, bundle):
    bundle.set_ns("uts")
    bundle.config["hostname"] = "before"
    bundle.linux["readonlyPaths"] = ["/proc/sys", "/proc/irq"]
    out = berth.sh(bundle, "(echo after > /proc/sys/kernel/hostname) 2>&1; echo rc=$?; hostname")
    assert "Read-only file system" in out
    assert out.splitlines()[-2:] == ["rc=1", "before"]
    mounts = mounts_inside(berth, bundle)
    for p in ["/proc/sys", "/proc/irq"]:
        assert "ro" in last_mount_at(mounts, p)["options"], p


def test_readonly_paths_not_listed(berth, bundle):
    bundle.set_ns("uts")
    bundle.config["hostname"] = "before"
    bundle.linux["readonlyPaths"] = []
    out = berth.sh(bundle, "echo after > /proc/sys/kernel/hostname; hostname")
    assert out == "after\n"


def test_default_readonly_paths(berth, bundle):
    paths = bundle.linux.get("readonlyPaths", [])
    assert "/proc/sys" in paths
    exists = "; ".join(f"[ -e {p} ] && echo {p}" for p in paths)
    out = berth.sh(bundle, f"{exists}; true")
    present = out.split()
    assert "/proc/sys" in present
    mounts = mounts_inside(berth, bundle)
    for p in present:
        assert "ro" in last_mount_at(mounts, p)["options"], p
