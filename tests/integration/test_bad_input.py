"""Bad input: each case checks the message (printed once) and that nothing
was left behind by the failing command itself (checked before the
teardown's `delete -f` could tidy up)."""

import os
import shutil

import pytest

from conftest import container_cgroup_dirs


def fails(r, message):
    assert r.returncode == 1, f"exit {r.returncode}, stderr: {r.stderr}"
    assert message in r.stderr, r.stderr
    assert r.stderr.count(message) == 1, f"reported more than once: {r.stderr}"
    assert r.stderr.startswith("berth: "), r.stderr
    return r


def create_fails(berth, bundle, message, write=True, bundle_path=None):
    id = berth.new_id()
    berth.track(id, bundle=bundle)
    if write:
        bundle.write()
    r = berth.run(["create", "--bundle", bundle_path or bundle.path, id])
    fails(r, message)
    berth.leftovers(id, rootfs=bundle.rootfs)
    s = berth.run(["state", id])
    assert f"container `{id}` does not exist" in s.stderr
    return r


# ---------------------------------------------------------------- the bundle

def test_missing_bundle_dir(berth, bundle, tmp_path):
    missing = str(tmp_path / "nosuch")
    r = create_fails(berth, bundle, ": No such file or directory", bundle_path=missing)
    assert missing in r.stderr


def test_missing_config(berth, bundle):
    os.unlink(bundle.config_path)
    create_fails(berth, bundle, f"open `{bundle.path}/config.json`: No such file or directory",
                 write=False)


def test_config_is_a_directory(berth, bundle):
    os.unlink(bundle.config_path)
    os.mkdir(bundle.config_path)
    r = create_fails(berth, bundle, "config.json", write=False)
    assert "Is a directory" in r.stderr


def test_unreadable_config(berth, bundle):
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is needed to drop CAP_DAC_OVERRIDE")
    bundle.write()
    os.chmod(bundle.config_path, 0)
    id = berth.new_id()
    berth.track(id, bundle=bundle)
    # Root reads anything; without the DAC capabilities it cannot.
    wrap = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps", "-all"]
    r = berth.run(["create", "--bundle", bundle.path, id], wrap=wrap)
    fails(r, f"open `{bundle.path}/config.json`: Permission denied")
    berth.leftovers(id, rootfs=bundle.rootfs)


def test_malformed_json(berth, bundle):
    with open(bundle.config_path, "w") as f:
        f.write('{\n  "ociVersion": "1.0.2",\n  "process" 2\n}\n')
    create_fails(berth, bundle, f"{bundle.path}/config.json: line 3, column 13: ", write=False)


def test_truncated_json(berth, bundle):
    with open(bundle.config_path, "w") as f:
        f.write('{\n  "ociVersion": "1.0.2",\n  "process": {\n')
    create_fails(berth, bundle, f"{bundle.path}/config.json: line ", write=False)


def test_empty_config(berth, bundle):
    open(bundle.config_path, "w").close()
    create_fails(berth, bundle, f"{bundle.path}/config.json: ", write=False)


def _set(cfg, path, value):
    *parents, last = path
    for p in parents:
        cfg = cfg[p]
    cfg[last] = value


@pytest.mark.parametrize("path,value,message", [
    (("process", "user", "uid"), -1, "process.user.uid: expected a non-negative integer"),
    (("process", "user", "uid"), "x", "process.user.uid: expected a non-negative integer"),
    (("process", "user", "gid"), 1.5, "process.user.gid: expected a non-negative integer"),
    (("process", "args"), "sh", "process.args: expected"),
    (("process", "args"), [], "process.args"),
    (("process", "env"), [1], "process.env"),
    (("process", "cwd"), 7, "process.cwd: expected"),
    (("root", "path"), 5, "root.path: expected"),
    (("root", "readonly"), "yes", "root.readonly: expected"),
    (("hostname",), ["x"], "hostname: expected"),
    (("linux", "namespaces"), [{"type": "bogus"}], "linux.namespaces"),
    (("process", "rlimits"), [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}], "process.rlimits"),
    (("process", "capabilities", "bounding"), ["CAP_BOGUS"], "process.capabilities.bounding"),
    (("ociVersion",), 1, "ociVersion: expected"),
])
def test_wrong_field(berth, bundle, path, value, message):
    _set(bundle.config, path, value)
    create_fails(berth, bundle, message)


def test_unknown_keys_ignored(berth, bundle):
    bundle.config["x-unknown"] = {"nested": [1, 2]}
    bundle.config["process"]["x-unknown"] = True
    bundle.config["linux"]["x-unknown"] = "yes"
    bundle.set_args("true")
    assert berth.run_container(bundle).returncode == 0


def test_missing_rootfs(berth, bundle):
    shutil.rmtree(bundle.rootfs)
    create_fails(berth, bundle, f"root.path `{bundle.rootfs}`: No such file or directory")


