"""config.md: the fields every platform shares, as they apply on Linux —
root, mounts and the Linux mount options, process, hooks, annotations,
extensibility and valid values."""

import json
import os
import re
import subprocess

import pytest

from conftest import TIMEOUT, clause, container_cgroup_dirs, expect_error, ns_inode, script, state


def sleeper(bundle):
    bundle.set_args("sleep", "1000")


def mount_line(berth, bundle, dest="/m"):
    """The container's own mountinfo line for `dest`, split into
    (per-mount options, optional fields, super options)."""
    out = berth.sh(bundle, f"grep ' {dest} ' /proc/self/mountinfo")
    line = out.strip().splitlines()[-1]
    left, right = line.split(" - ", 1)
    l, r = left.split(), right.split()
    return set(l[5].split(",")), l[6:], set(r[2].split(","))


# ---------------------------------------------------------------- ociVersion, root

@clause("config/ociVersion-semver")
@pytest.mark.parametrize("version", ["banana", "1.2", "01.0.0", ""])
def test_an_ociVersion_that_is_not_semver_is_refused(berth, bundle, version):
    bundle.config["ociVersion"] = version
    expect_error(berth, bundle, "ociVersion", command="create")


@clause("config/ociVersion-semver")
@pytest.mark.parametrize("version", ["1.0.0", "1.2.0", "1.0.2-dev", "1.3.0+build.5"])
def test_semver_ociVersions_are_accepted(berth, bundle, version):
    bundle.config["ociVersion"] = version
    bundle.set_args("true")
    assert berth.run_container(bundle).returncode == 0


@clause("config/root-required")
def test_root_is_required(berth, bundle):
    del bundle.config["root"]
    expect_error(berth, bundle, "root: required", command="create")


@clause("config/root-path-exists")
@pytest.mark.parametrize("what", ["missing", "a file"])
def test_root_path_must_be_a_directory(berth, bundle, tmp_path, what):
    target = tmp_path / "notadir"
    if what == "a file":
        target.write_text("x")
    bundle.config["root"]["path"] = str(target)
    expect_error(berth, bundle, f"root.path `{target}`", command="create")


@clause("config/root-readonly")
@pytest.mark.parametrize("readonly", [True, False])
def test_root_readonly(berth, bundle, readonly):
    bundle.set_readonly(readonly)
    out = berth.sh(bundle, "touch /probe 2>&1 && echo writable || echo read-only")
    assert out.strip().splitlines()[-1] == ("read-only" if readonly else "writable")


# ---------------------------------------------------------------- mounts

@clause("config/mounts-in-order")
def test_mounts_are_made_in_the_listed_order(berth, bundle):
    """/m then /m/inner: in the other order /m would hide /m/inner."""
    bundle.add_mount("/m", "tmpfs", "tmpfs", ["size=1m"])
    bundle.add_mount("/m/inner", "tmpfs", "tmpfs", ["size=2m"])
    out = berth.sh(bundle, "grep -E ' /m(/inner)? ' /proc/self/mountinfo | cut -d' ' -f5")
    assert out.split() == ["/m", "/m/inner"]
    # and the last of two mounts on one destination is the one seen
    bundle.add_mount("/m", "tmpfs", "tmpfs", ["size=3m", "ro"])
    out = berth.sh(bundle, "touch /m/x 2>&1 || echo refused")
    assert "refused" in out


@clause("config/mounts-relative-destination")
def test_a_relative_destination_is_taken_from_slash(berth, bundle):
    bundle.add_mount("relative/dir", "tmpfs", "tmpfs")
    out = berth.sh(bundle, "grep ' /relative/dir ' /proc/self/mountinfo | cut -d' ' -f5")
    assert out.strip() == "/relative/dir"


