"""runtime.md: state, lifecycle, errors, warnings and the five operations.

Each test names the clause it checks (COVERAGE.md has the paraphrase and
the section); berth's CLI is the operation interface, as runc's is."""

import json
import os
import re
import subprocess

import pytest

from conftest import (clause, container_cgroup_dirs, expect_error, in_container, mountinfo, ns_inode,
                      own_cgroups, proc_state, reap_orphans, script, state, wait_for)

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def sleeper(bundle, *extra):
    bundle.set_args("sleep", "1000", *extra)


# ---------------------------------------------------------------- scope, state

@clause("runtime/scope", "runtime/operations")
def test_the_creator_can_use_every_operation(berth, bundle):
    sleeper(bundle)
    id = berth.create(bundle).id
    assert state(berth, id)["status"] == "created"
    berth.run(["start", id], check=True)
    assert state(berth, id)["status"] == "running"
    berth.run(["kill", id, "KILL"], check=True)
    wait_for(lambda: state(berth, id)["status"] == "stopped", what="stopped")
    berth.run(["delete", id], check=True)
    assert "does not exist" in berth.run(["state", id]).stderr


@clause("runtime/state-id-unique", "runtime/create-id-not-unique")
def test_an_id_in_use_is_refused(berth, bundle, make_bundle):
    sleeper(bundle)
    id = berth.create(bundle).id
    before = state(berth, id)
    other = make_bundle()
    r = berth.run(["create", "--bundle", other.path, id])
    assert r.returncode == 1 and f"container `{id}` already exists" in r.stderr
    # and the first one is untouched
    assert state(berth, id) == before
    assert proc_state(before["pid"])


@clause("runtime/state-additional-status")
def test_paused_is_a_state_of_its_own(berth, bundle):
    """berth's extra status `paused` appears only while the cgroup is frozen."""
    sleeper(bundle)
    id = berth.run_detached(bundle).id
    berth.run(["pause", id], check=True)
    assert state(berth, id)["status"] == "paused"
    berth.run(["resume", id], check=True)
    assert state(berth, id)["status"] == "running"


def check_state_document(st, id, bundle, status):
    """The state as runtime.md and schema/state-schema.json define it."""
    assert set(st) >= {"ociVersion", "id", "status", "bundle"}
    assert isinstance(st["ociVersion"], str) and SEMVER.match(st["ociVersion"]), st["ociVersion"]
    assert st["id"] == id
    assert st["status"] == status
    assert isinstance(st["bundle"], str) and os.path.isabs(st["bundle"])
    assert os.path.samefile(st["bundle"], bundle.path)
    if "pid" in st:
        assert isinstance(st["pid"], int)
    ann = st.get("annotations", {})
    assert isinstance(ann, dict) and all(isinstance(k, str) and k and isinstance(v, str) for k, v in ann.items())


@clause("runtime/state-schema", "runtime/state-query-returns-state", "runtime/state-pid")
def test_state_document_in_every_status(berth, bundle):
    sleeper(bundle)
    bundle.config["annotations"] = {"org.example.key": "value"}
    id = berth.create(bundle).id
    st = state(berth, id)
    check_state_document(st, id, bundle, "created")
    assert st["annotations"] == {"org.example.key": "value"}
    pid = st["pid"]
    # pid: the container process as the host sees it (pid 1 of its own namespace)
    assert pid > 0 and proc_state(pid)
    assert ns_inode(pid, "pid") != ns_inode(os.getpid(), "pid")
    with open(f"/proc/{pid}/status") as f:
        assert re.search(r"^NSpid:\s+%d\s+1$" % pid, f.read(), re.M)
    berth.run(["start", id], check=True)
    st = state(berth, id)
    check_state_document(st, id, bundle, "running")
    assert st["pid"] == pid
    berth.run(["kill", id, "KILL"], check=True)
    wait_for(lambda: state(berth, id)["status"] == "stopped", what="stopped")
    check_state_document(state(berth, id), id, bundle, "stopped")


