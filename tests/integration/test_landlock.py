"""Landlock (berth extension): `berth.landlock.ro` / `berth.landlock.rw`
annotations (colon-separated absolute paths inside the container) restrict
the container's process, and every process `exec` starts in it: read and
execute beneath the ro paths, everything beneath the rw paths, nothing
elsewhere.  Where the kernel cannot apply it, create fails, unless
`--ignore-unsupported` makes it a warning."""

import os

import pytest

from fsutil import nosys

SYS_LANDLOCK = (444, 445, 446)  # create_ruleset, add_rule, restrict_self (x86_64)

# Run as in a writable image: without the ruleset every write below would succeed.
PROBE = ("echo data > /tmp/a && cat /tmp/a; "
         "cat /etc/ro-file; "
         "echo x > /etc/new || echo write-etc-refused; "
         "cat /srv/secret || echo read-srv-refused; "
         "echo done")


@pytest.fixture(autouse=True)
def landlock_kernel():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(444, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    if abi < 1:
        pytest.skip(f"this kernel has no Landlock ({os.strerror(ctypes.get_errno())})")


def landlocked(bundle, ro="/bin:/etc", rw="/tmp"):
    bundle.set_readonly(False)
    with open(os.path.join(bundle.rootfs, "etc", "ro-file"), "w") as f:
        f.write("hello\n")
    os.makedirs(os.path.join(bundle.rootfs, "srv"))
    with open(os.path.join(bundle.rootfs, "srv", "secret"), "w") as f:
        f.write("secret\n")
    bundle.config["annotations"] = {"berth.landlock.ro": ro, "berth.landlock.rw": rw}


def no_new_privileges_off(bundle):
    """Neither no_new_privs nor CAP_SYS_ADMIN at the end: the ruleset goes in
    before the capabilities are dropped (process_finalize), like seccomp."""
    bundle.config["process"]["noNewPrivileges"] = False
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_DAC_OVERRIDE"]
    bundle.config["process"]["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted")}


@pytest.mark.parametrize("late", [True, False], ids=["no_new_privs", "before_caps"])
def test_writes_outside_rw_fail_reads_of_ro_work(berth, bundle, leftovers, late):
    landlocked(bundle)
    if not late:
        no_new_privileges_off(bundle)
    bundle.sh(PROBE)
    r = berth.run_container(bundle)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n") == ["data", "hello", "write-etc-refused", "read-srv-refused", "done", ""]
    assert "can't create /etc/new: Permission denied" in r.stderr
    assert "can't open '/srv/secret': Permission denied" in r.stderr
    # What the host kept: the write inside rw landed, the one outside did not.
    assert open(os.path.join(bundle.rootfs, "tmp", "a")).read() == "data\n"
    assert not os.path.exists(os.path.join(bundle.rootfs, "etc", "new"))
    leftovers(r.id, rootfs=bundle.rootfs)


def test_without_annotations_nothing_is_restricted(berth, bundle):
    landlocked(bundle)
    bundle.config["annotations"] = {}
    bundle.sh(PROBE)
    r = berth.run_container(bundle)
    assert r.stdout.split("\n") == ["data", "hello", "secret", "done", ""]


def test_a_file_as_a_rule(berth, bundle):
    landlocked(bundle, ro="/bin:/etc/ro-file", rw="/tmp")
    bundle.sh("cat /etc/ro-file; ls /etc || echo list-etc-refused")
    r = berth.run_container(bundle)
    assert r.stdout.split("\n") == ["hello", "list-etc-refused", ""]


def test_exec_gets_the_same_ruleset(berth, bundle):
    landlocked(bundle)
    bundle.set_args("sleep", "100")
    r = berth.run_detached(bundle)
    x = berth.run(["exec", r.id, "sh", "-c", PROBE])
    assert x.returncode == 0, x.stderr
    assert x.stdout.split("\n") == ["data", "hello", "write-etc-refused", "read-srv-refused", "done", ""]
    assert not os.path.exists(os.path.join(bundle.rootfs, "etc", "new"))


def test_missing_path_is_an_error(berth, bundle, leftovers):
    landlocked(bundle, ro="/bin:/opt/nothing")
    bundle.sh("true")
    r = berth.create(bundle, check=False)
    assert r.returncode == 1
    assert "berth.landlock.ro: open `/opt/nothing`: No such file or directory" in r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)


@pytest.mark.parametrize("annotations, message", [
    ({"berth.landlock.ro": "bin:/etc"},
     "berth.landlock.ro: expected absolute paths separated by `:`, got `bin`"),
    ({"berth.landlock.rw": "/tmp::relative/"},
     "berth.landlock.rw: expected absolute paths separated by `:`, got `relative/`"),
    ({"berth.landlock.rx": "/bin"},
     "berth.landlock.rx: unknown setting (known: berth.landlock.ro, berth.landlock.rw)"),
])
def test_bad_annotations(berth, bundle, leftovers, annotations, message):
    bundle.config["annotations"] = annotations
    r = berth.create(bundle, check=False)
    assert r.returncode == 1
    assert message in r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)


def test_unsupported_kernel_is_an_error(berth, bundle, leftovers):
    landlocked(bundle)
    bundle.sh(PROBE)
    r = berth.run_container(bundle, wrap=nosys(*SYS_LANDLOCK))
    assert r.returncode == 1
    assert ("berth: berth.landlock: this kernel cannot apply Landlock rules (--ignore-unsupported runs the "
            "container without them): Function not implemented") in r.stderr
    leftovers(r.id, rootfs=bundle.rootfs)


def test_ignore_unsupported_runs_without_it(berth, bundle, leftovers):
    landlocked(bundle)
    bundle.sh(PROBE)
    r = berth.run_container(bundle, opts=["--ignore-unsupported"], wrap=nosys(*SYS_LANDLOCK))
    assert r.returncode == 0, r.stderr
    assert ("berth: warning: berth.landlock: this kernel cannot apply Landlock rules (Function not "
            "implemented): running without them") in r.stderr
    assert r.stdout.split("\n") == ["data", "hello", "secret", "done", ""]
    assert os.path.exists(os.path.join(bundle.rootfs, "etc", "new"))
    leftovers(r.id, rootfs=bundle.rootfs)
