"""User namespaces: the default configs with the full default mounts, the
mounts a user namespace may not make (sysfs without a network namespace,
mqueue without an IPC namespace: the host's are bound instead, as runc and
crun do), devices bound from the host, and id-mapped mounts (idmap, ridmap,
a mount's own uidMappings/gidMappings)."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import TIMEOUT, ns_inode
from fsutil import must_at, parse_mountinfo, run_with_mountinfo

MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def userns(bundle):
    bundle.set_ns("user")
    bundle.linux["uidMappings"] = json.loads(json.dumps(MAP))
    bundle.linux["gidMappings"] = json.loads(json.dumps(MAP))
    return bundle


@pytest.fixture
def ubundle(make_bundle):
    """The default `berth spec` bundle with a user namespace, reachable by its unprivileged root."""
    return userns(make_bundle(traversable=True))


def check_default_mounts(config, mounts):
    for m in config["mounts"]:
        got = must_at(mounts, m["destination"])
        if m["type"] in ("proc", "tmpfs", "devpts", "mqueue", "sysfs"):
            assert got["fstype"] == m["type"], m["destination"]
        if "ro" in m.get("options", []):
            assert "ro" in got["options"], m["destination"]


def test_berth_spec_default_with_user_namespace(berth, ubundle):
    script = ("cat /proc/self/uid_map; id -u; cat /proc/timer_list; "
              "(echo x > /proc/sys/kernel/hostname) 2>&1; echo x > /dev/null && echo null-ok")
    out, mounts = run_with_mountinfo(berth, ubundle, script)
    lines = out.splitlines()
    assert lines[0].split() == ["0", "100000", "65536"] and lines[1] == "0"
    assert "Read-only file system" in out and "null-ok" in out
    check_default_mounts(ubundle.config, mounts)
    assert must_at(mounts, "/proc/timer_list")["fstype"] == "devtmpfs"     # masked with the host's /dev/null
    assert "ro" in must_at(mounts, "/proc/sys")["options"]
    # mknod is refused in a user namespace: the default devices are the host's, bound.
    for dev in ("null", "zero", "full", "random", "urandom", "tty"):
        got = must_at(mounts, f"/dev/{dev}")
        assert got["fstype"] == "devtmpfs" and got["root"] == f"/{dev}", dev


def test_runc_spec_default_with_user_namespace(berth, ubundle, tmp_path):
    runc = shutil.which("runc")
    if not runc:
        pytest.skip("runc is not installed (apt-get install runc): no `runc spec` to compare with")
    d = tmp_path / "runc-spec"
    d.mkdir()
    subprocess.run([runc, "spec", "--bundle", str(d)], check=True, timeout=TIMEOUT)
    config = json.loads((d / "config.json").read_text())
    config["process"]["terminal"] = False
    ubundle.config = userns_config(config)
    out, mounts = run_with_mountinfo(berth, ubundle, "id -u")
    assert out == "0\n"
    check_default_mounts(config, mounts)


def userns_config(config):
    config["linux"]["namespaces"].append({"type": "user"})
    config["linux"]["uidMappings"] = json.loads(json.dumps(MAP))
    config["linux"]["gidMappings"] = json.loads(json.dumps(MAP))
    return config


def test_all_namespaces_with_full_mounts(berth, ubundle):
    for kind in ("pid", "network", "ipc", "uts", "mount", "cgroup", "time"):
        ubundle.set_ns(kind)
    script = "; ".join(f"readlink /proc/self/ns/{n}" for n in ("user", "net", "time"))
    out, mounts = run_with_mountinfo(berth, ubundle, script)
    for got, kind in zip(out.split(), ("user", "network", "time")):
        assert got != ns_inode("self", kind)
    check_default_mounts(ubundle.config, mounts)


# ---------------------------------------------------------------- what a user namespace may not mount

def test_sysfs_without_network_namespace_binds_the_hosts(berth, ubundle):
    ubundle.remove_ns("network")
    out, mounts = run_with_mountinfo(berth, ubundle, "ls /sys/kernel >/dev/null && echo sys-ok; "
                                                     "touch /sys/kernel/x 2>&1; true")
    assert "sys-ok" in out and ("Read-only file system" in out or "Permission denied" in out)
    sys_mount = must_at(mounts, "/sys")
    assert sys_mount["fstype"] == "sysfs" and "ro" in sys_mount["options"]
    # The host's submounts came along, read-only like the rest (`ro` asked for a read-only sysfs).
    below = [m for m in mounts if m["mountpoint"].startswith("/sys/") and m["fstype"] != "tmpfs"
             and not m["mountpoint"].startswith("/sys/firmware")]
    assert below, "no host submount under /sys"
    for m in below:
        assert "ro" in m["options"], m["mountpoint"]


def test_mqueue_without_ipc_namespace_and_no_host_mqueue(berth, ubundle):
    if os.path.exists("/dev/mqueue"):
        pytest.skip("the host has /dev/mqueue: test_mqueue_without_ipc_namespace_binds_the_hosts covers it")
    ubundle.remove_ns("ipc")
    r = berth.run_container(ubundle)
    assert r.returncode == 1
    assert ("mount `mqueue` on `/dev/mqueue`: in a user namespace this needs an IPC namespace of its own "
            "(and the host has no `/dev/mqueue` to bind instead): Operation not permitted") in r.stderr
    berth.leftovers(r.id, rootfs=ubundle.rootfs)


# A private mount namespace whose /dev has an mqueue at /dev/mqueue (and the
# nodes berth binds into a user namespace's /dev): the host's own /dev is
# not touched.
FAKE_DEV = ('d=$(mktemp -d) && chmod 755 $d && for n in null zero full random urandom tty; do cp -a /dev/$n $d/; done && '
            'mkdir $d/mqueue && mount --bind $d /dev && mount -t mqueue mqueue /dev/mqueue && exec "$@"')


def test_mqueue_without_ipc_namespace_binds_the_hosts(berth, ubundle):
    ubundle.remove_ns("ipc")
    ubundle.sh("readlink /proc/self/ns/ipc; echo ---; cat /proc/self/mountinfo")
    id = berth.new_id()
    ubundle.write()
    berth.track(id, ubundle)
    r = berth.run(["run", "--bundle", ubundle.path, id],
                  wrap=["unshare", "-m", "--propagation", "private", "sh", "-c", FAKE_DEV, "sh"])
    assert r.returncode == 0, r.stderr
    ipc, info = r.stdout.split("---\n", 1)
    assert ipc.strip() == ns_inode("self", "ipc")
    mq = must_at(parse_mountinfo(info), "/dev/mqueue")
    assert mq["fstype"] == "mqueue" and {"nosuid", "nodev", "noexec"} <= set(mq["options"])


def test_cgroup_without_cgroup_namespace(berth, ubundle):
    ubundle.remove_ns("cgroup")
    out, mounts = run_with_mountinfo(berth, ubundle, "mkdir /sys/fs/cgroup/pids/x 2>&1; true")
    assert "Read-only file system" in out
    assert any(m["fstype"] in ("cgroup", "cgroup2") for m in mounts if m["mountpoint"].startswith("/sys/fs/cgroup"))


def test_devices_bound_from_host(berth, ubundle):
    """As runc: mknod is refused in a user namespace, so the host's node at
    the same path is bound; its owner and mode stay the host's."""
    if not os.path.exists("/dev/kmsg"):
        pytest.skip("the host has no /dev/kmsg to bind")
    before = os.stat("/dev/kmsg")
    ubundle.linux["devices"] = [{"type": "c", "path": "/dev/kmsg", "major": 1, "minor": 11,
                                 "fileMode": 0o600, "uid": 5, "gid": 5}]
    out, mounts = run_with_mountinfo(berth, ubundle, "stat -c '%t:%T' /dev/kmsg")
    assert out == "1:b\n"
    got = must_at(mounts, "/dev/kmsg")
    assert got["fstype"] == "devtmpfs" and got["root"] == "/kmsg"
    after = os.stat("/dev/kmsg")
    assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid, before.st_mode)


