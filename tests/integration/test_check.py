"""berth check BUNDLE: a preflight of a bundle against this host that creates
nothing.  Each problem is named by a JSON pointer into config.json, in text
and with --format json; the exit status is 0 only when create would not fail
for a reason found.  Where it says create would fail, create does fail, for
that reason."""

import json
import os

from conftest import host_snapshot


def check(berth, bundle, *opts):
    bundle.write()
    return berth.run(["check", *opts, bundle.path])


def check_json(berth, bundle):
    r = check(berth, bundle, "--format", "json")
    report = json.loads(r.stdout)
    assert r.returncode == (0 if report["ok"] else 1), r.stderr
    return report


def items(report, level=None, pointer=None):
    return [i for i in report["items"]
            if (level is None or i["level"] == level) and (pointer is None or i["pointer"] == pointer)]


def errors(report):
    return {i["pointer"]: i["message"] for i in items(report, "error")}


def has_cap(name):
    caps = {"CAP_SYS_RESOURCE": 24}
    with open("/proc/self/status") as f:
        eff = next(int(l.split()[1], 16) for l in f if l.startswith("CapEff:"))
    return bool(eff >> caps[name] & 1)


def test_default_bundle_passes_and_makes_nothing(berth, bundle):
    before = host_snapshot(berth.root, "berth-check")
    r = check(berth, bundle)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith(f"check of bundle {os.path.realpath(bundle.path)}: 0 errors")
    assert " ok       config.json: valid (ociVersion " in r.stdout
    assert "/linux/namespaces/0: pid namespaces: supported" in r.stdout
    assert "/linux/resources: cgroup layout: " in r.stdout
    assert host_snapshot(berth.root, "berth-check") == before
    assert not os.path.exists(berth.root), "check made the state root"


def test_json_report(berth, bundle):
    report = check_json(berth, bundle)
    assert report["ok"] is True and report["errors"] == 0
    assert report["bundle"] == os.path.realpath(bundle.path)
    kinds = [n["type"] for n in bundle.linux["namespaces"]]
    for i, kind in enumerate(kinds):
        got = items(report, "ok", f"/linux/namespaces/{i}")
        assert got and got[0]["message"] == f"{kind} namespaces: supported"
    for i, m in enumerate(bundle.config["mounts"]):
        assert items(report, "ok", f"/mounts/{i}/type"), m


def test_missing_bind_source(berth, bundle, tmp_path):
    bundle.add_mount("/data", "bind", str(tmp_path / "nowhere"), ["rbind", "ro"])
    n = len(bundle.config["mounts"]) - 1
    r = check(berth, bundle)
    assert r.returncode == 1
    assert f"error    /mounts/{n}/source: `{tmp_path}/nowhere`: no such file" in r.stdout
    assert ": 1 error, " in r.stdout.splitlines()[0] and "create would fail" in r.stdout.splitlines()[0]
    report = check_json(berth, bundle)
    assert errors(report) == {f"/mounts/{n}/source": f"`{tmp_path}/nowhere`: no such file"}
    # create fails there too, and check made nothing of it
    c = berth.create(bundle, check=False)
    assert c.returncode == 1 and f"{tmp_path}/nowhere" in c.stderr
    berth.leftovers(c.id, rootfs=bundle.rootfs)


def test_cgroup_file_the_host_lacks(berth, bundle):
    # No x86 kernel has 4MB huge pages: the writer would name a file the host lacks.
    bundle.linux["resources"] = {"pids": {"limit": 40},
                                 "hugepageLimits": [{"pageSize": "4MB", "limit": 0}]}
    report = check_json(berth, bundle)
    assert not report["ok"]
    msg = errors(report)["/linux/resources/hugepageLimits/0/pageSize"]
    assert msg == "this host has no `4MB` huge pages (no `hugetlb.4MB.limit_in_bytes`)" or \
        msg == "this host has no `4MB` huge pages (no `hugetlb.4MB.max`)"
    ok = items(report, "ok", "/linux/resources/pids/limit")
    assert ok and ok[0]["message"].startswith("pids: `40` would be written to ") and \
        ok[0]["message"].endswith("/pids.max")
    c = berth.create(bundle, check=False)
    assert c.returncode == 1 and "linux.resources.hugepageLimits[0].pageSize: this host has no `4MB`" in c.stderr
    berth.leftovers(c.id, rootfs=bundle.rootfs)


def test_every_problem_is_named(berth, bundle, tmp_path):
    bundle.add_mount("/a", "bind", str(tmp_path / "no-a"), ["bind"])
    bundle.add_mount("/b", "bind", str(tmp_path / "no-b"), ["bind"])
    bundle.config["hooks"] = {"prestart": [{"path": str(tmp_path / "no-hook")}]}
    bundle.linux["sysctl"] = {"net.ipv4.no_such_setting": "1"}
    bundle.linux["namespaces"].append({"type": "user", "path": "/etc/hostname"})
    n = len(bundle.config["mounts"])
    report = check_json(berth, bundle)
    got = errors(report)
    ns = len(bundle.linux["namespaces"]) - 1
    assert got[f"/mounts/{n - 2}/source"].endswith("no such file")
    assert got[f"/mounts/{n - 1}/source"].endswith("no such file")
    assert got["/hooks/prestart/0/path"] == f"`{tmp_path}/no-hook`: No such file or directory"
    assert got["/linux/sysctl/net.ipv4.no_such_setting"] == "no such setting in this kernel"
    assert got[f"/linux/namespaces/{ns}/path"] == "`/etc/hostname`: not a namespace"
    assert report["errors"] == len(got) == 5


