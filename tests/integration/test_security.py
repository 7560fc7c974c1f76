"""The runtime's own attack surface, each test failing without its defence:

- a host directory fd reaching the container, and `process.cwd` (or exec's
  --cwd) of `/proc/self/fd/N` entering it (the CVE-2024-21626 class);
- a container process opening /proc/PID/exe of an init that is still berth
  (the CVE-2019-5736 class);
- a mount target swapped for a symlink while berth mounts (the
  CVE-2021-30465 class; test_safety.py covers symlinks that are already there);
- masked paths reached another way;
- the state directory read, or the container started or signalled through
  it, by another user;
- LSM labels on a host without the LSM: a clear error, nothing left.
"""

import ctypes
import fcntl
import os
import shutil
import subprocess
import tempfile
import threading

import pytest

from conftest import BERTH, Berth, wait_for


@pytest.fixture
def host_dir_fd(tmp_path):
    """A host directory open at a free fd >= 40 (inheritable, as a careless
    caller would leave it), holding a file `host-secret`."""
    d = tmp_path / "hostdir"
    d.mkdir()
    (d / "host-secret").write_text("secret\n")
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 40)
    os.close(fd)
    os.set_inheritable(high, True)
    yield high
    os.close(high)


def exec_available():
    return subprocess.run([BERTH, "exec", "--help"], capture_output=True).returncode == 0


# ---------------------------------------------------------------- host fds and cwd

def test_host_dir_fd_not_in_container(berth, bundle, host_dir_fd):
    # berth is handed an fd it was not asked to preserve: the container must
    # not reach it (every fd but 0-2 is closed at execve).
    fd = host_dir_fd
    out = berth.sh(bundle, f"ls /proc/self/fd/{fd}/ 2>&1; echo rc=$?; ls /proc/self/fd", pass_fds=(fd,))
    assert "host-secret" not in out
    assert "No such file or directory" in out
    assert str(fd) not in out.split()


@pytest.mark.parametrize("cwd", ["/proc/self/fd/{fd}", "/proc/self/fd/{fd}/sub", "/proc/1/cwd"])
def test_cwd_through_proc_magic_link_refused(berth, bundle, host_dir_fd, cwd):
    cwd = cwd.format(fd=host_dir_fd)
    bundle.set_cwd(cwd)
    bundle.sh("ls; pwd")
    r = berth.run_container(bundle, pass_fds=(host_dir_fd,))
    assert r.returncode == 1, r.stdout
    assert "host-secret" not in r.stdout
    assert f"process.cwd: open `{cwd}` in the rootfs: Too many levels of symbolic links" in r.stderr
    berth.leftovers(r.id, rootfs=bundle.rootfs)
    assert not os.path.exists(os.path.join(str(bundle.rootfs), "proc", "self"))


@pytest.mark.skipif(not exec_available(), reason="`berth exec` is not built yet (issue 5)")
@pytest.mark.parametrize("cwd", ["/proc/self/fd/{fd}", "/proc/self/fd/{fd}/sub"])
def test_exec_cwd_through_proc_magic_link_refused(berth, bundle, host_dir_fd, cwd):
    cwd = cwd.format(fd=host_dir_fd)
    # exec's process has joined the container and still holds the fd until
    # it execs: chdir through /proc/self/fd/N would land in the host directory.
    bundle.set_args("sleep", "100")
    r = berth.run_detached(bundle)
    ex = berth.run(["exec", "--cwd", cwd, r.id, "sh", "-c", "ls; pwd"], pass_fds=(host_dir_fd,))
    assert ex.returncode == 1, ex.stdout
    assert "host-secret" not in ex.stdout
    assert (f"process.cwd `{cwd}`: a symlink loop, or a /proc magic link that leads out of the container: "
            "Too many levels of symbolic links") in ex.stderr
    # The container is unharmed, and no directory appeared on the host.
    assert berth.status(r.id) == "running"
    assert os.listdir(f"/proc/self/fd/{host_dir_fd}") == ["host-secret"]