def test_device_missing_on_host(berth, ubundle):
    ubundle.linux["devices"] = [{"type": "c", "path": "/dev/extra/mynull", "major": 1, "minor": 3}]
    r = berth.run_container(ubundle)
    assert r.returncode == 1
    assert ("bind device `/dev/extra/mynull` from the host (mknod is not allowed here): "
            "No such file or directory") in r.stderr
    berth.leftovers(r.id, rootfs=ubundle.rootfs)


# ---------------------------------------------------------------- id-mapped mounts

@pytest.fixture
def owned_tree(make_bundle):
    """A host directory (reachable by the container's unprivileged root)
    with files owned by 0 and 1000."""
    from pathlib import Path
    d = Path(os.path.dirname(make_bundle(traversable=True).path)) / "owned"
    d.mkdir()
    (d / "by-root").write_text("r\n")
    (d / "by-1000").write_text("u\n")
    os.chown(d / "by-1000", 1000, 1000)
    os.chmod(d, 0o777)
    return d


def owners(berth, bundle, *paths, **kw):
    script = "; ".join(f"stat -c '%n %u %g' {p}" for p in paths)
    return {l.split()[0]: (int(l.split()[1]), int(l.split()[2])) for l in berth.sh(bundle, script, **kw).splitlines()}


def test_idmap_with_container_user_namespace(berth, ubundle, owned_tree):
    ubundle.add_mount("/mapped", "bind", str(owned_tree), ["bind", "idmap"])
    ubundle.add_mount("/plain", "bind", str(owned_tree), ["bind"])
    os.makedirs(os.path.join(ubundle.rootfs, "mapped"))
    os.makedirs(os.path.join(ubundle.rootfs, "plain"))
    got = owners(berth, ubundle, "/mapped/by-root", "/mapped/by-1000", "/plain/by-root", "/plain/by-1000")
    assert got["/mapped/by-root"] == (0, 0) and got["/mapped/by-1000"] == (1000, 1000)
    assert got["/plain/by-root"] == (65534, 65534) and got["/plain/by-1000"] == (65534, 65534)


