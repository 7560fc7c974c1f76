"""create --dry-run / run --dry-run: the ordered plan of what create (or run)
would do, and nothing done — no state dir, no cgroup, no mount, no seccomp
cache.  The plan's cgroup values are what create then really writes, its
seccomp cache key names the file create then writes, and what create refuses
before making anything the dry run refuses the same way."""

import json
import os

from conftest import REPO, controller_dir, host_snapshot

DOCKER_PROFILE = REPO / "tests" / "integration" / "data" / "docker-default-seccomp.json"


def dry_run(berth, bundle, id, cmd="create", opts=(), fmt="json"):
    bundle.write()
    berth.track(id, bundle)
    before = host_snapshot(berth.root, id)
    r = berth.run([cmd, "--dry-run", "--format", fmt, "--bundle", bundle.path, *opts, id])
    assert host_snapshot(berth.root, id) == before, "the dry run changed the host"
    return r


def plan(berth, bundle, id=None, cmd="create", opts=()):
    id = id or berth.new_id()
    r = dry_run(berth, bundle, id, cmd, opts)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["id"] == id and doc["command"] == cmd
    return doc


def steps(doc, phase=None, action=None):
    return [s for s in doc["steps"]
            if (phase is None or s["phase"] == phase) and (action is None or s["action"] == action)]


def test_plan_in_order_and_nothing_done(berth, bundle):
    id = berth.new_id()
    r = dry_run(berth, bundle, id, fmt="text")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"plan of `berth create {id}` (bundle {os.path.realpath(bundle.path)}); nothing was done"
    phases = [l[:-1] for l in lines[1:] if not l.startswith("  ")]
    assert phases == ["state", "cgroup", "namespaces", "init", "rootfs", "process", "lifecycle"]
    assert f"  make `{berth.root}/{id}/exec.fifo`: the init waits on it until `berth start {id}`" in lines
    assert "  pid: new (clone3)" in lines and "  pivot_root into the rootfs and detach the old root" in lines
    assert not os.path.exists(berth.root)
    berth.leftovers(id, rootfs=bundle.rootfs)


def test_namespaces_new_and_joined(berth, bundle, spawn):
    sleeper = spawn(["unshare", "--uts", "sleep", "60"])
    path = f"/proc/{sleeper.pid}/ns/uts"
    bundle.set_ns("uts", path)
    bundle.config.pop("hostname", None)
    bundle.remove_ns("network")
    doc = plan(berth, bundle)
    got = {s["type"]: s for s in steps(doc, "namespaces") if "type" in s}
    assert got["uts"]["action"] == "join" and got["uts"]["path"] == path
    assert got["network"]["action"] == "share" and got["pid"]["action"] == "new"
    assert got["cgroup"]["text"] == "cgroup: new (unshared by the init once it is in its cgroup)"


def test_mounts_flags_and_propagation(berth, bundle, tmp_path):
    src = tmp_path / "data"
    src.mkdir()
    bundle.add_mount("/data", "bind", str(src), ["rbind", "ro", "nosuid", "rnodev", "rprivate"])
    bundle.add_mount("/scratch", "tmpfs", "tmpfs", ["size=1m", "noexec", "tmpcopyup"])
    n = len(bundle.config["mounts"])
    doc = plan(berth, bundle)
    mounts = {s["index"]: s for s in steps(doc, "rootfs", "mount")}
    assert sorted(mounts) == list(range(n))
    d = mounts[n - 2]
    assert d["destination"] == "/data" and d["flags"] == "ro,nosuid" and d["source"] == str(src)
    assert d["text"] == (f"mounts[{n - 2}] /data: bind `{src}` with its submounts, then remount the bind with "
                         "ro,nosuid (the destination is created first)")
    assert steps(doc, "rootfs", "setattr")[0]["attributes"] == "rnodev"
    assert [s["propagation"] for s in steps(doc, "rootfs", "propagation") if "propagation" in s] == ["rprivate"]
    t = mounts[n - 1]
    assert t["type"] == "tmpfs" and t["flags"] == "noexec" and t["data"] == "size=1m"
    assert any(s["action"] == "copyup" for s in doc["steps"])
    # the order of the rootfs phase: propagation of /, the rootfs bind, the mounts, devices, pivot
    actions = [s["action"] for s in steps(doc, "rootfs")]
    assert actions.index("bind") < actions.index("mount") < actions.index("devices") < actions.index("pivot")


def test_cgroup_values_are_what_create_writes(berth, bundle):
    bundle.linux["resources"] = {"pids": {"limit": 37}, "memory": {"limit": 96 * 1024 * 1024},
                                 "cpu": {"shares": 300}}
    bundle.sh("sleep 60")
    id = berth.new_id()
    doc = plan(berth, bundle, id)
    writes = steps(doc, "cgroup", "write")
    planned = {(w["path"], w["file"]): w["value"] for w in writes if not w["file"].startswith("devices.")}
    assert {w["field"] for w in writes if w["field"].startswith("linux.resources.") and "devices" not in w["field"]} \
        == {"linux.resources.pids.limit", "linux.resources.memory.limit", "linux.resources.cpu.shares"}
    assert [s for s in steps(doc, "cgroup", "mkdir") if s["path"].endswith("/" + id)]
    berth.create(bundle, id)
    for (path, file), value in planned.items():
        with open(os.path.join(path, file)) as f:
            got = f.read().strip()
        assert got == value, f"{path}/{file}: planned {value}, create wrote {got}"
    assert controller_dir(id, "pids") and any(p == controller_dir(id, "pids") for p, _ in planned)


