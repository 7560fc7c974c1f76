"""Load: many create/start/delete cycles, many containers alive at once —
through the CLI and through libberth in one long-lived process — with no
failure, and afterwards no leaked fd, no cgroup, mount or state left.

`make check` runs the small form (LOAD_CYCLES=50, LOAD_ALIVE=30); `make
load` the full one (500 cycles, 200 containers alive at once)."""

import json
import os
import re
import subprocess
import time

import pytest

from conftest import LIBBERTH_RUN, TIMEOUT, mountinfo, own_cgroups, proc_state, reap_orphans, wait_for

CYCLES = int(os.environ.get("LOAD_CYCLES", "50"))
ALIVE = int(os.environ.get("LOAD_ALIVE", "30"))
LIBBERTH_CYCLES = os.environ.get("LIBBERTH_CYCLES",
                                 os.path.join(os.path.dirname(LIBBERTH_RUN), "libberth-cycles"))


def berth_cgroups():
    """Every container directory under `<own>/berth/` in every hierarchy."""
    found = []
    for ctrls, _, d in own_cgroups():
        top = os.path.join(d, "berth")
        if os.path.isdir(top):
            found += [os.path.join(top, e) for e in os.listdir(top) if os.path.isdir(os.path.join(top, e))]
    return found


def our_cgroups(prefix):
    return [d for d in berth_cgroups() if os.path.basename(d).startswith(prefix)]


def nothing_left(berth, bundle, prefix):
    assert os.listdir(berth.root) in ([], ["@seccomp-cache"]), os.listdir(berth.root)
    assert our_cgroups(prefix) == []
    real = os.path.realpath(bundle.rootfs)
    assert not [m for m in mountinfo() if m["mountpoint"].startswith(real)]


def report(what, n, seconds):
    print(f"\nload: {what}: {n} in {seconds:.1f} s ({seconds / max(n, 1) * 1000:.1f} ms each)")


def test_cycles_through_the_cli(berth, bundle):
    bundle.set_args("sleep", "1000")
    bundle.write()
    prefix = f"t{os.getpid()}-cyc"
    start = time.monotonic()
    for i in range(CYCLES):
        id = f"{prefix}{i}"
        berth.track(id, bundle)
        berth.run(["create", "--bundle", bundle.path, id], check=True)
        berth.run(["start", id], check=True)
        berth.run(["delete", "--force", id], check=True)
    report("create/start/delete --force cycles (CLI)", CYCLES, time.monotonic() - start)
    reap_orphans()
    nothing_left(berth, bundle, prefix)


def test_many_alive_through_the_cli(berth, bundle):
    bundle.set_args("sleep", "1000")
    bundle.write()
    prefix = f"t{os.getpid()}-alive"
    ids = [f"{prefix}{i}" for i in range(ALIVE)]
    start = time.monotonic()
    pids = []
    for id in ids:
        berth.track(id, bundle)
        berth.run(["run", "-d", "--bundle", bundle.path, id], check=True)
    states = json.loads(berth.run(["list", "--format", "json"], check=True).stdout)
    assert sorted(s["id"] for s in states) == sorted(ids)
    assert {s["status"] for s in states} == {"running"}
    pids = [s["pid"] for s in states]
    assert len(set(pids)) == ALIVE and all(proc_state(p) for p in pids)
    assert len(our_cgroups(prefix)) >= ALIVE
    for id in ids:
        berth.run(["delete", "--force", id], check=True)
    report("containers alive at once (CLI), then deleted", ALIVE, time.monotonic() - start)

    def gone():
        reap_orphans()
        return not [p for p in pids if proc_state(p)]
    wait_for(gone, what="every init to go")
    nothing_left(berth, bundle, prefix)


def test_one_process_through_libberth(berth, bundle):
    """libberth-cycles (tests/lib/libberth-cycles.c): CYCLES cycles and ALIVE
    containers in one process, which counts its own fds after the first
    cycle and at the end; built with the sanitizers (make check-asan),
    LeakSanitizer checks its memory at exit."""
    if not os.access(LIBBERTH_CYCLES, os.X_OK):
        pytest.skip(f"{LIBBERTH_CYCLES} not built (set $LIBBERTH_CYCLES or run make)")
    bundle.set_args("sleep", "1000")
    bundle.write()
    prefix = f"t{os.getpid()}-lib"
    for i in range(CYCLES):
        berth.track(f"{prefix}-c{i}", bundle)
    for i in range(ALIVE):
        berth.track(f"{prefix}-a{i}", bundle)
    start = time.monotonic()
    r = subprocess.run([LIBBERTH_CYCLES, berth.root, bundle.path, prefix, str(CYCLES), str(ALIVE)],
                       capture_output=True, text=True, timeout=TIMEOUT + CYCLES + 2 * ALIVE,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r"cycles=(\d+) alive=(\d+) fds_first=(\d+) fds_last=(\d+)\n", r.stdout)
    assert m, r.stdout
    assert (int(m[1]), int(m[2])) == (CYCLES, ALIVE)
    assert m[3] == m[4], f"fds: {m[3]} after the first cycle, {m[4]} at the end"
    report(f"libberth cycles + alive (fds stayed at {m[4]})", CYCLES + ALIVE, time.monotonic() - start)
    reap_orphans()
    nothing_left(berth, bundle, prefix)