def test_idmap_write_lands_as_host_ids(berth, ubundle, owned_tree):
    ubundle.add_mount("/mapped", "bind", str(owned_tree), ["bind", "idmap"])
    os.makedirs(os.path.join(ubundle.rootfs, "mapped"))
    berth.sh(ubundle, "echo new > /mapped/made-inside")
    st = os.stat(owned_tree / "made-inside")
    assert (st.st_uid, st.st_gid) == (0, 0), "the container's root wrote as an unmapped id"


SUBMOUNT = ('mount -t tmpfs -o size=1m,mode=755 sub "$SRC/sub" && echo s > "$SRC/sub/f" && exec "$@"')


def run_with_submount(berth, bundle, src, script):
    (src / "sub").mkdir(exist_ok=True)
    bundle.sh(script)
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    r = berth.run(["run", "--bundle", bundle.path, id],
                  wrap=["env", f"SRC={src}", "unshare", "-m", "--propagation", "private", "sh", "-c", SUBMOUNT, "sh"])
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("option,sub_owner", [("idmap", "65534"), ("ridmap", "0")])
def test_idmap_recursion(berth, ubundle, owned_tree, option, sub_owner):
    # idmap maps the mount it names; ridmap every mount of the tree.
    ubundle.add_mount("/mapped", "bind", str(owned_tree), ["rbind", option])
    os.makedirs(os.path.join(ubundle.rootfs, "mapped"))
    out = run_with_submount(berth, ubundle, owned_tree, "stat -c %u /mapped/by-root /mapped/sub/f")
    assert out.split() == ["0", sub_owner]


