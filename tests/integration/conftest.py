"""Shared fixtures for berth's integration tests.

Every test gets its own busybox bundle in a temp dir and its own `--root`
state directory, so tests never collide and leftover checks are scoped.
After each test every container id it used is force-deleted and then checked
for leftovers: state directory, cgroup directories, mounts under the bundle's
rootfs, and the container's init process.

Host rules: cgroups are only ever created (by berth) beneath our own cgroup;
namespaces are only joined when a test created them; only pids we started are
signalled; host mounts are never touched.
"""

import copy
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

BERTH = os.environ.get("BERTH", "/work/main/build/berth")
LIBBERTH_RUN = os.environ.get("LIBBERTH_RUN", "/work/main/build/tests/libberth-run")
BUSYBOX = "/bin/busybox"
REPO = Path(__file__).resolve().parents[2]

TIMEOUT = 10  # seconds for any one berth command

_ids = itertools.count()

# OCI namespace type -> name under /proc/PID/ns/
NS_PROC_NAME = {
    "pid": "pid",
    "network": "net",
    "mount": "mnt",
    "ipc": "ipc",
    "uts": "uts",
    "user": "user",
    "cgroup": "cgroup",
    "time": "time",
}

CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
    "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
]


def cap_mask(names):
    return sum(1 << CAPS.index(n) for n in set(names))


# ---------------------------------------------------------------- host facts

def _is_static_elf(path):
    """True when `path` is an ELF executable without a PT_INTERP header."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit only
        return False
    order = "little" if data[5] == 1 else "big"
    phoff = int.from_bytes(data[32:40], order)
    phentsize = int.from_bytes(data[54:56], order)
    phnum = int.from_bytes(data[56:58], order)
    for i in range(phnum):
        off = phoff + i * phentsize
        if int.from_bytes(data[off:off + 4], order) == 3:  # PT_INTERP
            return False
    return True


def _busybox_problem():
    if not os.path.exists(BUSYBOX):
        return f"{BUSYBOX} does not exist (apt-get install busybox-static)"
    if shutil.which("dpkg"):
        listing = subprocess.run(["dpkg", "-L", "busybox-static"], capture_output=True, text=True)
        if listing.returncode != 0 or BUSYBOX not in listing.stdout.split():
            return f"{BUSYBOX} is not from busybox-static (apt-get install busybox-static)"
    if not _is_static_elf(BUSYBOX):
        return f"{BUSYBOX} is dynamically linked; the tests need busybox-static"
    return None


@pytest.fixture(scope="session", autouse=True)
def host_check():
    if os.geteuid() != 0:
        pytest.skip("integration tests need root (namespaces, mounts, cgroups)")
    problem = _busybox_problem()
    if problem:
        pytest.skip(problem)
    if not os.access(BERTH, os.X_OK):
        pytest.skip(f"berth binary {BERTH} not built (set $BERTH or run make)")
    # Container inits outlive `berth create`; this machine's pid 1 does not
    # reap orphans, so like a container engine's shim we become a child
    # subreaper and reap them ourselves (see reap_orphans()).
    import ctypes
    PR_SET_CHILD_SUBREAPER = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        pytest.skip("prctl(PR_SET_CHILD_SUBREAPER) failed")


def unescape_mount(s):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def mountinfo(path="/proc/self/mountinfo"):
    """Parsed mountinfo: dicts with root, mountpoint, options, fstype, source, super."""
    out = []
    with open(path) as f:
        for line in f:
            left, right = line.rstrip("\n").split(" - ", 1)
            l = left.split()
            r = right.split()
            out.append({
                "root": unescape_mount(l[3]),
                "mountpoint": unescape_mount(l[4]),
                "options": l[5].split(","),
                "fstype": r[0],
                "source": r[1],
                "super": r[2].split(",") if len(r) > 2 else [],
            })
    return out


def own_cgroups():
    """[(controllers, own path, host directory of our own cgroup)] for every
    hierarchy we belong to that is mounted."""
    mounts = mountinfo()
    result = []
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            for m in mounts:
                if ctrls == "":
                    ok = m["fstype"] == "cgroup2"
                else:
                    ok = m["fstype"] == "cgroup" and set(ctrls.split(",")) <= set(m["super"])
                root = m["root"].rstrip("/")
                if ok and (path == root or path.startswith(root + "/") or root == ""):
                    rel = path[len(root):].lstrip("/")
                    result.append((ctrls, path, os.path.join(m["mountpoint"], rel)))
                    break
    return result


def container_cgroup_dirs(id, cgroups_path=None):
    """Host directories of a container's cgroup in every hierarchy: berth's
    default `<own>/berth/<id>`, or a relative cgroupsPath below our own."""
    rel = cgroups_path if cgroups_path is not None else f"berth/{id}"
    assert not rel.startswith("/"), "tests only use relative cgroup paths"
    return [(ctrls, os.path.normpath(os.path.join(d, rel))) for ctrls, _, d in own_cgroups()]


def ns_inode(pid, kind):
    return os.readlink(f"/proc/{pid}/ns/{NS_PROC_NAME[kind]}")


def proc_state(pid):
    """(state letter, starttime) of a pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return fields[0], int(fields[19])