def test_config_error_is_reported_as_such(berth, bundle):
    bundle.config["process"]["user"]["uid"] = -1
    r = check(berth, bundle)
    assert r.returncode == 1
    assert "error    /process/user/uid: expected a non-negative integer" in r.stdout
    report = check_json(berth, bundle)
    assert errors(report) == {"/process/user/uid": "expected a non-negative integer"}


def test_syntax_error(berth, bundle):
    with open(bundle.config_path, "w") as f:
        f.write('{"ociVersion": ')
    r = berth.run(["check", "--format", "json", bundle.path])
    assert r.returncode == 1
    (item,) = json.loads(r.stdout)["items"]
    assert item["pointer"] == "" and item["level"] == "error"
    assert item["message"].startswith(f"{os.path.realpath(bundle.path)}/config.json: line 1, column ")


def test_lsm_as_the_host_has_it(berth, bundle):
    bundle.config["process"]["apparmorProfile"] = "docker-default"
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            enabled = f.read().startswith("Y") and os.path.exists("/sys/kernel/security/apparmor")
    except OSError:
        enabled = False
    report = check_json(berth, bundle)
    (item,) = items(report, pointer="/process/apparmorProfile")
    if enabled:
        assert item["level"] == "ok"
    else:
        assert item == {"pointer": "/process/apparmorProfile", "level": "error",
                        "message": "`docker-default`: AppArmor is not enabled on this host"}
        c = berth.create(bundle, check=False)
        assert "AppArmor is not enabled on this host" in c.stderr
        berth.leftovers(c.id, rootfs=bundle.rootfs)


def test_seccomp_compiled_and_probed(berth, bundle):
    bundle.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "syscalls": [{"names": ["getcwd", "no_such_call"], "action": "SCMP_ACT_ALLOW"},
                     {"names": ["mkdir"], "action": "SCMP_ACT_LOG"}]}
    report = check_json(berth, bundle)
    assert report["ok"], errors(report)
    (sc,) = items(report, "ok", "/linux/seccomp")
    assert sc["message"].startswith("the filter compiles: ") and "1 syscall names unknown" in sc["message"]
    assert items(report, "ok", "/linux/seccomp/architectures/1")[0]["message"] == "SCMP_ARCH_X86: in the filter"
    assert items(report, "ok", "/linux/seccomp/flags")[0]["message"] == \
        "SECCOMP_FILTER_FLAG_LOG: supported by this kernel"
    assert not os.path.exists(berth.root), "the seccomp cache was written"


def test_seccomp_listener_missing(berth, bundle, tmp_path):
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(tmp_path / "agent.sock"),
                               "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}
    report = check_json(berth, bundle)
    assert errors(report) == {"/linux/seccomp/listenerPath": f"`{tmp_path}/agent.sock`: no socket there"}


def test_rlimit_above_the_host(berth, bundle):
    import resource
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": hard + 1}]
    report = check_json(berth, bundle)
    got = errors(report)
    if has_cap("CAP_SYS_RESOURCE"):
        assert "/process/rlimits/0" not in got
    else:
        assert got["/process/rlimits/0"] == (f"hard limit {hard + 1} is above this host's {hard} and raising it "
                                             "needs CAP_SYS_RESOURCE, which berth does not have here")
        bundle.sh("true")
        r = berth.run_container(bundle)
        assert r.returncode == 1 and "process.rlimits[0]: set limit" in r.stderr
        berth.leftovers(r.id, rootfs=bundle.rootfs)


def test_devices(berth, bundle):
    bundle.linux["devices"] = [{"path": "/dev/fuse-like", "type": "c", "major": 1, "minor": 3},
                               {"path": "/dev/nothing", "type": "c", "major": 250, "minor": 4242}]
    report = check_json(berth, bundle)
    assert report["ok"], errors(report)
    assert items(report, "ok", "/linux/devices/0")[0]["message"] == "/dev/fuse-like 1:3: a device of this host"
    (w,) = items(report, "warning", "/linux/devices/1")
    assert w["message"].startswith("/dev/nothing 250:4242: no such device on this host")
    assert report["warnings"] == 1


def test_idmapped_mounts(berth, make_bundle, tmp_path):
    bundle = make_bundle(traversable=True)
    bundle.set_ns("user")
    bundle.linux["uidMappings"] = bundle.linux["gidMappings"] = [
        {"containerID": 0, "hostID": 100000, "size": 65536}]
    src = tmp_path / "tree"
    src.mkdir()
    bundle.add_mount("/mapped", "bind", str(src), ["bind", "idmap"])
    bundle.add_mount("/sysk", "bind", "/sys/kernel", ["bind", "idmap"])
    n = len(bundle.config["mounts"])
    report = check_json(berth, bundle)
    ok = items(report, "ok", f"/mounts/{n - 2}/options")
    assert ok and ok[0]["message"] == f"`idmap`: the kernel id-maps `{src}`"
    assert errors(report) == {
        f"/mounts/{n - 1}/options": f"mounts[{n - 1}]: `idmap`: the filesystem of `/sys/kernel` cannot be id-mapped"}


def test_rootless_without_user_namespace(berth, make_bundle):
    # uid 65534 through setpriv (util-linux, which scripts/setup installs)
    bundle = make_bundle(traversable=True)
    bundle.write()
    r = berth.run(["check", "--format", "json", bundle.path],
                  wrap=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
    report = json.loads(r.stdout)
    assert r.returncode == 1
    assert {"pointer": "/linux/namespaces", "level": "error",
            "message": "a non-root caller needs a user namespace (rootless)"} in report["items"]
    state = [i for i in report["items"] if i["pointer"] is None]
    assert state and state[0]["level"] == "error" and "cannot be written by this user" in state[0]["message"]


def test_bad_format(berth, bundle):
    r = check(berth, bundle, "--format", "xml")
    assert r.returncode == 1 and "check: --format: expected `text` or `json`, got `xml`" in r.stderr