# option -> (extra options before it, where to look, flag expected, flag absent)
OPTIONS = {
    "ro": ([], "mnt", "ro", None),
    "rw": (["ro"], "mnt", "rw", "ro"),
    "nosuid": ([], "mnt", "nosuid", None),
    "suid": (["nosuid"], "mnt", None, "nosuid"),
    "nodev": ([], "mnt", "nodev", None),
    "dev": (["nodev"], "mnt", None, "nodev"),
    "noexec": ([], "mnt", "noexec", None),
    "exec": (["noexec"], "mnt", None, "noexec"),
    "noatime": ([], "mnt", "noatime", None),
    "atime": (["noatime"], "mnt", None, "noatime"),
    "nodiratime": ([], "mnt", "nodiratime", None),
    "diratime": (["nodiratime"], "mnt", None, "nodiratime"),
    "relatime": (["noatime", "atime"], "mnt", "relatime", None),
    "norelatime": ([], "mnt", None, None),
    "strictatime": ([], "mnt", None, "relatime"),
    "nostrictatime": (["strictatime"], "mnt", "relatime", None),
    "sync": ([], "super", "sync", None),
    "async": (["sync"], "super", None, "sync"),
    "dirsync": ([], "super", "dirsync", None),
    "lazytime": ([], "super", "lazytime", None),
    "nolazytime": (["lazytime"], "super", None, "lazytime"),
    "iversion": ([], None, None, None),
    "noiversion": ([], None, None, None),
    "silent": ([], None, None, None),
    "loud": (["silent"], None, None, None),
    "defaults": ([], "mnt", "rw", "ro"),
}


@clause("config/linux-mount-options-must")
@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_linux_mount_option(berth, bundle, option):
    before, where, present, absent = OPTIONS[option]
    bundle.add_mount("/m", "tmpfs", "tmpfs", [*before, option])
    mnt, _, sup = mount_line(berth, bundle)
    flags = {"mnt": mnt, "super": sup, None: mnt | sup}[where]
    if present:
        assert present in flags, flags
    if absent:
        assert absent not in flags, flags


@clause("config/linux-mount-options-must")
def test_linux_mount_option_remount(berth, bundle):
    bundle.add_mount("/m", "tmpfs", "tmpfs", ["size=1m"])
    bundle.config["mounts"].append({"destination": "/m", "options": ["remount", "ro"]})
    mnt, _, _ = mount_line(berth, bundle)
    assert "ro" in mnt


@clause("config/linux-mount-options-must")
@pytest.mark.parametrize("option,field", [("shared", "shared:"), ("private", None), ("unbindable", "unbindable"),
                                          ("slave", None), ("rshared", "shared:"), ("rprivate", None),
                                          ("runbindable", "unbindable"), ("rslave", None)])
def test_linux_mount_option_propagation(berth, bundle, tmp_path, option, field):
    src = tmp_path / "src"
    src.mkdir()
    bundle.add_mount("/m", "bind", str(src), ["rbind", option])
    _, optional, _ = mount_line(berth, bundle)
    if field:
        assert any(o.startswith(field) for o in optional), optional
    else:
        assert not any(o.startswith(("shared:", "unbindable")) for o in optional), optional