def test_rootfs_is_a_file(berth, bundle):
    shutil.rmtree(bundle.rootfs)
    open(bundle.rootfs, "w").close()
    create_fails(berth, bundle, f"root.path `{bundle.rootfs}`: Not a directory")


# ---------------------------------------------------------------- ids

@pytest.mark.parametrize("bad", ["a/b", "..", ".", "x" * 1025, "", "../escape"])
def test_invalid_id(berth, bundle, bad):
    bundle.set_args("true")
    bundle.write()
    def entries():
        return set(os.listdir(berth.root)) if os.path.isdir(berth.root) else set()
    berth.run(["list"], check=True)
    before = entries()
    for cmd in (["create", "--bundle", bundle.path], ["run", "--bundle", bundle.path]):
        fails(berth.run([*cmd, bad]), "invalid container id")
    assert entries() == before
    assert not os.path.exists(os.path.join(os.path.dirname(berth.root), "escape"))
    first = bad.split("/")[0]
    if first not in ("", ".", ".."):
        for _, d in container_cgroup_dirs(first):
            assert not os.path.exists(d), d


def test_longest_id_message(berth):
    r = berth.run(["state", "x" * 1025])
    fails(r, "invalid container id")


def test_duplicate_id(berth, make_bundle):
    b1, b2 = make_bundle(), make_bundle()
    b1.set_readonly(False)
    b1.sh("echo first > /tmp/out")
    id = berth.create(b1).id
    pid = berth.state(id)["pid"]
    b2.set_args("true")
    b2.write()
    for cmd in ("create", "run"):
        fails(berth.run([cmd, "--bundle", b2.path, id]), f"container `{id}` already exists")
    st = berth.state(id)
    assert (st["status"], st["pid"], st["bundle"]) == ("created", pid, os.path.realpath(b1.path))
    assert os.path.exists(f"/proc/{pid}")
    assert all(os.path.isdir(d) for _, d in container_cgroup_dirs(id))
    berth.run(["start", id], check=True)
    berth.wait_status(id, "stopped")
    with open(os.path.join(b1.rootfs, "tmp", "out")) as f:
        assert f.read() == "first\n"


# ---------------------------------------------------------------- the process

def test_missing_executable(berth, bundle, leftovers):
    bundle.set_args("nope", "arg")
    r = berth.run_container(bundle)
    fails(r, "exec `nope`: executable file not found in $PATH")
    leftovers(r.id, rootfs=bundle.rootfs)


def test_missing_executable_absolute(berth, bundle, leftovers):
    bundle.set_args("/bin/nope")
    r = berth.run_container(bundle)
    fails(r, "/bin/nope")
    # Lower case, as runc words it: Docker maps this text to exit code 127.
    assert "exec `/bin/nope`: no such file or directory" in r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)


@pytest.mark.parametrize("program,reason", [
    ("/etc/motd", "permission denied"),
    ("/etc", "is a directory: permission denied"),
])
def test_not_executable(berth, bundle, leftovers, program, reason):
    # Refused before the container exists, with the text Docker maps to 126.
    os.makedirs(os.path.join(bundle.rootfs, "etc"), exist_ok=True)
    with open(os.path.join(bundle.rootfs, "etc", "motd"), "w") as f:
        f.write("hello\n")
    bundle.set_args(program)
    r = berth.run_container(bundle)
    fails(r, program)
    assert f"exec `{program}`: {reason}" in r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)


def test_missing_executable_create(berth, bundle, leftovers):
    # Whether create or start notices, the error names the program and
    # nothing remains once the failure is reported.
    bundle.set_args("nope")
    id = berth.new_id()
    r = berth.create(bundle, id=id, check=False)
    if r.returncode == 0:
        r = berth.run(["start", id])
        fails(r, "exec `nope`: executable file not found in $PATH")
        berth.run(["delete", "-f", id], check=True)
    else:
        fails(r, "exec `nope`: executable file not found in $PATH")
    leftovers(id, rootfs=bundle.rootfs)


# ---------------------------------------------------------------- namespaces

def test_namespace_path_not_a_namespace(berth, bundle, tmp_path):
    path = tmp_path / "notns"
    path.write_text("")
    bundle.set_ns("network", str(path))
    create_fails(berth, bundle, f"linux.namespaces: network path `{path}`: not a namespace")


def test_namespace_path_wrong_kind(berth, bundle):
    # A real namespace, but of another kind.
    bundle.set_ns("network", "/proc/self/ns/uts")
    create_fails(berth, bundle, "linux.namespaces: network path `/proc/self/ns/uts`")


def test_namespace_path_missing(berth, bundle, tmp_path):
    path = tmp_path / "nosuch"
    bundle.set_ns("ipc", str(path))
    create_fails(berth, bundle, f"`{path}`: No such file or directory")


# ---------------------------------------------------------------- not yet

def test_empty_sysctl_accepted(berth, bundle):
    bundle.linux["sysctl"] = {}
    bundle.set_args("true")
    assert berth.run_container(bundle).returncode == 0