@clause("runtime/state-stopped")
def test_a_process_that_exits_by_itself_is_stopped(berth, bundle):
    bundle.set_args("true")
    id = berth.create(bundle).id
    berth.run(["start", id], check=True)
    wait_for(lambda: state(berth, id)["status"] == "stopped", what="stopped")


# ---------------------------------------------------------------- lifecycle: create

@clause("runtime/lifecycle-create-environment", "runtime/create-apply-properties")
def test_create_builds_the_environment_before_start(berth, bundle):
    """Everything but process.args is in place once create returns: the
    namespaces, hostname, mounts, cgroup limits."""
    sleeper(bundle)
    bundle.config["hostname"] = "conformance"
    bundle.add_mount("/scratch", "tmpfs", "tmpfs", ["size=1m"])
    bundle.linux.setdefault("resources", {})["pids"] = {"limit": 42}
    id = berth.create(bundle).id
    pid = state(berth, id)["pid"]
    assert in_container(pid, "hostname").stdout.strip() == "conformance"
    mounts = mountinfo(f"/proc/{pid}/mountinfo")
    assert any(m["mountpoint"] == "/scratch" and m["fstype"] == "tmpfs" for m in mounts)
    pids_dir = [d for c, d in container_cgroup_dirs(id) if "pids" in c.split(",")]
    if pids_dir:
        with open(os.path.join(pids_dir[0], "pids.max")) as f:
            assert f.read().strip() == "42"
    assert ns_inode(pid, "uts") != ns_inode(os.getpid(), "uts")


@clause("runtime/lifecycle-create-error", "runtime/create-cannot-apply")
def test_an_environment_that_cannot_be_made_is_an_error(berth, bundle):
    bundle.add_mount("/data", "bind", "/nonexistent-berth-source", ["rbind"])
    expect_error(berth, bundle, "/nonexistent-berth-source", command="create")


@clause("runtime/create-cannot-apply")
def test_a_property_this_host_cannot_apply_is_an_error(berth, bundle):
    """net_cls exists only in cgroup v1; where v1 lacks it, classID cannot be applied."""
    v1_net_cls = any("net_cls" in c.split(",") for c, _ in container_cgroup_dirs("x"))
    if v1_net_cls:
        pytest.skip("this host has a v1 net_cls hierarchy: classID can be applied")
    bundle.linux.setdefault("resources", {})["network"] = {"classID": 1048577}
    expect_error(berth, bundle, "linux.resources.network.classID", command="create")


@clause("runtime/lifecycle-program-not-run-at-create", "runtime/create-args-not-applied")
def test_the_program_does_not_run_at_create(berth, bundle, tmp_path):
    box = tmp_path / "box"
    box.mkdir()
    bundle.add_mount("/box", "bind", str(box), ["rbind", "rw"])
    bundle.sh("touch /box/ran; exec sleep 1000")
    id = berth.create(bundle).id
    assert not (box / "ran").exists()
    berth.run(["start", id], check=True)
    wait_for(lambda: (box / "ran").exists(), what="the program to run")


@clause("runtime/lifecycle-config-changes-ignored", "runtime/create-config-changes-ignored")
def test_later_changes_to_config_json_do_not_reach_the_container(berth, bundle, tmp_path):
    box = tmp_path / "box"
    box.mkdir()
    bundle.add_mount("/box", "bind", str(box), ["rbind", "rw"])
    bundle.sh("echo $WHO > /box/who; exec sleep 1000")
    bundle.set_env(["PATH=/bin", "WHO=original"])
    id = berth.create(bundle).id
    bundle.sh("echo changed > /box/who; exec sleep 1000")
    bundle.set_env(["PATH=/bin", "WHO=changed"])
    bundle.write()
    berth.run(["start", id], check=True)
    wait_for(lambda: (box / "who").exists() and (box / "who").read_text() == "original\n",
             what="the original program")


# ---------------------------------------------------------------- hooks in the lifecycle

HOOK = 'echo "$1 $(cat | tr -d "\\n")" >> {log}\n'


def hooks_log(tmp_path):
    log = tmp_path / "hooks.log"
    return log, script(tmp_path / "hook.sh", HOOK.format(log=log))