def test_no_fd_leaks_into_a_long_run(berth, bundle):
    """A foreground `berth run` holds a fixed set of fds however long its
    container lives and however much happens around it (execs, state,
    kills): none of them leak into berth."""
    bundle.set_args("sleep", "1000")
    p = berth.popen_run(bundle)
    id = p.id
    berth.wait_status(id, "running")

    def fds():
        return sorted(os.listdir(f"/proc/{p.pid}/fd"))
    before = fds()
    for _ in range(max(CYCLES // 5, 5)):
        berth.run(["exec", id, "true"], check=True)
        berth.run(["state", id], check=True)
        berth.run(["kill", id, "CONT"], check=True)
    assert fds() == before
    berth.run(["kill", id, "KILL"], check=True)
    p.wait(timeout=TIMEOUT)
    assert p.returncode == 137


VALGRIND_SUPP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "valgrind.supp")


def valgrind_cycles(*args):
    """libberth-cycles ARGS under valgrind's memcheck; (stdout, stderr
    without valgrind's own notes), asserting a clean exit: any invalid
    access, use of uninitialised memory or definite leak fails it, in the
    caller and in the children valgrind follows until they execute (the
    container's init, an exec'd process)."""
    import shutil
    if not shutil.which("valgrind"):
        pytest.skip("valgrind is not installed (scripts/setup installs it)")
    if not os.access(LIBBERTH_CYCLES, os.X_OK):
        pytest.skip(f"{LIBBERTH_CYCLES} not built")
    libs = subprocess.run(["ldd", LIBBERTH_CYCLES], capture_output=True, text=True).stdout
    if "libasan" in libs or "libasan" in subprocess.run(["ldd", os.path.join(os.path.dirname(
            os.path.dirname(LIBBERTH_CYCLES)), "libberth.so")], capture_output=True, text=True).stdout:
        pytest.skip("this is the sanitizer build: valgrind runs on the plain one (make check-plain)")
    r = subprocess.run(["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
                        "--error-exitcode=99", f"--suppressions={VALGRIND_SUPP}", LIBBERTH_CYCLES, *args],
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    # valgrind 3.19's notes on the calls it lacks (pidfd_open, openat2, ...) start with "--".
    report = "\n".join(line for line in r.stderr.splitlines() if not line.startswith("--"))
    assert r.returncode == 0, report
    # A child's errors do not change the exit status: with -q, any "==PID==" line is one.
    assert not re.search(r"^==\d+== ", r.stderr, re.M), report
    return r.stdout, report


def test_library_under_valgrind(berth, make_bundle):
    """libberth's operations on running containers that clone nothing
    (bundle load and validation, list, state, pids, stats, pause, resume,
    OOM watch, delete --force) under valgrind's memcheck: no invalid access,
    no leak."""
    bundle = make_bundle()
    bundle.set_args("sleep", "1000")
    ids = [berth.run_detached(bundle).id for _ in range(2)]
    out, _ = valgrind_cycles(berth.root, bundle.path, "--inspect")
    assert out == f"inspected={len(ids)}\n"
    for id in ids:
        berth.leftovers(id, rootfs=bundle.rootfs)


VALGRIND_CYCLES = 3


def test_library_cycles_under_valgrind(berth, make_bundle):
    """Every operation that clones, through the library under valgrind:
    create, start, exec (its exit status), kill and delete, three times, and
    a foreground run (its exit code).  valgrind 3.19 has no clone3,
    pidfd_open or pidfd_send_signal: the library takes its fallbacks
    (src/lib/pidfd.h, test_fallbacks.py) and loses nothing."""
    bundle = make_bundle()
    bundle.set_args("sleep", "1000")
    run_bundle = make_bundle()
    run_bundle.sh("exit 3")
    for b in (bundle, run_bundle):
        # valgrind keeps fds above the hard RLIMIT_NOFILE for itself and refuses to change that
        # limit (EPERM), in the init it follows too: the default spec's 1024/1024 cannot apply.
        b.config["process"].pop("rlimits", None)
        b.write()
    prefix = berth.new_id()
    ids = [f"{prefix}-f{i}" for i in range(VALGRIND_CYCLES)] + [f"{prefix}-run"]
    for id in ids:
        berth.track(id, bundle)
    out, _ = valgrind_cycles(berth.root, bundle.path, "--full", prefix, str(VALGRIND_CYCLES),
                             run_bundle.path)
    assert out == f"full={VALGRIND_CYCLES} run=3\n"
    for id in ids:
        berth.leftovers(id, rootfs=bundle.rootfs)
    berth.leftovers(ids[-1], rootfs=run_bundle.rootfs)