@clause("config/linux-mount-options-must")
@pytest.mark.parametrize("option", ["bind", "rbind"])
def test_linux_mount_option_bind_and_rbind(berth, bundle, tmp_path, option):
    """A source with a submount (made in a mount namespace of the test's own,
    never on the host): bind takes the top mount only, rbind the tree."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "top-file").write_text("top")
    bundle.add_mount("/m", "bind", str(src), [option])
    bundle.sh("ls /m/sub; cat /m/top-file")
    bundle.write()
    id = berth.new_id()
    berth.track(id, bundle)
    inner = (f'mount -t tmpfs tmpfs {src}/sub && touch {src}/sub/in-submount && '
             f'exec "$@"')
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", inner, "sh",
                        *berth.cmd(["run", "--bundle", bundle.path, id])],
                       capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert "top" in r.stdout
    assert ("in-submount" in r.stdout) == (option == "rbind"), r.stdout


@clause("config/mount-idmap-needs-mapping")
def test_idmap_without_any_mapping_is_an_error(berth, bundle, tmp_path):
    """No uidMappings/gidMappings on the mount and no user namespace."""
    src = tmp_path / "src"
    src.mkdir()
    bundle.add_mount("/m", "bind", str(src), ["rbind", "idmap"])
    expect_error(berth, bundle, "idmap", command="create")


@clause("config/mount-mappings-together")
@pytest.mark.parametrize("which", ["uidMappings", "gidMappings"])
def test_mount_mappings_come_in_pairs(berth, bundle, tmp_path, which):
    src = tmp_path / "src"
    src.mkdir()
    bundle.add_mount("/m", "bind", str(src), ["rbind", "idmap"])
    bundle.config["mounts"][-1][which] = [{"containerID": 0, "hostID": 1000, "size": 1}]
    expect_error(berth, bundle, "mounts[", command="create")


# ---------------------------------------------------------------- process

@clause("config/process-consoleSize-ignored")
def test_consoleSize_is_ignored_without_a_terminal(berth, bundle):
    bundle.config["process"]["terminal"] = False
    bundle.config["process"]["consoleSize"] = {"height": 10, "width": 20}
    out = berth.sh(bundle, "echo fine; [ -t 1 ] && echo tty || echo no-tty")
    assert out.split() == ["fine", "no-tty"]


@clause("config/process-cwd-absolute")
def test_a_relative_cwd_is_refused(berth, bundle):
    bundle.set_cwd("tmp")
    expect_error(berth, bundle, "process.cwd", command="create")


@clause("config/process-args-required")
def test_args_needs_one_entry(berth, bundle):
    bundle.config["process"]["args"] = []
    expect_error(berth, bundle, "process.args", command="create")


@clause("config/rlimits-unmappable")
def test_an_unknown_rlimit_is_an_error(berth, bundle):
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]
    expect_error(berth, bundle, "unknown rlimit `RLIMIT_BOGUS`", command="create")


@clause("config/rlimits-values")
def test_rlimits_are_set_as_given(berth, bundle):
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
                                           {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096}]
    out = berth.sh(bundle, "grep -E 'open files|core file' /proc/self/limits")
    assert re.search(r"Max core file size\s+0\s+4096", out), out
    assert re.search(r"Max open files\s+123\s+456", out), out


@clause("config/rlimits-duplicate")
def test_a_duplicated_rlimit_is_an_error(berth, bundle):
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1},
                                           {"type": "RLIMIT_NOFILE", "soft": 2, "hard": 2}]
    expect_error(berth, bundle, "RLIMIT_NOFILE", command="create")


@clause("config/capabilities-unmappable-warning")
@pytest.mark.xfail(strict=True, reason="berth refuses capability names it does not know (an error, "
                   "process.c/spec.c) where the spec asks for a warning; reported, see COVERAGE.md")
def test_an_unknown_capability_is_a_warning(berth, bundle):
    bundle.config["process"]["capabilities"]["bounding"].append("CAP_FLY")
    bundle.set_args("true")
    r = berth.run_container(bundle)
    assert r.returncode == 0 and "warning" in r.stderr and "CAP_FLY" in r.stderr


def oom_score_adj_via(berth, bundle, value):
    """Run the container from a berth whose own oom_score_adj is `value`."""
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    r = subprocess.run(["sh", "-c", f'echo {value} > /proc/self/oom_score_adj && exec "$@"', "sh",
                        *berth.cmd(["run", "--bundle", bundle.path, id])],
                       capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.split()[-1])


@clause("config/oomScoreAdj-set")
def test_oomScoreAdj_is_set(berth, bundle):
    bundle.config["process"]["oomScoreAdj"] = 345
    bundle.sh("cat /proc/self/oom_score_adj")
    assert oom_score_adj_via(berth, bundle, 7) == 345


@clause("config/oomScoreAdj-unset")
def test_oomScoreAdj_unset_is_left_alone(berth, bundle):
    bundle.config["process"].pop("oomScoreAdj", None)
    bundle.sh("cat /proc/self/oom_score_adj")
    assert oom_score_adj_via(berth, bundle, 123) == 123


@clause("config/valid-values")
@pytest.mark.parametrize("field,value", [("scheduler", {"policy": "SCHED_OTHER"}),
                                         ("ioPriority", {"class": "IOPRIO_CLASS_IDLE", "priority": 4}),
                                         ("execCPUAffinity", {"initial": "0"})])
def test_process_fields_berth_does_not_support_are_errors(berth, bundle, field, value):
    bundle.config["process"][field] = value
    expect_error(berth, bundle, f"process.{field}: not supported yet", command="create")


# ---------------------------------------------------------------- hooks

@clause("config/hooks-path-absolute")
@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer", "startContainer",
                                  "poststart", "poststop"])
def test_a_relative_hook_path_is_refused(berth, bundle, kind):
    bundle.config["hooks"] = {kind: [{"path": "bin/true"}]}
    expect_error(berth, bundle, f"hooks.{kind}[0].path: expected an absolute path", command="create")


@clause("config/hooks-timeout-positive")
@pytest.mark.parametrize("timeout", [0, -3])
def test_a_hook_timeout_must_be_positive(berth, bundle, timeout):
    bundle.config["hooks"] = {"poststop": [{"path": "/bin/true", "timeout": timeout}]}
    expect_error(berth, bundle, "hooks.poststop[0].timeout: expected a positive integer", command="create")


NS_HOOK = 'echo "$1 $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/pid)" >> {log}\n'


def hook_namespaces(berth, bundle, tmp_path, kinds):
    """Run a container with a hook of each kind that records its mount and
    pid namespace; returns {kind: (mnt, pid)} and the container's."""
    log = tmp_path / "ns.log"
    host_hook = script(tmp_path / "ns.sh", NS_HOOK.format(log=log))
    script(os.path.join(bundle.rootfs, "ns.sh"), NS_HOOK.format(log="/nslog/ns.log"))
    bundle.add_mount("/nslog", "bind", str(tmp_path), ["rbind", "rw"])
    bundle.config["hooks"] = {k: [{"path": "/ns.sh" if k == "startContainer" else host_hook,
                                   "args": ["ns.sh", k]}] for k in kinds}
    sleeper(bundle)
    id = berth.create(bundle).id
    pid = state(berth, id)["pid"]
    container = (ns_inode(pid, "mount"), ns_inode(pid, "pid"))
    berth.run(["start", id], check=True)
    berth.run(["delete", "--force", id], check=True)
    seen = {}
    for line in log.read_text().splitlines():
        kind, mnt, pidns = line.split()
        seen[kind] = (mnt, pidns)
    return seen, container