def test_capabilities_and_process(berth, bundle):
    caps = bundle.config["process"]["capabilities"]
    caps["inheritable"] = ["CAP_CHOWN"]
    caps["ambient"] = []
    doc = plan(berth, bundle)
    got = {s["set"]: s["capabilities"] for s in steps(doc, "process", "capabilities") if "set" in s}
    assert set(got) == {"bounding", "effective", "inheritable", "permitted", "ambient"}
    for name in got:
        assert sorted(got[name]) == sorted(caps.get(name, [])), name
    (ex,) = steps(doc, "process", "exec")
    assert ex["args"] == bundle.config["process"]["args"] and ex["env"] == bundle.config["process"]["env"]
    assert steps(doc, "process", "nnp")


def test_seccomp_summary_and_cache_key(berth, bundle):
    with open(DOCKER_PROFILE) as f:
        bundle.linux["seccomp"] = json.load(f)
    id = berth.new_id()
    doc = plan(berth, bundle, id)
    (sc,) = steps(doc, "process", "seccomp")
    assert sc["defaultAction"] == "SCMP_ACT_ERRNO" and sc["rules"] == len(bundle.linux["seccomp"]["syscalls"])
    assert sc["instructions"] > 100 and sc["cached"] is False
    assert not os.path.exists(os.path.join(berth.root, "@seccomp-cache"))
    berth.create(bundle, id)
    assert os.path.exists(os.path.join(berth.root, "@seccomp-cache", sc["cacheKey"])), \
        "create cached the filter under another name than the plan said"
    doc = plan(berth, bundle)
    assert steps(doc, "process", "seccomp")[0]["cached"] is True


def test_hooks_at_their_moments(berth, bundle, tmp_path):
    hook = {"path": "/bin/true", "args": ["true", "x"]}
    bundle.config["hooks"] = {k: [hook] for k in ("prestart", "createRuntime", "createContainer",
                                                  "startContainer", "poststart", "poststop")}
    doc = plan(berth, bundle)
    order = [(s["phase"], s["kind"]) for s in doc["steps"] if s["action"] == "hook"]
    assert order == [("rootfs", "prestart"), ("rootfs", "createRuntime"), ("rootfs", "createContainer"),
                     ("lifecycle", "startContainer"), ("lifecycle", "poststart"), ("lifecycle", "poststop")]
    assert steps(doc, "rootfs", "hook")[0]["args"] == ["true", "x"]


def test_user_namespace(berth, make_bundle):
    bundle = make_bundle(traversable=True)
    bundle.set_ns("user")
    bundle.linux["uidMappings"] = bundle.linux["gidMappings"] = [
        {"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.remove_ns("network")
    doc = plan(berth, bundle)
    maps = [s["text"] for s in steps(doc, "namespaces", "idmap")]
    assert maps == ["write `0 100000 65536` to /proc/<init>/uid_map", "write `0 100000 65536` to /proc/<init>/gid_map"]
    sysfs = next(s for s in steps(doc, "rootfs", "mount") if s["destination"] == "/sys")
    assert "bind the host's /sys with its submounts, read-only throughout" in sysfs["text"]
    assert any("bind the host's node" in s["text"] for s in steps(doc, "rootfs", "devices"))


def test_run_dry_run(berth, bundle):
    doc = plan(berth, bundle, cmd="run", opts=("--keep",))
    assert not [s for s in doc["steps"] if s["action"] == "mkfifo"]
    assert steps(doc, "lifecycle", "wait")[0]["text"] == "wait for it, relay signals, exit with its status (kept: --keep)"


def test_refused_like_create(berth, bundle):
    bundle.linux["resources"] = {"hugepageLimits": [{"pageSize": "4MB", "limit": 0}]}
    id = berth.new_id()
    r = dry_run(berth, bundle, id)
    assert r.returncode == 1 and r.stdout == ""
    want = f"berth: container `{id}`: linux.resources.hugepageLimits[0].pageSize: this host has no `4MB` huge pages"
    assert r.stderr.startswith(want), r.stderr
    c = berth.create(bundle, id, check=False)
    assert c.returncode == 1 and "linux.resources.hugepageLimits[0].pageSize: this host has no `4MB`" in c.stderr
    berth.leftovers(id, rootfs=bundle.rootfs)


def test_existing_id_and_bad_namespace_path(berth, bundle):
    bundle.sh("sleep 60")
    id = berth.create(bundle).id
    r = dry_run(berth, bundle, id)
    assert r.returncode == 1 and f"container `{id}` already exists" in r.stderr
    bundle.set_ns("network", "/etc/hostname")
    r = dry_run(berth, bundle, berth.new_id())
    assert r.returncode == 1
    assert "linux.namespaces: network path `/etc/hostname`: not a namespace" in r.stderr


def test_bad_format(berth, bundle):
    id = berth.new_id()
    r = dry_run(berth, bundle, id, fmt="yaml")
    assert r.returncode == 1 and "create: --format: expected `text` or `json`, got `yaml`" in r.stderr
    berth.leftovers(id, rootfs=bundle.rootfs)