def add_hook(bundle, kind, path, *args, timeout=None):
    h = {"path": path, "args": [os.path.basename(path), *args]}
    if timeout:
        h["timeout"] = timeout
    bundle.config.setdefault("hooks", {}).setdefault(kind, []).append(h)


def logged(log):
    return [line.split(" ", 1)[0] for line in log.read_text().splitlines()] if log.exists() else []


@clause("runtime/lifecycle-hooks-invoked")
def test_each_kind_of_hook_is_invoked_at_its_step(berth, bundle, tmp_path):
    log, hook = hooks_log(tmp_path)
    for kind in ("prestart", "createRuntime", "createContainer", "poststart", "poststop"):
        add_hook(bundle, kind, hook, kind)
    # startContainer's path resolves in the container: a copy in the rootfs.
    inside = os.path.join(bundle.rootfs, "hook.sh")
    with open(inside, "w") as f:
        f.write('#!/bin/sh\necho "$1 x" >> /hooklog/hooks.log\n')
    os.chmod(inside, 0o755)
    bundle.add_mount("/hooklog", "bind", str(tmp_path), ["rbind", "rw"])
    add_hook(bundle, "startContainer", "/hook.sh", "startContainer")
    sleeper(bundle)
    id = berth.create(bundle).id
    assert logged(log) == ["prestart", "createRuntime", "createContainer"]
    berth.run(["start", id], check=True)
    assert logged(log)[3:] == ["startContainer", "poststart"]
    berth.run(["delete", "--force", id], check=True)
    assert logged(log)[5:] == ["poststop"]


FAILING = "echo no >&2; exit 7\n"


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer", "startContainer"])
@clause("runtime/lifecycle-hook-failure-stops")
def test_a_failing_hook_is_an_error_and_destroys_the_container(berth, bundle, tmp_path, kind):
    """Error, stop the container, go on at step 12 (destroy) and 13 (poststop hooks)."""
    log, hook = hooks_log(tmp_path)
    if kind == "startContainer":
        fail = "/fail.sh"
        script(os.path.join(bundle.rootfs, "fail.sh"), FAILING)
    else:
        fail = script(tmp_path / "fail.sh", FAILING)
    add_hook(bundle, kind, fail)
    add_hook(bundle, "poststop", hook, "poststop")
    sleeper(bundle)
    id = berth.new_id()
    berth.track(id, bundle)
    bundle.write()
    r = berth.run(["create", "--bundle", bundle.path, id])
    if kind == "startContainer":
        assert r.returncode == 0, r.stderr
        pid = state(berth, id)["pid"]
        r = berth.run(["start", id])
    else:
        pid = None
    assert r.returncode == 1 and f"hooks.{kind}[0]: `{fail}` exited with status 7" in r.stderr, r.stderr
    assert "does not exist" in berth.run(["state", id]).stderr
    berth.leftovers(id, pid=pid, rootfs=bundle.rootfs)
    assert logged(log) == ["poststop"]


@clause("runtime/lifecycle-poststart-failure", "runtime/warnings-continue")
def test_a_failing_poststart_hook_is_a_warning(berth, bundle, tmp_path):
    """runtime-spec 1.2 (the version berth implements): log a warning and go
    on.  (1.3.0 makes it an error that stops the container.)"""
    log, hook = hooks_log(tmp_path)
    add_hook(bundle, "poststart", script(tmp_path / "fail.sh", FAILING))
    add_hook(bundle, "poststart", hook, "second")
    sleeper(bundle)
    id = berth.create(bundle).id
    r = berth.run(["start", id])
    assert r.returncode == 0 and "berth: warning: hooks.poststart[0]" in r.stderr, r.stderr
    assert logged(log) == ["second"]
    assert state(berth, id)["status"] == "running"


@clause("runtime/lifecycle-poststop-failure", "runtime/warnings-continue")
def test_a_failing_poststop_hook_is_a_warning(berth, bundle, tmp_path):
    log, hook = hooks_log(tmp_path)
    add_hook(bundle, "poststop", script(tmp_path / "fail.sh", FAILING))
    add_hook(bundle, "poststop", hook, "second")
    sleeper(bundle)
    id = berth.run_detached(bundle).id
    pid = state(berth, id)["pid"]
    r = berth.run(["delete", "--force", id])
    assert r.returncode == 0 and "berth: warning: hooks.poststop[0]" in r.stderr, r.stderr
    assert logged(log) == ["second"]
    berth.leftovers(id, pid=pid, rootfs=bundle.rootfs)