@clause("config/hooks-runtime-namespace", "config/hooks-path-runtime-namespace")
def test_runtime_namespace_hooks_run_in_the_runtime_namespace(berth, bundle, tmp_path):
    kinds = ["prestart", "createRuntime", "poststart", "poststop"]
    seen, _ = hook_namespaces(berth, bundle, tmp_path, kinds)
    ours = (ns_inode(os.getpid(), "mount"), ns_inode(os.getpid(), "pid"))
    assert {k: seen[k] for k in kinds} == {k: ours for k in kinds}


@clause("config/hooks-container-namespace")
def test_container_namespace_hooks_run_in_the_container_namespace(berth, bundle, tmp_path):
    kinds = ["createContainer", "startContainer"]
    seen, container = hook_namespaces(berth, bundle, tmp_path, kinds)
    assert {k: seen[k] for k in kinds} == {k: container for k in kinds}


@clause("config/hooks-path-runtime-namespace")
def test_createContainer_path_resolves_on_the_host(berth, bundle, tmp_path):
    """The hook exists only on the host, not in the rootfs."""
    marker = tmp_path / "ran"
    hook = script(tmp_path / "only-on-host.sh", f"touch {marker}\n")
    assert not os.path.exists(os.path.join(bundle.rootfs, hook.lstrip("/")))
    bundle.config["hooks"] = {"createContainer": [{"path": hook}]}
    bundle.set_args("true")
    assert berth.run_container(bundle).returncode == 0
    assert marker.exists()


@clause("config/hooks-path-container-namespace")
def test_startContainer_path_resolves_in_the_container(berth, bundle, tmp_path):
    """Only in the rootfs: it runs; only on the host: it is not found."""
    script(os.path.join(bundle.rootfs, "inside.sh"), "touch /tmp/inside-ran\n")
    bundle.config["hooks"] = {"startContainer": [{"path": "/inside.sh"}]}
    bundle.set_readonly(False)
    bundle.sh("cat /tmp/inside-ran && echo found")
    r = berth.run_container(bundle)
    assert r.returncode == 0 and "found" in r.stdout, r.stderr
    host_only = script(tmp_path / "host-only.sh", "exit 0\n")
    bundle.config["hooks"] = {"startContainer": [{"path": host_only}]}
    expect_error(berth, bundle, f"hooks.startContainer[0]: exec `{host_only}`")


@clause("config/hooks-order")
def test_hooks_of_a_kind_run_in_the_listed_order(berth, bundle, tmp_path):
    log = tmp_path / "order"
    hooks = [script(tmp_path / f"h{i}.sh", f"echo {i} >> {log}\n") for i in range(4)]
    bundle.config["hooks"] = {"createRuntime": [{"path": h} for h in hooks]}
    bundle.set_args("true")
    assert berth.run_container(bundle).returncode == 0
    assert log.read_text().split() == ["0", "1", "2", "3"]


