"""OCI hooks: each kind at its moment and in its namespace, the state on
stdin, and the failure semantics (abort and clean up, or warn and go on),
timeouts included.

Every hook appends `KIND MNT-NS PID-NS HOOKVAR` to one log (in a host
directory the container sees at /hooklog), saves its stdin as KIND.json and,
when the state names a pid, that process's command line as KIND.cmdline.
The startContainer hook's path resolves inside the container, so it lives
in the rootfs; the others are on the host."""

import json
import os

import pytest

from conftest import ns_inode, proc_state, wait_for

KINDS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]

RECORD = """#!/bin/sh
kind=$1 dir=$2
cat > "$dir/$kind.json"
echo "$kind $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/pid) $HOOKVAR" >> "$dir/log"
pid=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p' "$dir/$kind.json")
[ -n "$pid" ] && tr '\\0' ' ' < /proc/$pid/cmdline > "$dir/$kind.cmdline"
[ -n "$pid" ] && cat /proc/$pid/cgroup > "$dir/$kind.cgroup"
readlink /proc/self/ns/cgroup > "$dir/$kind.cgroupns"
pwd > "$dir/$kind.cwd"
exit 0
"""

FAIL = """#!/bin/sh
cat > "$2/$1.failed.json"
echo "$1 says no" >&2
exit 3
"""

ENV = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]


def script(path, text):
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


class Hooks:
    """Hook programs for one bundle, and what they recorded."""

    def __init__(self, bundle, tmp_path):
        self.bundle = bundle
        self.dir = tmp_path / "hooklog"
        self.dir.mkdir()
        self.record = script(tmp_path / "record.sh", RECORD)
        self.fail = script(tmp_path / "fail.sh", FAIL)
        # The startContainer ones run inside the container, from its rootfs.
        for name, text in (("record.sh", RECORD), ("fail.sh", FAIL)):
            p = os.path.join(bundle.rootfs, name)
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, 0o755)
        bundle.add_mount("/hooklog", "bind", str(self.dir), ["rbind", "rw"])
        bundle.config["hooks"] = {}

    def add(self, kind, fail=False, **extra):
        inside = kind == "startContainer"
        path = ("/fail.sh" if fail else "/record.sh") if inside else (self.fail if fail else self.record)
        hook = {"path": path, "args": [path, kind, "/hooklog" if inside else str(self.dir)],
                "env": ENV + [f"HOOKVAR={kind}-var"], **extra}
        self.bundle.config["hooks"].setdefault(kind, []).append(hook)

    def all(self):
        for kind in KINDS:
            self.add(kind)

    def log(self):
        p = self.dir / "log"
        return [l.split() for l in p.read_text().splitlines()] if p.exists() else []

    def kinds(self):
        return [l[0] for l in self.log()]

    def entry(self, kind):
        return next(l for l in self.log() if l[0] == kind)

    def state(self, kind):
        return json.loads((self.dir / f"{kind}.json").read_text())

    def cmdline(self, kind):
        return (self.dir / f"{kind}.cmdline").read_text().split()

    def cgroups(self, kind):
        """The container's /proc/PID/cgroup as the hook saw it: {controllers: path}."""
        lines = (self.dir / f"{kind}.cgroup").read_text().splitlines()
        return {ctrls: path for _, ctrls, path in (l.split(":", 2) for l in lines)}

    def cgroupns(self, kind):
        return (self.dir / f"{kind}.cgroupns").read_text().strip()


@pytest.fixture
def hooks(bundle, tmp_path):
    return Hooks(bundle, tmp_path)