@pytest.mark.skipif(not exec_available(), reason="`berth exec` is not built yet (issue 5)")
def test_exec_cwd_created_inside(berth, bundle):
    bundle.set_readonly(False)
    bundle.set_args("sleep", "100")
    r = berth.run_detached(bundle)
    ex = berth.run(["exec", "--cwd", "/made/by/exec", r.id, "pwd"], check=True)
    assert ex.stdout == "/made/by/exec\n"
    assert os.path.isdir(os.path.join(bundle.rootfs, "made", "by", "exec"))


# ---------------------------------------------------------------- /proc/PID/exe

def test_waiting_init_exe_not_reachable(berth, make_bundle, sysprobe):
    # Container A is created: its init is still berth, waiting for `start`.
    # Container B shares the host pid namespace and runs as root with the
    # default capabilities (the same as A's): were the init dumpable, B
    # could open /proc/A/exe -- the berth binary -- and keep it to overwrite
    # once berth exits, or read A's memory, environment and fds.
    a = make_bundle()
    a.set_args("true")
    ra = berth.create(a)
    pid = berth.state(ra.id)["pid"]
    assert os.path.realpath(f"/proc/{pid}/exe") == os.path.realpath(BERTH)

    b = make_bundle()
    shutil.copy(sysprobe, os.path.join(b.rootfs, "bin", "sysprobe"))
    b.remove_ns("pid")
    opens = [("exe", "r"), ("exe", "w"), ("environ", "r"), ("maps", "r"), ("mem", "r"), ("fd/0", "r"),
             ("cwd/.", "r")]
    script = "; ".join(f"sysprobe open /proc/{pid}/{f} {m}" for f, m in opens)
    out = berth.sh(b, f"{script}; readlink /proc/{pid}/exe; echo readlink=$?")
    assert out.splitlines() == ["errno=13"] * len(opens) + ["readlink=1"], out
    # A is unharmed and still starts.
    berth.run(["start", ra.id], check=True)


def test_running_process_exe_is_its_own(berth, bundle):
    # After execve the init is the container's program, not berth.
    bundle.set_args("sleep", "100")
    r = berth.run_detached(bundle)
    pid = berth.state(r.id)["pid"]
    assert os.readlink(f"/proc/{pid}/exe") == "/bin/busybox"
    with open(f"/proc/{pid}/status") as f:
        assert "Seccomp" in f.read()


# ---------------------------------------------------------------- symlink swap race

RENAME_EXCHANGE = 2


def test_mount_target_swapped_during_mount(berth, make_bundle, tmp_path):
    # A thread keeps exchanging the mount target (a directory) with a
    # symlink to /usr/share while berth mounts there.  Resolved inside the
    # rootfs and mounted through the fd, the bind always lands in the
    # container: on the directory, or on /usr/share of the rootfs.  Followed
    # on the host at mount time, it would land on the host's /usr/share in
    # the container's mount namespace, and the container would see it nowhere.
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "renameat2"):
        pytest.skip("libc has no renameat2")
    src = tmp_path / "volume"
    src.mkdir()
    (src / "marker").write_text("mark\n")
    host_share = sorted(os.listdir("/usr/share"))
    bundle = make_bundle()
    bundle.set_readonly(False)
    root = bundle.rootfs
    data = os.path.join(root, "data")
    os.makedirs(os.path.join(data, "vol"))
    os.symlink("/usr/share", os.path.join(data, "swap"))
    bundle.add_mount("/data/vol", "bind", str(src), ["rbind"])
    # Once running, the container waits for the swapping to stop, then looks
    # where the directory (at /data/vol or /data/swap) or the symlink's
    # target (/usr/share) may be.
    bundle.sh("touch /started; while [ ! -e /go ]; do sleep 0.01; done; "
              "cat /data/vol/marker /data/swap/marker /usr/share/marker 2>/dev/null; true")
    a, b = os.path.join(data, "vol").encode(), os.path.join(data, "swap").encode()
    swaps = 0
    for _ in range(20):
        for f in ("started", "go"):
            if os.path.exists(os.path.join(root, f)):
                os.unlink(os.path.join(root, f))
        stop = threading.Event()
        counted = [0]

        def swapper():
            while not stop.is_set():
                if libc.renameat2(-100, a, -100, b, RENAME_EXCHANGE) == 0:
                    counted[0] += 1
        t = threading.Thread(target=swapper, daemon=True)
        t.start()
        p = berth.popen_run(bundle)
        try:
            wait_for(lambda: os.path.exists(os.path.join(root, "started")) or p.poll() is not None,
                     what="the container to start")
        finally:
            stop.set()
            t.join()
        swaps += counted[0]
        open(os.path.join(root, "go"), "w").close()
        out, err = p.communicate(timeout=10)
        assert p.returncode == 0, err
        assert b"mark" in out, f"the bind mount went somewhere the container cannot see: {out!r} {err!r}"
    assert swaps > 20
    assert sorted(os.listdir("/usr/share")) == host_share
    assert not os.path.exists("/usr/share/marker")