@clause("config/hooks-state-on-stdin")
@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer", "poststart", "poststop"])
def test_hooks_get_the_state_on_stdin(berth, bundle, tmp_path, kind):
    saved = tmp_path / "stdin.json"
    bundle.config["hooks"] = {kind: [{"path": script(tmp_path / "save.sh", f"cat > {saved}\n")}]}
    bundle.config["annotations"] = {"org.example": "yes"}
    sleeper(bundle)
    id = berth.create(bundle).id
    berth.run(["start", id], check=True)
    berth.run(["delete", "--force", id], check=True)
    st = json.loads(saved.read_text())
    assert st["id"] == id and st["ociVersion"] and st["annotations"] == {"org.example": "yes"}
    assert os.path.samefile(st["bundle"], bundle.path)
    want = {"prestart": "creating", "createRuntime": "creating", "createContainer": "creating",
            "poststart": "running", "poststop": "stopped"}[kind]
    assert st["status"] == want


ROOT_AT_HOOK = ('pid=$(sed -n "s/.*\\"pid\\":\\([0-9]*\\).*/\\1/p"); '
                'stat -L -c %d:%i /proc/$pid/root/ > {out}\n')


def dev_ino(path):
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}"


@clause("config/hooks-prestart-timing", "config/hooks-createRuntime-timing")
@pytest.mark.parametrize("kind", ["prestart", "createRuntime"])
def test_create_hooks_run_after_the_environment_and_before_pivot_root(berth, bundle, tmp_path, kind):
    """At the hook the init has its mounts (the environment) but still the
    host's root; after create its root is the container's."""
    out = tmp_path / "hook-root"
    saved = tmp_path / "hook-mounts"
    bundle.add_mount("/scratch", "tmpfs", "tmpfs")
    text = ROOT_AT_HOOK.format(out=out) + f"cat /proc/$pid/mountinfo > {saved}\n"
    bundle.config["hooks"] = {kind: [{"path": script(tmp_path / "h.sh", text)}]}
    sleeper(bundle)
    id = berth.create(bundle).id
    assert out.read_text().strip() == dev_ino("/")
    assert "/scratch" in saved.read_text()
    assert dev_ino(f"/proc/{state(berth, id)['pid']}/root/") == dev_ino(bundle.rootfs)


@clause("config/hooks-prestart-before-createRuntime", "config/hooks-createContainer-after-createRuntime",
        "config/hooks-createContainer-timing")
def test_create_hooks_run_in_their_order(berth, bundle, tmp_path):
    log = tmp_path / "log"
    h = script(tmp_path / "h.sh", f"echo $1 >> {log}\n")
    bundle.config["hooks"] = {k: [{"path": h, "args": ["h.sh", k]}]
                              for k in ("createContainer", "createRuntime", "prestart")}
    bundle.set_args("true")
    assert berth.run_container(bundle).returncode == 0
    assert log.read_text().split() == ["prestart", "createRuntime", "createContainer"]


@clause("config/hooks-startContainer-timing")
def test_startContainer_runs_at_start_before_the_program(berth, bundle, tmp_path):
    bundle.add_mount("/box", "bind", str(tmp_path), ["rbind", "rw"])
    script(os.path.join(bundle.rootfs, "sc.sh"), "tr '\\0' ' ' < /proc/1/cmdline > /box/cmdline\n")
    bundle.config["hooks"] = {"startContainer": [{"path": "/sc.sh"}]}
    sleeper(bundle)
    id = berth.create(bundle).id
    assert not (tmp_path / "cmdline").exists()
    berth.run(["start", id], check=True)
    assert not (tmp_path / "cmdline").read_text().startswith("sleep")


@clause("config/hooks-poststart-timing")
def test_poststart_runs_after_the_program_and_before_start_returns(berth, bundle, tmp_path):
    out = tmp_path / "cmdline"
    text = 'pid=$(sed -n "s/.*\\"pid\\":\\([0-9]*\\).*/\\1/p"); sleep 0.3; ' \
           f"tr '\\0' ' ' < /proc/$pid/cmdline > {out}\n"
    bundle.config["hooks"] = {"poststart": [{"path": script(tmp_path / "ps.sh", text)}]}
    sleeper(bundle)
    id = berth.create(bundle).id
    berth.run(["start", id], check=True)
    assert out.read_text().startswith("sleep 1000")


@clause("config/hooks-poststop-timing")
def test_poststop_runs_after_the_container_is_deleted_and_before_delete_returns(berth, bundle, tmp_path):
    out = tmp_path / "at-poststop"
    sleeper(bundle)
    id = berth.new_id()
    dirs = " ".join(d for _, d in container_cgroup_dirs(id))
    text = (f'sleep 0.3; for d in {dirs}; do [ -d $d ] && echo cgroup-left; done > {out}; '
            f'[ -e {berth.root}/{id} ] && echo state-left >> {out}; echo done >> {out}\n')
    bundle.config["hooks"] = {"poststop": [{"path": script(tmp_path / "pst.sh", text)}]}
    berth.run_detached(bundle, id=id)
    berth.run(["delete", "--force", id], check=True)
    assert out.read_text().split() == ["done"]


