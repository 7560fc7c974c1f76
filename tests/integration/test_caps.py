"""Capabilities and no_new_privs: each of the five sets exactly as given
(read from the waiting init's /proc/PID/status before it execs, and from
the process after), what they allow and forbid, unknown names, capabilities
the running kernel lacks (skipped with a warning), and no_new_privs against
a setuid binary.
"""

import os
import shutil

import pytest

from conftest import CAPS, cap_mask, parse_status

SETS = {"bounding": "CapBnd", "effective": "CapEff", "permitted": "CapPrm", "inheritable": "CapInh",
        "ambient": "CapAmb"}


def caps_of(status_text):
    st = parse_status(status_text)
    return {k: int(st[k], 16) for k in SETS.values()}


def init_caps(berth, id):
    """The five sets of the created (waiting) init: what berth set, before execve recomputes them."""
    pid = berth.state(id)["pid"]
    with open(f"/proc/{pid}/status") as f:
        return caps_of(f.read())


@pytest.fixture
def pbundle(bundle, sysprobe):
    shutil.copy(sysprobe, os.path.join(bundle.rootfs, "bin", "sysprobe"))
    return bundle


# Five different sets: effective in permitted, ambient in permitted and inheritable.
GIVEN = {
    "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_NET_RAW", "CAP_FOWNER"],
    "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_NET_RAW"],
    "effective": ["CAP_KILL", "CAP_CHOWN"],
    "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_FOWNER"],  # the kernel keeps it within bounding
    "ambient": ["CAP_NET_BIND_SERVICE"],
}


@pytest.mark.parametrize("uid", [0, 1000])
def test_each_set_as_given(berth, bundle, uid):
    bundle.set_user(uid, uid)
    bundle.config["process"]["capabilities"] = GIVEN
    bundle.sh("cat /proc/self/status")
    r = berth.create(bundle)
    got = init_caps(berth, r.id)
    for name, key in SETS.items():
        assert got[key] == cap_mask(GIVEN[name]), f"{name}: {got[key]:#x} != {cap_mask(GIVEN[name]):#x}"


def test_sets_after_exec_nonroot(berth, bundle):
    # execve() for a non-root user without file capabilities keeps the
    # bounding and inheritable sets and gives exactly the ambient set.
    bundle.set_user(1000, 1000)
    bundle.config["process"]["capabilities"] = GIVEN
    got = caps_of(berth.sh(bundle, "cat /proc/self/status"))
    amb = cap_mask(GIVEN["ambient"])
    assert got == {"CapBnd": cap_mask(GIVEN["bounding"]), "CapInh": cap_mask(GIVEN["inheritable"]),
                   "CapPrm": amb, "CapEff": amb, "CapAmb": amb}


def test_empty_sets_root_powerless(berth, bundle):
    bundle.set_readonly(False)
    bundle.config["process"]["capabilities"] = {k: [] for k in SETS}
    out = berth.sh(bundle, "grep ^Cap /proc/self/status; touch /tmp/f; chown 5 /tmp/f 2>&1; echo rc=$?")
    assert caps_of(out) == {k: 0 for k in SETS.values()}
    assert "Operation not permitted" in out and "rc=1" in out


@pytest.mark.parametrize("with_cap", [True, False])
def test_bounding_limits_root(berth, bundle, with_cap):
    bundle.set_readonly(False)
    names = ["CAP_KILL"] + (["CAP_CHOWN"] if with_cap else [])
    bundle.config["process"]["capabilities"] = {k: names for k in ("bounding", "effective", "permitted")}
    out = berth.sh(bundle, "touch /tmp/f; chown 5 /tmp/f 2>&1; echo rc=$?; stat -c %u /tmp/f")
    if with_cap:
        assert out.split()[-2:] == ["rc=0", "5"]
    else:
        assert "Operation not permitted" in out and out.split()[-2:] == ["rc=1", "0"]


@pytest.mark.parametrize("ambient", [True, False])
def test_ambient_capability_works_for_nonroot(berth, pbundle, ambient):
    # Port 80 needs CAP_NET_BIND_SERVICE: a non-root process has it only
    # through the ambient set.  (In the container's own network namespace.)
    assert "network" in pbundle.namespaces()
    pbundle.set_user(1000, 1000)
    cap = ["CAP_NET_BIND_SERVICE"]
    pbundle.config["process"]["capabilities"] = {"bounding": cap, "permitted": cap, "effective": cap,
                                                 "inheritable": cap, "ambient": cap if ambient else []}
    out = berth.sh(pbundle, "sysprobe bind 80")
    assert out == ("ok\n" if ambient else "errno=13\n")