# ---------------------------------------------------------------- masking

def test_masked_paths_hidden_every_way(berth, bundle):
    masked = [p for p in bundle.linux["maskedPaths"] if os.path.exists(p)]
    files = [p for p in masked if os.path.isfile(p) and open(p, "rb").read(1)]
    dirs = [p for p in masked if os.path.isdir(p) and os.listdir(p)]
    assert "/proc/timer_list" in files and "/sys/firmware" in dirs
    checks = []
    for p in files:
        for view in (p, f"/proc/1/root{p}", f"/proc/self/root{p}"):
            checks.append(f'echo "{view} $(cat {view} | wc -c)"')
    for p in dirs:
        checks.append(f'echo "{p} $(ls -A {p} | wc -l)"')
        checks.append(f'mkdir {p}/x 2>/dev/null && echo "{p} writable" || true')
    for p in masked:
        checks.append(f'umount {p} 2>/dev/null && echo "{p} unmounted" || true')
    out = berth.sh(bundle, "; ".join(checks))
    for line in out.splitlines():
        assert line.endswith(" 0"), f"not hidden: {line}"


def test_unmask_needs_sys_admin(berth, bundle):
    # The masks are mounts: with CAP_SYS_ADMIN they could be removed, which is
    # why the default capabilities leave it out.
    assert "CAP_SYS_ADMIN" not in bundle.config["process"]["capabilities"]["bounding"]
    out = berth.sh(bundle, "umount /proc/timer_list 2>&1; echo rc=$?; wc -c < /proc/timer_list")
    assert "rc=1" in out and out.split()[-1] == "0"


# ---------------------------------------------------------------- the state directory

def tree_modes(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(d, name)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_mode & 0o7777, st.st_uid, st.st_gid)
    return out


def test_state_dir_private(tmp_path, bundle, sysprobe):
    root = tmp_path / "fresh-root"
    b = Berth(root)
    try:
        shutil.copy(sysprobe, os.path.join(bundle.rootfs, "bin", "sysprobe"))
        bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                   "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO"}]}
        r = b.create(bundle)
        assert os.stat(root).st_mode & 0o777 == 0o700  # made by berth
        modes = tree_modes(root)
        assert f"{r.id}/state.json" in modes and f"{r.id}/exec.fifo" in modes
        for path, (mode, uid, gid) in modes.items():
            want = 0o700 if os.path.isdir(os.path.join(root, path)) else 0o600
            assert (mode, uid, gid) == (want, os.geteuid(), os.getegid()), f"{path}: {oct(mode)} {uid}:{gid}"
    finally:
        b.teardown()


NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def shared_root():
    """A Berth whose root (0755) sits where every user can reach it: only
    berth's own modes keep others out."""
    parent = tempfile.mkdtemp(prefix="berth-test-root-")
    os.chmod(parent, 0o755)
    root = os.path.join(parent, "root")
    os.mkdir(root, 0o755)
    b = Berth(root)
    yield b
    b.teardown()
    shutil.rmtree(parent, ignore_errors=True)