# ---------------------------------------------------------------- annotations, extensibility

@clause("config/annotations-map")
@pytest.mark.parametrize("value,message", [(["a"], "annotations: expected an object"),
                                           ({"": "x"}, "annotations: a key must not be empty"),
                                           ({"k": 1}, "annotations.k: expected a string")])
def test_annotations_must_be_a_map_of_strings(berth, bundle, value, message):
    bundle.config["annotations"] = value
    expect_error(berth, bundle, message, command="create")


@clause("config/annotations-unknown-keys")
def test_unknown_annotation_keys_are_kept_and_ignored(berth, bundle):
    ann = {"org.opencontainers.image.os": "linux", "com.example.whatever": "", "x": "y"}
    bundle.config["annotations"] = ann
    sleeper(bundle)
    id = berth.create(bundle).id
    assert state(berth, id)["annotations"] == ann


@clause("config/extensibility-unknown-properties")
def test_unknown_properties_are_ignored(berth, bundle):
    bundle.config["somethingNew"] = {"a": 1}
    bundle.config["process"]["futureField"] = True
    bundle.linux["futureLinuxField"] = [1, 2]
    bundle.config["mounts"][0]["futureMountField"] = "x"
    bundle.config["root"]["futureRootField"] = 0
    bundle.set_args("true")
    r = berth.run_container(bundle)
    assert r.returncode == 0, r.stderr


@clause("config/valid-values")
@pytest.mark.parametrize("edit,message", [
    (lambda c: c["linux"]["namespaces"].append({"type": "bogus"}), "unknown namespace type `bogus`"),
    (lambda c: c["process"]["user"].update(uid=-1), "process.user.uid"),
    (lambda c: c["linux"].update(rootfsPropagation="sideways"), "unknown propagation `sideways`"),
    (lambda c: c["mounts"].append({"destination": "/x", "type": "tmpfs", "options": [3]}), "mounts["),
])
def test_invalid_values_are_errors(berth, bundle, edit, message):
    edit(bundle.config)
    expect_error(berth, bundle, message, command="create")


@clause("runtime/state-pid-for-hooks")
def test_hook_state_pid_is_as_seen_by_the_host(berth, bundle, tmp_path):
    """The state on every hook's stdin is the container's state, whose `pid`
    is the container process as seen by the host (runtime.md, State) — also
    for the hooks that run in the container's namespaces."""
    bundle.add_mount("/box", "bind", str(tmp_path), ["rbind", "rw"])
    save = 'sed -n "s/.*\\"pid\\":\\([0-9]*\\).*/\\1/p" > {out}\n'
    runtime = script(tmp_path / "rt.sh", save.format(out=tmp_path / "createRuntime.pid"))
    container = script(tmp_path / "ct.sh", save.format(out=tmp_path / "createContainer.pid"))
    script(os.path.join(bundle.rootfs, "sc.sh"), save.format(out="/box/startContainer.pid"))
    bundle.config["hooks"] = {"createRuntime": [{"path": runtime}], "createContainer": [{"path": container}],
                              "startContainer": [{"path": "/sc.sh"}]}
    sleeper(bundle)
    id = berth.create(bundle).id
    berth.run(["start", id], check=True)
    host_pid = state(berth, id)["pid"]
    got = {k: int((tmp_path / f"{k}.pid").read_text()) for k in ("createRuntime", "createContainer",
                                                                   "startContainer")}
    assert got == {"createRuntime": host_pid, "createContainer": host_pid, "startContainer": host_pid}


@clause("config/mount-idmap-uses-mappings")
def test_idmap_uses_the_mount_s_own_mappings(berth, bundle, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "owned").write_text("x")
    os.chown(src / "owned", 0, 0)
    bundle.add_mount("/m", "bind", str(src), ["rbind", "idmap"])
    # As runc and crun read them: source ids from containerID are seen from hostID on.
    bundle.config["mounts"][-1]["uidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 1}]
    bundle.config["mounts"][-1]["gidMappings"] = [{"containerID": 0, "hostID": 2000, "size": 1}]
    out = berth.sh(bundle, "stat -c %u:%g /m/owned")
    assert out.strip() == "1000:2000"