@clause("runtime/lifecycle-destroy")
def test_delete_undoes_create(berth, bundle):
    sleeper(bundle)
    bundle.add_mount("/scratch", "tmpfs", "tmpfs")
    id = berth.run_detached(bundle).id
    pid = state(berth, id)["pid"]
    assert [d for _, d in container_cgroup_dirs(id) if os.path.isdir(d)]
    berth.run(["delete", "--force", id], check=True)
    berth.leftovers(id, pid=pid, rootfs=bundle.rootfs)


# ---------------------------------------------------------------- errors

@clause("runtime/errors-leave-no-trace")
@pytest.mark.parametrize("what", ["bad config", "missing rootfs", "failing mount", "failing hook"])
def test_a_failed_create_leaves_nothing(berth, bundle, tmp_path, what):
    if what == "bad config":
        bundle.config["process"]["cwd"] = "relative"
        message = "process.cwd"
    elif what == "missing rootfs":
        bundle.config["root"]["path"] = str(tmp_path / "nothing")
        message = "root.path"
    elif what == "failing mount":
        bundle.add_mount("/mnt", "bogusfs", "none")
        message = "bogusfs"
    else:
        add_hook(bundle, "createRuntime", script(tmp_path / "fail.sh", FAILING))
        message = "hooks.createRuntime[0]"
    expect_error(berth, bundle, message, command="create")


@clause("runtime/errors-leave-no-trace", "runtime/start-not-created")
def test_a_failed_start_changes_nothing(berth, bundle):
    sleeper(bundle)
    id = berth.run_detached(bundle).id
    before = state(berth, id)
    r = berth.run(["start", id])
    assert r.returncode == 1 and f"cannot start container `{id}`: it is running" in r.stderr
    assert state(berth, id) == before


# ---------------------------------------------------------------- operations without an id

@pytest.mark.parametrize("command", ["state", "start", "kill", "delete", "create"])
@clause("runtime/state-needs-id", "runtime/start-needs-id", "runtime/kill-needs-id",
        "runtime/delete-needs-id", "runtime/create-needs-id-and-bundle")
def test_every_operation_needs_an_id(berth, bundle, command):
    args = [command] + (["--bundle", bundle.path] if command == "create" else [])
    r = berth.run(args)
    assert r.returncode == 1 and f"{command}: missing container id" in r.stderr, r.stderr
    assert os.listdir(berth.root) == [] if os.path.isdir(berth.root) else True


@clause("runtime/create-needs-id-and-bundle")
def test_create_needs_a_bundle(berth, tmp_path):
    """berth takes the bundle from --bundle, or the current directory as runc
    does; a directory without config.json is no bundle."""
    empty = tmp_path / "empty"
    empty.mkdir()
    id = berth.new_id()
    r = berth.run(["create", "--bundle", str(empty), id])
    assert r.returncode == 1 and f"open `{empty}/config.json`: No such file or directory" in r.stderr
    berth.leftovers(id)


@pytest.mark.parametrize("command", ["state", "start", "kill", "delete"])
@clause("runtime/state-not-exist", "runtime/start-not-created", "runtime/kill-not-created-or-running",
        "runtime/delete-not-exist")
def test_operations_on_a_container_that_does_not_exist(berth, command):
    r = berth.run([command, "ghost"])
    assert r.returncode == 1 and "container `ghost` does not exist" in r.stderr, r.stderr


@pytest.mark.parametrize("id", ["..", ".", "a/b", "", "x" * 1025, "with space", "nul\x01"])
@clause("runtime/create-id-invalid")
def test_an_invalid_id_is_refused_and_nothing_is_made(berth, bundle, id):
    bundle.write()
    r = berth.run(["create", "--bundle", bundle.path, id])
    assert r.returncode == 1
    assert "invalid container id" in r.stderr or "missing container id" in r.stderr, r.stderr
    assert not os.path.isdir(berth.root) or os.listdir(berth.root) == []