@pytest.mark.parametrize("set_name", list(SETS))
def test_unknown_capability(berth, bundle, set_name):
    bundle.config["process"]["capabilities"] = {set_name: ["CAP_KILL", "CAP_FLY"]}
    r = berth.run_container(bundle)
    assert r.returncode == 1
    assert f"berth: process.capabilities.{set_name}[1]: unknown capability `CAP_FLY`\n" in r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)


def test_lowercase_name_is_unknown(berth, bundle):
    bundle.config["process"]["capabilities"] = {"bounding": ["cap_kill"]}
    r = berth.run_container(bundle)
    assert "process.capabilities.bounding[0]: unknown capability `cap_kill`" in r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)


def test_caps_the_kernel_lacks_skipped_with_warning(berth, make_bundle, tmp_path):
    # A kernel that stops at CAP_PERFMON (38), faked by a bind mount over
    # /proc/sys/kernel/cap_last_cap in a private mount namespace of our own.
    bundle = make_bundle()
    bundle.set_readonly(False)
    known = ["CAP_KILL", "CAP_PERFMON"]
    lacking = ["CAP_BPF", "CAP_CHECKPOINT_RESTORE"]
    bundle.config["process"]["capabilities"] = {k: known + lacking for k in ("bounding", "effective", "permitted")}
    bundle.sh("grep ^Cap /proc/self/status")
    fake = tmp_path / "cap_last_cap"
    fake.write_text("38\n")
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    script = f'mount --bind {fake} /proc/sys/kernel/cap_last_cap && exec "$@"'
    r = berth.run(["run", "--bundle", bundle.path, id],
                  wrap=["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"])
    assert r.returncode == 0, r.stderr
    assert ("berth: warning: process.capabilities: CAP_BPF, CAP_CHECKPOINT_RESTORE not known to the running "
            "kernel: skipped\n") in r.stderr
    got = caps_of(r.stdout)
    assert got["CapPrm"] == got["CapEff"] == cap_mask(known)


def own_caps():
    with open("/proc/self/status") as f:
        bnd = caps_of(f.read())["CapBnd"]
    return [c for i, c in enumerate(CAPS) if bnd & (1 << i)]


def test_no_warning_when_all_known(berth, bundle):
    # Every capability this kernel and our own bounding set have.
    bundle.config["process"]["capabilities"] = {k: own_caps() for k in ("bounding", "effective", "permitted")}
    r = berth.run_container(bundle)
    assert r.returncode == 0
    assert "warning" not in r.stderr


def test_warning_goes_to_json_log(berth, bundle, tmp_path):
    # Same fake kernel; with --log-format json the warning is a JSON line.
    bundle.config["process"]["capabilities"] = {"bounding": ["CAP_BPF"]}
    fake = tmp_path / "cap_last_cap"
    fake.write_text("38\n")
    log = tmp_path / "log.json"
    id = berth.new_id()
    bundle.write()
    berth.track(id, bundle)
    script = f'mount --bind {fake} /proc/sys/kernel/cap_last_cap && exec "$@"'
    r = berth.run(["run", "--bundle", bundle.path, id], global_opts=("--log", str(log), "--log-format", "json"),
                  wrap=["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"])
    assert r.returncode == 0, r.stderr
    lines = [l for l in log.read_text().splitlines() if '"level":"warning"' in l]
    assert lines and "CAP_BPF not known to the running kernel: skipped" in lines[0]


# ---------------------------------------------------------------- no_new_privs

@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privs_stops_setuid(berth, pbundle, nnp):
    # A setuid-root binary: without no_new_privs it runs with euid 0.
    probe = os.path.join(pbundle.rootfs, "bin", "sysprobe")
    os.chown(probe, 0, 0)
    os.chmod(probe, 0o4755)
    pbundle.set_user(1000, 1000)
    pbundle.config["process"]["noNewPrivileges"] = nnp
    out = berth.sh(pbundle, "grep NoNewPrivs /proc/self/status; sysprobe ids")
    assert f"NoNewPrivs:\t{1 if nnp else 0}" in out
    assert ("uid=1000 euid=1000" if nnp else "uid=1000 euid=0") in out
