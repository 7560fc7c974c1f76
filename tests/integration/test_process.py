"""Every `process` field, observed from inside the container."""

import os

import pytest

from conftest import CAPS, cap_mask, parse_status


def test_args(berth, bundle):
    bundle.set_args("echo", "a b", "", "c")
    r = berth.run_container(bundle, check=True)
    assert r.stdout == "a b  c\n"


def test_args_path_lookup_uses_container_path(berth, bundle):
    # args[0] without a slash is looked up in the container's $PATH.
    os.makedirs(os.path.join(bundle.rootfs, "opt", "x"))
    os.symlink("/bin/busybox", os.path.join(bundle.rootfs, "opt", "x", "hello-applet"))
    bundle.set_env(["PATH=/opt/x"])
    bundle.set_args("hello-applet")
    r = berth.run_container(bundle)
    # busybox started under an unknown applet name says so: it ran.
    assert "hello-applet: applet not found" in r.stderr


def test_env(berth, bundle):
    bundle.set_env(["PATH=/bin", "FOO=bar baz", "EMPTY=", "HOME=/root"])
    r = berth.sh(bundle, "env")
    env = dict(l.split("=", 1) for l in r.splitlines() if "=" in l)
    assert env["FOO"] == "bar baz"
    assert env["EMPTY"] == ""
    assert env["PATH"] == "/bin"
    assert env["HOME"] == "/root"
    # exactly the configured environment (plus what sh itself sets)
    assert set(env) - {"SHLVL", "PWD"} == {"PATH", "FOO", "EMPTY", "HOME"}


def test_cwd(berth, bundle):
    bundle.set_cwd("/etc")
    assert berth.sh(bundle, "pwd") == "/etc\n"


@pytest.mark.parametrize("readonly", [False, True])
def test_cwd_created_if_missing(berth, bundle, readonly):
    bundle.set_readonly(readonly)
    bundle.set_cwd("/work/deep/dir")
    assert berth.sh(bundle, "pwd") == "/work/deep/dir\n"
    assert os.path.isdir(os.path.join(bundle.rootfs, "work", "deep", "dir"))


def test_user(berth, bundle):
    bundle.set_user(uid=1000, gid=1001, additional_gids=[10, 20, 30])
    st = parse_status(berth.sh(bundle, "cat /proc/self/status"))
    assert st["Uid"].split() == ["1000"] * 4
    assert st["Gid"].split() == ["1001"] * 4
    assert sorted(map(int, st["Groups"].split())) == [10, 20, 30]
    out = berth.sh(bundle, "id -u; id -g; id -G")
    assert out.split("\n")[:2] == ["1000", "1001"]
    assert sorted(map(int, out.split("\n")[2].split())) == [10, 20, 30, 1001]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_umask(berth, bundle, umask):
    bundle.set_user(0, 0, umask=umask)
    assert berth.sh(bundle, "umask").strip() == f"{umask:04o}"


def test_rlimits(berth, bundle):
    bundle.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 1234, "hard": 4321},
        {"type": "RLIMIT_NPROC", "soft": 777, "hard": 888},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
    ]
    out = berth.sh(bundle, "ulimit -n; cat /proc/self/limits")
    lines = out.splitlines()
    assert lines[0] == "1234"
    limits = {l[:26].strip(): l[26:].split()[:2] for l in lines[2:]}
    assert limits["Max open files"] == ["1234", "4321"]
    assert limits["Max processes"] == ["777", "888"]
    assert limits["Max core file size"] == ["0", "0"]


def _caps(status_text):
    st = parse_status(status_text)
    return {k: int(st[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


def test_capabilities_root(berth, bundle):
    # For uid 0 execve() makes permitted = effective = bounding | inheritable
    # (and inheritable can only hold what bounding has).
    bnd = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETUID", "CAP_SETGID"]
    inh = ["CAP_KILL", "CAP_NET_RAW"]
    bundle.set_user(0, 0)
    bundle.config["process"]["capabilities"] = {
        "bounding": bnd, "effective": bnd, "permitted": bnd,
        "inheritable": inh, "ambient": []}
    caps = _caps(berth.sh(bundle, "cat /proc/self/status"))
    assert caps["CapBnd"] == cap_mask(bnd)
    assert caps["CapInh"] == cap_mask(inh)
    assert caps["CapPrm"] == cap_mask(bnd + inh)
    assert caps["CapEff"] == cap_mask(bnd + inh)
    assert caps["CapAmb"] == 0


def test_capabilities_ambient_nonroot(berth, bundle):
    # For a non-root user, what survives execve() is exactly the ambient set
    # (which the runtime can only raise if it is in permitted and inheritable).
    bnd = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"]
    bundle.set_user(1000, 1000)
    bundle.config["process"]["capabilities"] = {
        "bounding": bnd,
        "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
        "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
        "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "ambient": ["CAP_NET_BIND_SERVICE"]}
    caps = _caps(berth.sh(bundle, "cat /proc/self/status"))
    assert caps["CapBnd"] == cap_mask(bnd)
    assert caps["CapInh"] == cap_mask(["CAP_KILL", "CAP_NET_BIND_SERVICE"])
    assert caps["CapAmb"] == cap_mask(["CAP_NET_BIND_SERVICE"])
    assert caps["CapPrm"] == cap_mask(["CAP_NET_BIND_SERVICE"])
    assert caps["CapEff"] == cap_mask(["CAP_NET_BIND_SERVICE"])


def test_capabilities_nonroot_without_ambient(berth, bundle):
    bundle.set_user(1000, 1000)
    bundle.config["process"]["capabilities"] = {
        "bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"],
        "inheritable": [], "ambient": []}
    caps = _caps(berth.sh(bundle, "cat /proc/self/status"))
    assert caps == {"CapBnd": cap_mask(["CAP_KILL"]), "CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapAmb": 0}


def test_capabilities_default_spec(berth, bundle):
    bnd = bundle.config["process"]["capabilities"]["bounding"]
    assert set(bnd) <= set(CAPS)
    caps = _caps(berth.sh(bundle, "cat /proc/self/status"))
    assert caps["CapBnd"] == cap_mask(bnd)
    assert caps["CapBnd"] != int(parse_status(open("/proc/self/status").read())["CapBnd"], 16)


@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(berth, bundle, nnp):
    bundle.config["process"]["noNewPrivileges"] = nnp
    st = parse_status(berth.sh(bundle, "cat /proc/self/status"))
    assert st["NoNewPrivs"] == ("1" if nnp else "0")


# Negative values need CAP_SYS_RESOURCE, which this host's bounding set lacks.
@pytest.mark.parametrize("adj", [123, 1000])
def test_oom_score_adj(berth, bundle, adj):
    bundle.config["process"]["oomScoreAdj"] = adj
    assert berth.sh(bundle, "cat /proc/self/oom_score_adj") == f"{adj}\n"