def test_idmap_mount_own_mappings(berth, ubundle, owned_tree):
    # The mount's mapping: ids 1000.. on the filesystem become 100005.. on
    # the host, which the container's namespace shows as 5.
    own = [{"containerID": 1000, "hostID": 100005, "size": 1}]
    ubundle.add_mount("/mapped", "bind", str(owned_tree), ["bind", "idmap"])
    ubundle.config["mounts"][-1].update(uidMappings=own, gidMappings=own)
    os.makedirs(os.path.join(ubundle.rootfs, "mapped"))
    got = owners(berth, ubundle, "/mapped/by-1000", "/mapped/by-root")
    assert got["/mapped/by-1000"] == (5, 5)
    assert got["/mapped/by-root"] == (65534, 65534)


def test_idmap_own_mappings_without_user_namespace(berth, bundle, owned_tree):
    own = [{"containerID": 1000, "hostID": 2000, "size": 1}]
    bundle.add_mount("/mapped", "bind", str(owned_tree), ["bind", "idmap"])
    bundle.config["mounts"][-1].update(uidMappings=own, gidMappings=own)
    got = owners(berth, bundle, "/mapped/by-1000", "/mapped/by-root")
    assert got["/mapped/by-1000"] == (2000, 2000)
    assert got["/mapped/by-root"] == (65534, 65534)


def test_idmap_in_mountinfo(berth, ubundle, owned_tree):
    ubundle.add_mount("/mapped", "bind", str(owned_tree), ["bind", "idmap", "ro"])
    os.makedirs(os.path.join(ubundle.rootfs, "mapped"))
    out, mounts = run_with_mountinfo(berth, ubundle, "touch /mapped/x 2>&1; true")
    got = must_at(mounts, "/mapped")
    assert "idmapped" in got["options"] and "ro" in got["options"]
    assert "Read-only file system" in out


@pytest.mark.parametrize("mount,message", [
    ({"destination": "/m", "type": "bind", "source": "/tmp", "options": ["bind", "idmap"]},
     "mounts[7].options: `idmap` requires mounts[7].uidMappings and gidMappings or a user namespace"),
    ({"destination": "/m", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]},
     "mounts[7].options: `idmap` requires a bind mount"),
    ({"destination": "/m", "type": "bind", "source": "/tmp", "options": ["rbind"],
      "uidMappings": MAP, "gidMappings": MAP},
     "mounts[7].uidMappings: requires the `idmap` or `ridmap` option"),
    ({"destination": "/m", "type": "bind", "source": "/tmp", "options": ["rbind", "ridmap"], "uidMappings": MAP},
     "mounts[7].gidMappings: required with mounts[7].uidMappings"),
])
def test_idmap_bad_config(berth, bundle, mount, message):
    bundle.config["mounts"].append(mount)
    r = berth.run_container(bundle)
    assert r.returncode == 1
    assert message in r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)


def test_idmap_unsupported_filesystem(berth, ubundle):
    # sysfs cannot be id-mapped: the error names the option and the source.
    ubundle.add_mount("/m", "bind", "/sys/kernel", ["bind", "idmap"])
    os.makedirs(os.path.join(ubundle.rootfs, "m"))
    r = berth.run_container(ubundle)
    assert r.returncode == 1
    assert "mounts[7]: `idmap`: the filesystem of `/sys/kernel` cannot be id-mapped" in r.stderr
    berth.leftovers(r.id, rootfs=ubundle.rootfs)


def test_called_from_a_directory_the_mapped_root_cannot_search(berth, ubundle, tmp_path):
    """berth's cwd may be closed to the container's root (root's 0700 home,
    say): the init, mapped into its user namespace, neither needs nor gets
    to search it, and the container runs."""
    home = tmp_path / "private"
    home.mkdir(mode=0o700)
    ubundle.set_args("true")
    r = berth.run_container(ubundle, wrap=["env", "-C", str(home)])
    assert r.returncode == 0, r.stderr
    berth.leftovers(r.id)