def as_nobody(berth, *args):
    return subprocess.run([*NOBODY, BERTH, "--root", berth.root, *args], capture_output=True, text=True,
                          timeout=10, stdin=subprocess.DEVNULL)


def test_other_user_cannot_read_start_or_signal(shared_root, make_bundle):
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is missing")
    berth = shared_root
    bundle = make_bundle(traversable=True)
    bundle.set_args("sleep", "100")
    r = berth.create(bundle)
    pid = berth.state(r.id)["pid"]
    statedir = os.path.join(berth.root, r.id)

    cat = subprocess.run([*NOBODY, "cat", os.path.join(statedir, "state.json")], capture_output=True, text=True)
    assert cat.returncode != 0 and "Permission denied" in cat.stderr
    fifo = subprocess.run([*NOBODY, "sh", "-c", f"echo 0 > {statedir}/exec.fifo"], capture_output=True, text=True,
                          timeout=10)
    assert fifo.returncode != 0 and "Permission denied" in fifo.stderr

    for args in (["state", r.id], ["start", r.id], ["kill", r.id, "KILL"], ["delete", "--force", r.id]):
        res = as_nobody(berth, *args)
        assert res.returncode != 0, f"{args} succeeded as nobody"
        assert "Permission denied" in res.stderr, res.stderr

    # Nothing changed: still created, the same init alive.
    assert berth.status(r.id) == "created"
    assert berth.state(r.id)["pid"] == pid
    assert os.path.exists(f"/proc/{pid}")


# ---------------------------------------------------------------- LSM

@pytest.mark.parametrize("where,key,value,message", [
    ("process", "apparmorProfile", "docker-default",
     "process.apparmorProfile `docker-default`: AppArmor is not enabled on this host"),
    ("process", "selinuxLabel", "system_u:system_r:container_t:s0:c1,c2",
     "process.selinuxLabel `system_u:system_r:container_t:s0:c1,c2`: SELinux is not enabled on this host"),
    ("linux", "mountLabel", "system_u:object_r:container_file_t:s0",
     "linux.mountLabel `system_u:object_r:container_file_t:s0`: SELinux is not enabled on this host"),
])
def test_lsm_label_without_lsm(berth, bundle, where, key, value, message):
    if os.path.exists("/sys/kernel/security/apparmor") or os.path.exists("/sys/fs/selinux/enforce"):
        pytest.skip("this host has AppArmor or SELinux enabled; the error is for hosts without")
    bundle.config.setdefault(where, {})[key] = value
    for cmd in ("run", "create"):
        id = berth.new_id()
        bundle.write()
        berth.track(id, bundle)
        r = berth.run([cmd, "--bundle", bundle.path, id])
        assert r.returncode == 1
        assert r.stderr == f"berth: {message}\n"
        berth.leftovers(id, rootfs=bundle.rootfs)


def test_empty_lsm_labels_accepted(berth, bundle):
    bundle.config["process"]["apparmorProfile"] = ""
    bundle.config["process"]["selinuxLabel"] = ""
    bundle.linux["mountLabel"] = ""
    assert berth.sh(bundle, "echo ok") == "ok\n"


@pytest.mark.skipif(not exec_available(), reason="`berth exec` is not built yet (issue 5)")
@pytest.mark.parametrize("opt,message", [
    ("--apparmor=unconfined", "process.apparmorProfile `unconfined`: AppArmor is not enabled on this host"),
    ("--process-label=u:r:t:s0", "process.selinuxLabel `u:r:t:s0`: SELinux is not enabled on this host"),
])
def test_exec_lsm_label_without_lsm(berth, bundle, opt, message):
    bundle.set_args("sleep", "100")
    r = berth.run_detached(bundle)
    ex = berth.run(["exec", opt, r.id, "true"])
    assert ex.returncode == 1
    assert message in ex.stderr
    assert berth.status(r.id) == "running"
