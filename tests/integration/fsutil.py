"""Helpers shared by the filesystem tests (test_mounts, test_safety,
test_sysctl, test_userns, test_rootless): mountinfo with its optional
(propagation) fields, a look at the container's mounts, host snapshots, and
running berth with chosen system calls failing with ENOSYS."""

import os
import sys

from conftest import unescape_mount

HERE = os.path.dirname(os.path.abspath(__file__))
NOSYS = os.path.join(HERE, "nosys.py")

# x86_64 numbers of the newer calls berth has fallbacks for.
SYS_OPENAT2 = 437
SYS_MOUNT_SETATTR = 442


def parse_mountinfo(text):
    """mountinfo lines as dicts: id, parent, root, mountpoint, options (per
    mount), optional (['shared:3', 'master:1', 'unbindable']), fstype,
    source, super (filesystem options)."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        left, right = line.split(" - ", 1)
        l, r = left.split(), right.split()
        out.append({
            "id": int(l[0]), "parent": int(l[1]),
            "root": unescape_mount(l[3]),
            "mountpoint": unescape_mount(l[4]),
            "options": l[5].split(","),
            "optional": l[6:],
            "fstype": r[0],
            "source": r[1] if len(r) > 1 else "",
            "super": r[2].split(",") if len(r) > 2 else [],
        })
    return out


def host_mountinfo():
    with open("/proc/self/mountinfo") as f:
        return parse_mountinfo(f.read())


def at(mounts, dest):
    """The topmost mount at `dest`, or None."""
    found = [m for m in mounts if m["mountpoint"] == dest]
    return found[-1] if found else None


def must_at(mounts, dest):
    m = at(mounts, dest)
    assert m is not None, f"{dest} is not a mount point in the container:\n" + \
        "\n".join(x["mountpoint"] for x in mounts)
    return m


def propagation(m):
    """The optional fields without their group numbers: {'shared', 'master', 'unbindable'}."""
    return {f.split(":")[0] for f in m["optional"]}


def group(m, kind):
    for f in m["optional"]:
        if f.startswith(kind + ":"):
            return int(f.split(":")[1])
    return None


MARK = "--- berth-test-mountinfo ---"


def run_with_mountinfo(berth, bundle, script="true", **kw):
    """Run `script` in the container, then print its mountinfo; returns
    (output of script, parsed mountinfo)."""
    out = berth.sh(bundle, f"{script}; echo '{MARK}'; cat /proc/self/mountinfo", **kw)
    before, after = out.split(MARK + "\n", 1)
    return before, parse_mountinfo(after)


def dir_state(path):
    """A shallow fingerprint of a host directory: its mtime and listing."""
    return os.stat(path).st_mtime_ns, sorted(os.listdir(path))


def nosys(*numbers):
    """A `wrap` for Berth.run: run berth with these system calls failing with ENOSYS."""
    return [sys.executable, NOSYS, ",".join(str(n) for n in numbers), "--"]