@clause("runtime/create-new-container")
def test_create_makes_a_new_created_container(berth, bundle):
    sleeper(bundle)
    id = berth.create(bundle).id
    assert state(berth, id)["status"] == "created"
    assert json.loads(berth.run(["list", "--format", "json"], check=True).stdout)[0]["id"] == id


# ---------------------------------------------------------------- start

@clause("runtime/start-not-created")
def test_start_of_a_stopped_container_fails_and_changes_nothing(berth, bundle):
    bundle.set_args("true")
    id = berth.run_container(bundle, opts=["--keep"]).id
    before = state(berth, id)
    assert before["status"] == "stopped"
    r = berth.run(["start", id])
    assert r.returncode == 1 and f"cannot start container `{id}`: it is stopped" in r.stderr
    assert state(berth, id) == before
    berth.run(["delete", id], check=True)


@clause("runtime/lifecycle-run-program", "runtime/start-runs-program")
def test_start_runs_the_program_as_process_says(berth, bundle, tmp_path):
    box = tmp_path / "box"
    box.mkdir()
    bundle.add_mount("/box", "bind", str(box), ["rbind", "rw"])
    bundle.set_cwd("/tmp")
    bundle.set_env(["PATH=/bin", "GREETING=hello"])
    bundle.sh('echo "$GREETING $(pwd) $(id -u):$(id -g)" > /box/out; exec sleep 1000')
    bundle.set_user(1000, 1000)
    os.chmod(box, 0o777)
    id = berth.create(bundle).id
    berth.run(["start", id], check=True)
    assert state(berth, id)["status"] == "running"
    wait_for(lambda: (box / "out").exists() and (box / "out").read_text(), what="the program")
    assert (box / "out").read_text() == "hello /tmp 1000:1000\n"


@clause("runtime/start-no-process")
def test_a_config_without_process_is_refused(berth, bundle):
    """berth validates the whole config at create: without `process` the
    container could never be started, so create refuses it."""
    del bundle.config["process"]
    expect_error(berth, bundle, "process: required", command="create")


# ---------------------------------------------------------------- kill

@clause("runtime/kill-not-created-or-running")
def test_kill_of_a_stopped_container_fails_and_changes_nothing(berth, bundle):
    bundle.set_args("true")
    id = berth.run_container(bundle, opts=["--keep"]).id
    before = state(berth, id)
    r = berth.run(["kill", id, "KILL"])
    assert r.returncode == 1 and f"cannot kill container `{id}`: container not running" in r.stderr
    assert state(berth, id) == before
    berth.run(["delete", id], check=True)


@clause("runtime/kill-sends-signal")
def test_kill_signals_a_running_container(berth, bundle, tmp_path):
    box = tmp_path / "box"
    box.mkdir()
    bundle.add_mount("/box", "bind", str(box), ["rbind", "rw"])
    bundle.sh("trap 'echo got-usr1 > /box/sig' USR1; touch /box/ready; while :; do sleep 1; done")
    id = berth.run_detached(bundle).id
    wait_for(lambda: (box / "ready").exists(), what="the trap")
    berth.run(["kill", id, "USR1"], check=True)
    wait_for(lambda: (box / "sig").exists(), what="SIGUSR1 to arrive")
    assert state(berth, id)["status"] == "running"


@clause("runtime/kill-sends-signal")
def test_kill_signals_a_created_container(berth, bundle):
    sleeper(bundle)
    id = berth.create(bundle).id
    pid = state(berth, id)["pid"]
    berth.run(["kill", id, "KILL"], check=True)
    wait_for(lambda: state(berth, id)["status"] == "stopped", what="stopped")

    def gone():
        reap_orphans()
        return proc_state(pid) is None
    wait_for(gone, what="the init to go")


# ---------------------------------------------------------------- delete