def test_every_kind_at_its_moment_in_its_namespace(berth, bundle, hooks):
    hooks.all()
    bundle.config.setdefault("annotations", {})["com.example.hooks"] = "yes"
    bundle.set_args("sleep", "1000")
    id = berth.create(bundle).id
    assert hooks.kinds() == ["prestart", "createRuntime", "createContainer"]
    pid = berth.state(id)["pid"]
    container_mnt, container_pid_ns = ns_inode(pid, "mount"), ns_inode(pid, "pid")
    berth.run(["start", id], check=True)
    # start returns once the program runs, after startContainer and poststart.
    assert hooks.kinds() == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart"]
    assert hooks.cmdline("poststart") == ["sleep", "1000"]
    assert hooks.cmdline("createRuntime")[0] != "sleep"  # still berth: the program has not run yet
    berth.run(["delete", "-f", id], check=True)
    assert hooks.kinds()[-1] == "poststop" and len(hooks.kinds()) == 6

    host_mnt, host_pid_ns = os.readlink("/proc/self/ns/mnt"), os.readlink("/proc/self/ns/pid")
    for kind in ("prestart", "createRuntime", "poststart", "poststop"):
        assert hooks.entry(kind)[1:3] == [host_mnt, host_pid_ns], kind
    for kind in ("createContainer", "startContainer"):
        assert hooks.entry(kind)[1:3] == [container_mnt, container_pid_ns], kind
    for kind in KINDS:
        assert hooks.entry(kind)[3] == f"{kind}-var"  # env as given

    status = {"prestart": "creating", "createRuntime": "creating", "createContainer": "creating",
              "startContainer": "created", "poststart": "running", "poststop": "stopped"}
    for kind in KINDS:
        st = hooks.state(kind)
        assert st["ociVersion"] and st["id"] == id and st["bundle"] == bundle.path, kind
        assert st["status"] == status[kind], kind
        assert st["annotations"]["com.example.hooks"] == "yes", kind
        if kind != "poststop":
            assert st["pid"] == pid, kind  # as the runtime sees it, also from inside


def test_hooks_with_run(berth, bundle, hooks):
    hooks.all()
    bundle.set_args("true")
    r = berth.run_container(bundle)
    assert r.returncode == 0, r.stderr
    assert hooks.kinds() == KINDS


def test_several_hooks_of_a_kind_run_in_order(berth, bundle, hooks):
    for _ in range(3):
        hooks.add("createRuntime")
    hooks.bundle.config["hooks"]["createRuntime"][1]["args"][1] = "second"
    bundle.set_args("true")
    assert berth.run_container(bundle).returncode == 0
    assert hooks.kinds() == ["createRuntime", "second", "createRuntime"]


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer", "startContainer"])
@pytest.mark.parametrize("how", ["run", "create"])
def test_failing_hook_aborts_and_cleans_up(berth, bundle, hooks, kind, how):
    hooks.add(kind, fail=True)
    hooks.add("poststop")
    bundle.set_args("sleep", "1000")
    path = "/fail.sh" if kind == "startContainer" else hooks.fail
    message = f"hooks.{kind}[0]: `{path}` exited with status 3: {kind} says no"
    if how == "run":
        r = berth.run_container(bundle)
    else:
        r = berth.create(bundle, check=False)
        if kind == "startContainer":
            assert r.returncode == 0, r.stderr
            r = berth.run(["start", r.id])
    assert r.returncode == 1
    assert message in r.stderr, r.stderr
    id = hooks.state(f"{kind}.failed")["id"]
    berth.leftovers(id, rootfs=bundle.rootfs)
    pid = hooks.state(f"{kind}.failed")["pid"]  # the init, as the failing hook was told
    wait_for(lambda: proc_state(pid) is None or proc_state(pid)[0] == "Z", what=f"init {pid} to go")
    # runtime.md: after a failed create or startContainer, destroy, then poststop.
    assert hooks.kinds() == ["poststop"]
    assert berth.run(["state", id]).returncode == 1


@pytest.mark.parametrize("kind", ["createRuntime", "createContainer"])
def test_timeout_kills_the_hook(berth, bundle, hooks, tmp_path, kind):
    hooks.add(kind)
    slow = script(tmp_path / "slow.sh", f"#!/bin/sh\necho $$ > {hooks.dir}/slow.pid\n"
                                        f"sleep 30 & echo $! > {hooks.dir}/sleep.pid\nwait\n")
    bundle.config["hooks"][kind].append({"path": slow, "timeout": 1})
    bundle.set_args("true")
    r = berth.run_container(bundle)
    assert r.returncode == 1
    assert f"hooks.{kind}[1]: `{slow}` timed out after 1 s" in r.stderr, r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)
    if kind == "createContainer":
        return  # its pids are the container's own: gone with its pid namespace (leftovers)
    # The hook and what it started are gone.
    for name in ("slow.pid", "sleep.pid"):
        pid = int((hooks.dir / name).read_text())
        state = proc_state(pid)
        assert state is None or state[0] == "Z", f"{name} {pid} still runs"