def reap_orphans(exclude=()):
    """Reap zombies reparented to us (we are a subreaper), except Popen children."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in exclude:
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] == "Z" and int(fields[1]) == me:
            try:
                os.waitpid(int(entry), os.WNOHANG)
            except ChildProcessError:
                pass


def wait_for(predicate, timeout=5.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def valid_id(id):
    return bool(id) and "/" not in id and id not in (".", "..") and len(id) <= 1024


# ---------------------------------------------------------------- bundles

_spec_cache = {}


def default_spec():
    """config.json as `berth spec` writes it (generated once per session)."""
    if "spec" not in _spec_cache:
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([BERTH, "spec", "--bundle", d], capture_output=True, text=True,
                               timeout=TIMEOUT)
            assert r.returncode == 0, f"berth spec failed: {r.stderr}"
            with open(os.path.join(d, "config.json")) as f:
                _spec_cache["spec"] = json.load(f)
    return copy.deepcopy(_spec_cache["spec"])


_applets = []


def busybox_applets():
    if not _applets:
        out = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout
        _applets.extend(a for a in out.split() if a and a != "busybox")
    return _applets


class Bundle:
    """A busybox bundle in a temp dir; edit `config` (or use the helpers)
    and `write()` it (the berth helpers write it before each create/run)."""

    def __init__(self, path):
        self.path = str(path)
        self.rootfs = os.path.join(self.path, "rootfs")
        os.makedirs(os.path.join(self.rootfs, "bin"))
        for d in ("proc", "sys", "dev", "tmp", "etc"):
            os.makedirs(os.path.join(self.rootfs, d))
        os.chmod(os.path.join(self.rootfs, "tmp"), 0o1777)
        shutil.copy2(BUSYBOX, os.path.join(self.rootfs, "bin", "busybox"))
        for applet in busybox_applets():
            os.symlink("busybox", os.path.join(self.rootfs, "bin", applet))
        self.config = default_spec()
        self.config["root"] = {"path": "rootfs", "readonly": self.config.get("root", {}).get("readonly", True)}
        self.config["process"]["terminal"] = False
        self.write()

    @property
    def config_path(self):
        return os.path.join(self.path, "config.json")

    def write(self):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=2)

    # process
    def set_args(self, *args):
        self.config["process"]["args"] = list(args)

    def sh(self, script):
        self.set_args("sh", "-c", script)

    def set_env(self, env):
        if isinstance(env, dict):
            env = [f"{k}={v}" for k, v in env.items()]
        self.config["process"]["env"] = list(env)

    def set_cwd(self, cwd):
        self.config["process"]["cwd"] = cwd

    def set_user(self, uid=0, gid=0, additional_gids=None, umask=None):
        user = {"uid": uid, "gid": gid}
        if additional_gids is not None:
            user["additionalGids"] = list(additional_gids)
        if umask is not None:
            user["umask"] = umask
        self.config["process"]["user"] = user

    def set_readonly(self, readonly):
        self.config["root"]["readonly"] = readonly

    # linux
    @property
    def linux(self):
        return self.config.setdefault("linux", {})

    def namespaces(self):
        return {n["type"]: n.get("path") for n in self.linux.get("namespaces", [])}

    def set_ns(self, kind, path=None):
        self.remove_ns(kind)
        entry = {"type": kind}
        if path is not None:
            entry["path"] = path
        self.linux.setdefault("namespaces", []).append(entry)

    def remove_ns(self, kind):
        self.linux["namespaces"] = [n for n in self.linux.get("namespaces", []) if n["type"] != kind]

    def mount_destinations(self):
        return [m["destination"] for m in self.config.get("mounts", [])]

    def add_mount(self, destination, type=None, source=None, options=None):
        m = {"destination": destination}
        if type is not None:
            m["type"] = type
        if source is not None:
            m["source"] = source
        if options is not None:
            m["options"] = list(options)
        self.config.setdefault("mounts", []).append(m)

    def remove_mount(self, destination):
        self.config["mounts"] = [m for m in self.config.get("mounts", [])
                                 if m["destination"] != destination]

    def keep_only_mounts(self, *destinations):
        self.config["mounts"] = [m for m in self.config.get("mounts", [])
                                 if m["destination"] in destinations]


@pytest.fixture
def make_bundle(tmp_path):
    """make_bundle() -> a new Bundle.  traversable=True puts it where every
    uid can reach it (pytest's temp dirs are 0700): a user namespace's root
    is an unprivileged uid on the host."""
    counter = itertools.count()
    outside = []

    def make(traversable=False):
        if not traversable:
            return Bundle(tmp_path / f"bundle{next(counter)}")
        d = tempfile.mkdtemp(prefix="berth-test-")
        os.chmod(d, 0o755)
        outside.append(d)
        return Bundle(os.path.join(d, "bundle"))
    yield make
    for d in outside:
        real = os.path.realpath(d)
        if not any(m["mountpoint"].startswith(real + "/") for m in mountinfo()):
            shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def bundle(make_bundle):
    return make_bundle()


# ---------------------------------------------------------------- berth

class BerthError(AssertionError):
    pass


class Berth:
    """Runs $BERTH with a per-test --root and remembers every container id
    (and what is known about it) for the teardown's leftover check."""

    def __init__(self, root):
        self.root = str(root)
        self.used = {}  # id -> {"rootfs":, "pid":, "start":, "cgroups_path":}
        self.popens = []

    # ids
    def new_id(self):
        id = f"t{os.getpid()}-{next(_ids)}"
        self.used.setdefault(id, {})
        return id

    def track(self, id, bundle=None, **info):
        entry = self.used.setdefault(id, {})
        if bundle is not None:
            entry["rootfs"] = bundle.rootfs
            cg = bundle.linux.get("cgroupsPath")
            if cg is not None:
                entry["cgroups_path"] = cg
        entry.update({k: v for k, v in info.items() if v is not None})

    # raw commands
    def cmd(self, args, global_opts=()):
        return [BERTH, "--root", self.root, *global_opts, *args]

    def run(self, args, check=False, input=None, timeout=TIMEOUT, global_opts=(), pass_fds=(),
            wrap=None):
        """Run `berth --root ROOT [global_opts] ARGS`.  stdout/stderr go to
        temp files, not pipes: a detached container keeps its stdio open."""
        argv = self.cmd(args, global_opts)
        if wrap:
            argv = [*wrap, *argv]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            r = subprocess.run(argv, stdout=out, stderr=err,
                               stdin=subprocess.DEVNULL if input is None else None,
                               input=input.encode() if isinstance(input, str) else input,
                               timeout=timeout, pass_fds=pass_fds)
            out.seek(0)
            err.seek(0)
            res = subprocess.CompletedProcess(argv, r.returncode,
                                              out.read().decode(errors="replace"),
                                              err.read().decode(errors="replace"))
        if check and res.returncode != 0:
            raise BerthError(f"{' '.join(args)} exited {res.returncode}:\n{res.stderr}")
        return res

    def popen(self, args, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen(self.cmd(args), **kw)
        self.popens.append(p)
        return p

    # container helpers
    def run_container(self, bundle, id=None, opts=(), check=False, **kw):
        """`berth run` in the foreground; returns CompletedProcess with .id."""
        id = id or self.new_id()
        bundle.write()
        self.track(id, bundle)
        r = self.run(["run", "--bundle", bundle.path, *opts, id], check=check, **kw)
        r.id = id
        return r

    def sh(self, bundle, script, **kw):
        """Run `sh -c script` in a container; must exit 0; returns stdout."""
        bundle.sh(script)
        r = self.run_container(bundle, **kw)
        if r.returncode != 0:
            raise BerthError(f"container `{script}` exited {r.returncode}:\n{r.stderr}")
        return r.stdout

    def create(self, bundle, id=None, opts=(), check=True, **kw):
        id = id or self.new_id()
        bundle.write()
        self.track(id, bundle)
        r = self.run(["create", "--bundle", bundle.path, *opts, id], check=check, **kw)
        r.id = id
        if r.returncode == 0:
            self.state(id)  # remember the pid for the leftover check
        return r

    def run_detached(self, bundle, id=None, opts=(), check=True):
        id = id or self.new_id()
        bundle.write()
        self.track(id, bundle)
        r = self.run(["run", "-d", "--bundle", bundle.path, *opts, id], check=check)
        r.id = id
        if r.returncode == 0:
            self.state(id)
        return r

    def popen_run(self, bundle, id=None, opts=()):
        id = id or self.new_id()
        bundle.write()
        self.track(id, bundle)
        p = self.popen(["run", "--bundle", bundle.path, *opts, id])
        p.id = id
        return p

    def state(self, id):
        r = self.run(["state", id], check=True)
        st = json.loads(r.stdout)
        pid = st.get("pid") or 0
        if pid > 0 and id in self.used and "pid" not in self.used[id]:
            ps = proc_state(pid)
            self.track(id, pid=pid, start=ps[1] if ps else None)
        return st

    def status(self, id):
        return self.state(id)["status"]

    def wait_status(self, id, status, timeout=5.0):
        """Poll `state` until it says `status` (a container being set up by
        a foreground `run` may not exist yet)."""
        def reached():
            r = self.run(["state", id])
            return r.returncode == 0 and json.loads(r.stdout)["status"] == status
        wait_for(reached, timeout, what=f"`{id}` to be {status}")
        self.state(id)

    # leftovers
    def leftovers(self, id, pid=None, rootfs=None, cgroups_path=None, start=None):
        """Assert that nothing of container `id` remains on the host."""
        problems = []
        if valid_id(id):
            sd = os.path.join(self.root, id)
            if os.path.lexists(sd):
                problems.append(f"state directory {sd} remains: {os.listdir(sd) if os.path.isdir(sd) else ''}")
            for ctrls, d in container_cgroup_dirs(id, cgroups_path):
                if os.path.exists(d):
                    problems.append(f"cgroup {d} ({ctrls or 'cgroup2'}) remains")
        if rootfs:
            real = os.path.realpath(rootfs)
            for m in mountinfo():
                if m["mountpoint"] == real or m["mountpoint"].startswith(real + "/"):
                    problems.append(f"mount {m['mountpoint']} ({m['fstype']}) remains on the host")
        if pid:
            alive = [p.pid for p in self.popens if p.returncode is None]

            def gone():
                reap_orphans(exclude=alive)
                ps = proc_state(pid)
                return ps is None or (start is not None and ps[1] != start)
            try:
                wait_for(gone, timeout=2.0, what=f"pid {pid} to go")
            except AssertionError:
                problems.append(f"process {pid} remains (state {proc_state(pid)[0]})")
        assert not problems, f"container `{id}` left behind:\n  " + "\n  ".join(problems)

    @staticmethod
    def _tidy_cgroups(id, cgroups_path):
        """After reporting them, remove empty cgroups berth left for one of
        our ids (named after our pid, so ours), so one failure does not
        litter the host."""
        if not valid_id(id):
            return
        for _, d in container_cgroup_dirs(id, cgroups_path):
            try:
                os.rmdir(d)
            except OSError:
                pass

    def teardown(self):
        for p in self.popens:
            if p.poll() is None:
                p.kill()
                p.wait()
        errors = []
        for id, info in self.used.items():
            if valid_id(id):
                self.run(["delete", "-f", id], timeout=TIMEOUT)
            try:
                self.leftovers(id, pid=info.get("pid"), rootfs=info.get("rootfs"),
                               cgroups_path=info.get("cgroups_path"), start=info.get("start"))
            except AssertionError as e:
                errors.append(str(e))
                self._tidy_cgroups(id, info.get("cgroups_path"))
        reap_orphans()
        assert not errors, "\n".join(errors)


@pytest.fixture
def berth(tmp_path):
    b = Berth(tmp_path / "root")
    yield b
    b.teardown()


@pytest.fixture
def leftovers(berth):
    return berth.leftovers


def read_line(pipe, timeout=5.0):
    """One line from a Popen pipe, with a timeout."""
    import select
    buf = b""
    deadline = time.monotonic() + timeout
    fd = pipe.fileno()
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out reading a line (got {buf!r})")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 1)
            if not chunk:
                break
            buf += chunk
    return buf.decode()


def parse_status(text):
    """`Key:\tvalue` lines of /proc/PID/status into a dict."""
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


@pytest.fixture
def spawn():
    """Start a helper process on the host (killed and reaped at teardown)."""
    procs = []

    def start(argv, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(argv, **kw)
        procs.append(p)
        return p
    yield start
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait()


# ---------------------------------------------------------------- sysprobe

_sysprobe = {}


@pytest.fixture(scope="session")
def sysprobe(tmp_path_factory):
    """tests/integration/data/sysprobe.c built static, once per session: one
    system call with chosen arguments, inside a container (see the source)."""
    if "path" not in _sysprobe:
        src = REPO / "tests" / "integration" / "data" / "sysprobe.c"
        out = tmp_path_factory.mktemp("sysprobe") / "sysprobe"
        r = subprocess.run(["gcc", "-static", "-O2", "-o", str(out), str(src), "-pthread"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot build the static sysprobe (needs gcc and libc6-dev): {r.stderr.strip()}")
        _sysprobe["path"] = str(out)
    return _sysprobe["path"]


# ---------------------------------------------------------------- cgroup controllers

def controller_dir(id, controller, cgroups_path=None):
    """Host directory of container `id`'s cgroup in the hierarchy that holds
    `controller`: the v1 hierarchy naming it, or (controller "") cgroup2;
    None when this host has no such hierarchy."""
    for ctrls, d in container_cgroup_dirs(id, cgroups_path):
        if (controller == "" and ctrls == "") or (controller and controller in ctrls.split(",")):
            return d
    return None


def read_cgroup(id, controller, name, cgroups_path=None):
    """The stripped text of one cgroup file of container `id`."""
    d = controller_dir(id, controller, cgroups_path)
    assert d is not None, f"no {controller or 'cgroup2'} hierarchy"
    with open(os.path.join(d, name)) as f:
        return f.read().strip()


# ---------------------------------------------------------------- commands that make nothing

# Where engines and network tests running beside us mount and unmount on the
# host all the time; none of it is anything berth makes.
_VOLATILE_MOUNTS = ("/run/netns/", "/var/run/netns/", "/run/containers/", "/var/lib/containers/",
                    "/run/docker/", "/var/lib/docker/", "/run/containerd/", "/var/lib/containerd/",
                    "/run/user/")


def host_snapshot(root, id):
    """What `check` and `--dry-run` must leave as it was: the host's mount
    table (less what other programs keep changing: engines' and network
    namespaces' mounts, and /tmp outside this test's own directory, which
    holds `root` and the bundles), the cgroup directories named after
    container `id` in every hierarchy, and the state root `root` (whether
    it exists, its entries)."""
    ours = os.path.dirname(os.path.realpath(root)) + "/"

    def stable(m):
        p = m["mountpoint"] + "/"
        return not p.startswith(_VOLATILE_MOUNTS) and (not p.startswith("/tmp/") or p.startswith(ours))
    mounts = sorted((m["mountpoint"], m["fstype"], m["source"]) for m in mountinfo() if stable(m))
    cgroups = sorted(d for _, d in container_cgroup_dirs(id) if os.path.exists(d))
    state = sorted(os.listdir(root)) if os.path.isdir(root) else None
    return {"mounts": mounts, "cgroups": cgroups, "state": state}