@pytest.mark.parametrize("status", ["created", "running"])
@clause("runtime/delete-not-stopped")
def test_delete_of_a_live_container_fails_and_changes_nothing(berth, bundle, status):
    """(berth's `delete --force`, as runc's, is the explicit way to delete a live container.)"""
    sleeper(bundle)
    id = berth.create(bundle).id if status == "created" else berth.run_detached(bundle).id
    before = state(berth, id)
    dirs = [d for _, d in container_cgroup_dirs(id) if os.path.isdir(d)]
    r = berth.run(["delete", id])
    assert r.returncode == 1 and f"cannot delete container `{id}`: it is {status}" in r.stderr
    assert state(berth, id) == before
    assert proc_state(before["pid"]) and all(os.path.isdir(d) for d in dirs)


@clause("runtime/delete-resources")
def test_delete_removes_what_create_made(berth, bundle):
    bundle.set_args("true")
    bundle.add_mount("/scratch", "tmpfs", "tmpfs")
    id = berth.run_container(bundle, opts=["--keep"]).id
    assert os.path.isdir(os.path.join(berth.root, id))
    berth.run(["delete", id], check=True)
    berth.leftovers(id, rootfs=bundle.rootfs)


@clause("runtime/delete-keeps-what-it-did-not-create")
def test_delete_keeps_what_the_container_did_not_create(berth, bundle, tmp_path):
    """A bind source with its files, a network namespace joined by path, a
    cgroup parent that existed before, the bundle itself: all stay."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "keep").write_text("mine")
    bundle.add_mount("/src", "bind", str(src), ["rbind", "rw"])
    holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "1000"], stdin=subprocess.DEVNULL)
    try:
        netns = f"/proc/{holder.pid}/ns/net"
        wait_for(lambda: ns_inode(holder.pid, "network") != ns_inode(os.getpid(), "network"), what="unshare")
        inode = ns_inode(holder.pid, "network")
        bundle.set_ns("network", netns)
        pre = f"pre-{os.getpid()}"
        parents = [os.path.join(d, pre) for _, _, d in own_cgroups()]
        for p in parents:
            os.makedirs(p, exist_ok=True)
            for name in ("cpuset.cpus", "cpuset.mems"):  # as the engine that made it would
                if os.path.exists(os.path.join(p, name)):
                    with open(os.path.join(os.path.dirname(p), name)) as f, open(os.path.join(p, name), "w") as g:
                        g.write(f.read())
        bundle.linux["cgroupsPath"] = f"{pre}/ctr"
        sleeper(bundle)
        id = berth.run_detached(bundle).id
        berth.run(["delete", "--force", id], check=True)
        berth.leftovers(id, rootfs=bundle.rootfs, cgroups_path=f"{pre}/ctr")
        assert (src / "keep").read_text() == "mine"
        assert ns_inode(holder.pid, "network") == inode
        assert all(os.path.isdir(p) for p in parents)
        assert os.path.isfile(bundle.config_path) and os.path.isdir(bundle.rootfs)
    finally:
        holder.kill()
        holder.wait()
        for p in parents:
            try:
                os.rmdir(p)
            except OSError:
                pass


@clause("runtime/state-creating", "runtime/kill-not-created-or-running")
def test_a_container_being_created_is_creating_and_cannot_be_killed(berth, bundle, tmp_path):
    """A createRuntime hook asks berth about the container it is part of
    making: `state` says creating, `kill` refuses and changes nothing."""
    from conftest import BERTH
    out = tmp_path / "during"
    cmd = f"{BERTH} --root {berth.root}"
    hook = script(tmp_path / "ask.sh", f'id=$(sed -n "s/.*\\"id\\":\\"\\([^\\"]*\\)\\".*/\\1/p"); '
                                      f'{cmd} state $id > {out} 2>&1; {cmd} kill $id KILL >> {out} 2>&1; '
                                      f'echo "kill=$?" >> {out}\n')
    add_hook(bundle, "createRuntime", hook)
    sleeper(bundle)
    id = berth.create(bundle).id
    text = out.read_text()
    during, _ = json.JSONDecoder().raw_decode(text)
    assert during["status"] == "creating" and during["id"] == id
    assert f"cannot kill container `{id}`: container not running" in text and "kill=1" in text
    assert state(berth, id)["status"] == "created"