def test_failing_poststart_warns_and_goes_on(berth, bundle, hooks):
    hooks.add("poststart", fail=True)
    hooks.add("poststart")
    bundle.set_args("sleep", "1000")
    r = berth.run_detached(bundle)
    assert f"berth: warning: hooks.poststart[0]: `{hooks.fail}` exited with status 3" in r.stderr
    assert berth.status(r.id) == "running"
    assert hooks.kinds() == ["poststart"]  # the second still ran
    id = berth.create(bundle).id
    s = berth.run(["start", id])
    assert s.returncode == 0 and "berth: warning: hooks.poststart[0]" in s.stderr
    assert berth.status(id) == "running"


def test_failing_poststop_warns_and_goes_on(berth, bundle, hooks):
    hooks.add("poststop", fail=True)
    hooks.add("poststop")
    bundle.set_args("sleep", "1000")
    id = berth.create(bundle).id
    r = berth.run(["delete", "-f", id])
    assert r.returncode == 0
    assert f"berth: warning: hooks.poststop[0]: `{hooks.fail}` exited with status 3" in r.stderr
    assert hooks.kinds() == ["poststop"]
    berth.leftovers(id, rootfs=bundle.rootfs)


def test_warning_goes_to_the_json_log(berth, bundle, hooks, tmp_path):
    hooks.add("poststop", fail=True)
    bundle.set_args("true")
    log = tmp_path / "log.json"
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    r = berth.run(["run", "--bundle", bundle.path, id], global_opts=["--log", str(log), "--log-format", "json"])
    assert r.returncode == 0
    lines = [json.loads(l) for l in log.read_text().splitlines()]
    assert any(l["level"] == "warning" and l["msg"].startswith("hooks.poststop[0]") for l in lines), lines


def test_hook_that_cannot_be_executed(berth, bundle, hooks):
    bundle.config["hooks"] = {"prestart": [{"path": "/nonexistent/hook"}]}
    bundle.set_args("true")
    r = berth.run_container(bundle)
    assert r.returncode == 1
    assert "hooks.prestart[0]: exec `/nonexistent/hook`: No such file or directory" in r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)


@pytest.mark.parametrize("hooks_value, message", [
    ({"prestart": [{"path": "relative"}]}, "hooks.prestart[0].path: expected an absolute path"),
    ({"poststop": [{"path": "/bin/true", "timeout": 0}]}, "hooks.poststop[0].timeout: expected a positive integer"),
    ({"createRuntime": {}}, "hooks.createRuntime: expected an array"),
    ([], "hooks: expected an object"),
])
def test_bad_hooks_config(berth, bundle, hooks_value, message):
    bundle.config["hooks"] = hooks_value
    r = berth.run_container(bundle)
    assert r.returncode == 1
    assert message in r.stderr, r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)


def test_create_hooks_see_the_container_in_all_its_cgroups(berth, bundle, hooks):
    """The init joins its v1 memory cgroup, and makes its cgroup namespace,
    only once its mounts are made (they are not charged to the container's
    memory), but before the create-time hooks: those see the container in
    its own cgroup everywhere, and createContainer runs in its cgroup
    namespace."""
    from test_cgroups import expect_paths
    hooks.add("createRuntime")
    hooks.add("createContainer")
    bundle.linux.pop("cgroupsPath", None)
    bundle.set_ns("cgroup")
    bundle.set_args("sleep", "1000")
    id = berth.create(bundle).id
    pid = berth.state(id)["pid"]
    assert hooks.cgroups("createRuntime") == expect_paths(f"berth/{id}")
    assert set(hooks.cgroups("createContainer").values()) == {"/"}
    assert hooks.cgroupns("createContainer") == ns_inode(pid, "cgroup")
    berth.run(["delete", "-f", id], check=True)
    berth.leftovers(id, pid=pid)


def test_create_container_hook_starts_in_the_callers_cwd(berth, bundle, hooks, tmp_path):
    """The init mounts from inside each target directory; its createContainer
    hooks still start where berth was called, not in a mount of the
    container."""
    hooks.add("createContainer")
    bundle.set_args("true")
    where = tmp_path / "caller"
    where.mkdir()
    r = berth.run_container(bundle, wrap=["env", "-C", str(where)])
    assert r.returncode == 0, r.stderr
    assert (hooks.dir / "createContainer.cwd").read_text().strip() == str(where)
