"""Fixtures for the client tests: real engines (Docker, containerd, Podman)
running their containers on berth.

The session builds a busybox image (a rootfs tar for `docker import` and
`podman import`, an OCI image layout for `ctr images import`; no registry)
in a work directory under /tmp.  The `engine` fixture is parametrized over
the three engines, session-scoped, so pytest runs every test for one engine
before it starts the next: each engine is set up once (its daemons started
with private data, state and sockets under the work directory, berth
registered through the logging wrapper) and torn down once (daemons
stopped by pid, whatever they left killed by pid and unmounted, the
directory removed).

Every container a test makes is removed after the test, and then nothing of
it may remain: berth's state directory, its cgroup in any hierarchy, its
init process, a mount below the engine's directory.

Host rules: every engine's cgroup parent is beneath our own cgroup (in every
hierarchy); we only kill processes we started or that were reparented to us
(we are a child subreaper); the host paths the engines insist on (listed in
HOST_PATHS) are removed at the end when they did not exist before.
"""

import ctypes
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

import engines as E

BERTH = os.environ.get("BERTH", "/work/main/build/berth")
ENGINE_BUDGET = 300  # seconds for one engine's tests (each client call has its own timeout)
BUSYBOX = "/bin/busybox"

# Created by the engines whatever their configuration says (containerd 1.6
# hard-codes its shim sockets' directory; dockerd its plugin directory;
# podman its blob-info cache and netavark's run directory).  Removed at the
# end when they did not exist at the start (SharedHost): files listed
# first, then directories if empty.
HOST_PATHS = [
    "/run/containerd/s", "/run/containerd/fifo", "/run/containerd",
    "/run/docker/plugins", "/run/docker",
    "/run/containers/networks", "/run/containers",
    "/var/lib/containers/cache/blob-info-cache-v1.boltdb", "/var/lib/containers/cache",
    "/var/lib/containers",
]


# ---------------------------------------------------------------- host

def _is_static_elf(path):
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return False
    order = "little" if data[5] == 1 else "big"
    phoff = int.from_bytes(data[32:40], order)
    phentsize = int.from_bytes(data[54:56], order)
    phnum = int.from_bytes(data[56:58], order)
    return all(int.from_bytes(data[phoff + i * phentsize:phoff + i * phentsize + 4], order) != 3
               for i in range(phnum))


@pytest.fixture(scope="session", autouse=True)
def host_check():
    if os.geteuid() != 0:
        pytest.skip("the client tests need root (engines, namespaces, cgroups)")
    if not os.path.exists(BUSYBOX) or not _is_static_elf(BUSYBOX):
        pytest.skip(f"{BUSYBOX} is missing or not static (apt-get install busybox-static)")
    if not os.access(BERTH, os.X_OK):
        pytest.skip(f"berth binary {BERTH} not built (set $BERTH or run make)")
    # Shims and conmons daemonize; this machine's pid 1 does not reap
    # orphans, so, like an engine, we become a child subreaper: they are
    # reparented to us, we reap them and can stop them by pid.
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        pytest.skip("prctl(PR_SET_CHILD_SUBREAPER) failed")


class SharedHost:
    """What concurrent runs of this suite share on the host: HOST_PATHS and
    the cgroup directories above each run's own parent (e.g.
    `cpu:/process_api/<hash>`, mirroring our memory cgroup where we sit at
    the root of the other hierarchies).  The first run in records which host
    paths existed; each run adds the directories it had to make; the last
    run out removes them (empty directories only).  The state is one JSON
    file under /tmp, locked with flock; runs that died are pruned."""

    PATH = os.path.join(tempfile.gettempdir(), "berth-clients.state")

    def _open_locked(self):
        while True:
            fd = os.open(self.PATH, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.stat(self.PATH).st_ino == os.fstat(fd).st_ino:
                    return fd
            except FileNotFoundError:
                pass  # the last run out unlinked it meanwhile
            os.close(fd)

    @staticmethod
    def _load(fd):
        data = b""
        while chunk := os.read(fd, 65536):
            data += chunk
        state = json.loads(data) if data.strip() else {}
        state.setdefault("runs", {})
        state["runs"] = {pid: start for pid, start in state["runs"].items()
                         if proc_start(int(pid)) == start}
        return state

    @staticmethod
    def _save(fd, state):
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(state).encode(), 0)

    def enter(self):
        fd = self._open_locked()
        try:
            state = self._load(fd)
            if not state["runs"]:
                state["existed"] = [p for p in HOST_PATHS if os.path.lexists(p)]
                state["made"] = state.get("made", [])
            state["runs"][str(os.getpid())] = proc_start(os.getpid())
            self._save(fd, state)
        finally:
            os.close(fd)

    def made(self, dirs):
        fd = self._open_locked()
        try:
            state = self._load(fd)
            state["made"] = sorted(set(state.get("made", [])) | set(dirs))
            self._save(fd, state)
        finally:
            os.close(fd)

    def leave(self):
        fd = self._open_locked()
        try:
            state = self._load(fd)
            state["runs"].pop(str(os.getpid()), None)
            if state["runs"]:
                self._save(fd, state)
                return
            for p in HOST_PATHS:
                if p in state.get("existed", HOST_PATHS) or not os.path.lexists(p):
                    continue
                try:
                    if os.path.isdir(p) and not os.path.islink(p):
                        os.rmdir(p)
                    else:
                        os.unlink(p)
                except OSError:
                    pass  # not empty: in use by something else now
            for d in sorted(state.get("made", []), key=len, reverse=True):
                try:
                    os.rmdir(d)
                except OSError:
                    pass
            os.unlink(self.PATH)
        finally:
            os.close(fd)


@pytest.fixture(scope="session")
def shared_host():
    h = SharedHost()
    h.enter()
    yield h
    h.leave()


@pytest.fixture(scope="session")
def work():
    # Short: unix socket paths are limited to 108 bytes.
    d = tempfile.mkdtemp(prefix="berth-clients-", dir="/tmp")
    os.chmod(d, 0o755)
    yield Path(d)
    for mp in E.mounts_under(d):
        subprocess.run(["umount", "-l", mp], capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- cgroups

def unescape(s):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def cgroup_mounts():
    """[(fstype, controllers set, mount root, mountpoint)] of every cgroup hierarchy."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.rstrip("\n").split(" - ", 1)
            l, r = left.split(), right.split()
            if r[0] in ("cgroup", "cgroup2"):
                supers = set(r[2].split(",")) if len(r) > 2 else set()
                out.append((r[0], supers, unescape(l[3]), unescape(l[4])))
    return out


def own_cgroup_paths():
    """Our own cgroup path in every hierarchy we are in."""
    paths = []
    with open("/proc/self/cgroup") as f:
        for line in f:
            paths.append(line.rstrip("\n").split(":", 2)[2])
    return paths


def hierarchy_dirs(cgpath):
    """[(mountpoint, host directory)] of absolute cgroup path `cgpath` in every
    mounted hierarchy whose root contains it."""
    out = []
    for _, _, root, mp in cgroup_mounts():
        root = root.rstrip("/")
        if cgpath == root or cgpath.startswith(root + "/") or root == "":
            out.append((mp, os.path.normpath(mp + "/" + cgpath[len(root):])))
    return out


def cgroup_parent_path():
    """An absolute cgroup path beneath our own cgroup in every hierarchy:
    below the deepest of our paths, when the others are its ancestors (as
    here: memory:/process_api/<hash>, everything else `/`)."""
    paths = sorted(set(own_cgroup_paths()), key=len)
    deepest = paths[-1].rstrip("/")
    for p in paths:
        p = p.rstrip("/")
        if p and deepest != p and not deepest.startswith(p + "/"):
            pytest.skip(f"our cgroups differ across hierarchies ({', '.join(paths)}); "
                        "no absolute cgroup parent is beneath all of them")
    return f"{deepest}/berth-clients-{os.getpid()}"


class CgroupParent:
    """A cgroup parent for one engine, made by us in every hierarchy (the
    directories we had to make recorded), removed with everything below
    it at the end."""

    def __init__(self, path):
        self.path = path
        self.made = []   # what we had to make above `path`
        for mp, d in hierarchy_dirs(path):
            missing = []
            p = d
            while not os.path.isdir(p):
                missing.append(p)
                p = os.path.dirname(p)
            for m in reversed(missing):
                os.mkdir(m)
                if m != d:
                    self.made.append(m)
                # v1 cpuset: a new cgroup starts with no cpus/mems and takes no tasks.
                for f in ("cpuset.cpus", "cpuset.mems"):
                    fp = os.path.join(m, f)
                    if os.path.exists(fp) and not open(fp).read().strip():
                        with open(os.path.join(os.path.dirname(m), f)) as src:
                            value = src.read().strip()
                        with open(fp, "w") as dst:
                            dst.write(value)

    def dirs(self):
        return [d for _, d in hierarchy_dirs(self.path)]

    def remove(self):
        """rmdir everything below and including our parent, then what we had
        to make above it (SharedHost does that when runs share it); returns
        what could not be removed."""
        failed = []
        for d in self.dirs():
            for sub, _, _ in sorted(os.walk(d), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(sub)
                except FileNotFoundError:
                    pass
                except OSError as e:
                    failed.append(f"{sub}: {e.strerror}")
        for m in sorted(self.made, key=len, reverse=True):
            try:
                os.rmdir(m)
            except OSError:
                pass  # gone, or in use by a concurrent run of ours
        return failed


# ---------------------------------------------------------------- images

def busybox_rootfs_tar(path):
    """A tar of a busybox rootfs: static busybox, its applet links, and a few
    files (/etc/passwd, /etc/group, and /etc/motd that is not executable)."""
    applets = os.popen(f"{BUSYBOX} --list").read().split()

    def add(t, name, type=tarfile.REGTYPE, mode=0o644, data=b"", link=""):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.size, ti.linkname = type, mode, len(data), link
        t.addfile(ti, io.BytesIO(data) if type == tarfile.REGTYPE else None)

    with tarfile.open(path, "w") as t:
        for d in ("bin", "etc", "dev", "proc", "sys", "root"):
            add(t, d, tarfile.DIRTYPE, 0o755)
        add(t, "tmp", tarfile.DIRTYPE, 0o1777)
        with open(BUSYBOX, "rb") as f:
            add(t, "bin/busybox", mode=0o755, data=f.read())
        for a in applets:
            if a != "busybox":
                add(t, f"bin/{a}", tarfile.SYMTYPE, 0o777, link="busybox")
        add(t, "etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
        add(t, "etc/group", data=b"root:x:0:\nnogroup:x:65534:\n")
        add(t, "etc/motd", data=b"not a program\n")


def oci_layout_tar(path, layer_path, name):
    """An OCI image layout (one uncompressed layer) as a tar, named by the
    `io.containerd.image.name` annotation that `ctr images import` reads."""
    layer = Path(layer_path).read_bytes()

    def blob(data):
        return hashlib.sha256(data).hexdigest(), data

    ld, _ = blob(layer)
    config = {"architecture": "amd64" if os.uname().machine == "x86_64" else os.uname().machine,
              "os": "linux",
              "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                         "Cmd": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": [f"sha256:{ld}"]}}
    cd, cb = blob(json.dumps(config).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": f"sha256:{cd}", "size": len(cb)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": f"sha256:{ld}", "size": len(layer)}]}
    md, mb = blob(json.dumps(manifest).encode())
    index = {"schemaVersion": 2,
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                            "digest": f"sha256:{md}", "size": len(mb),
                            "platform": {"architecture": config["architecture"], "os": "linux"},
                            "annotations": {"io.containerd.image.name": name}}]}
    with tarfile.open(path, "w") as t:
        def add(n, data):
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", json.dumps(index).encode())
        for d, data in ((ld, layer), (cd, cb), (md, mb)):
            add(f"blobs/sha256/{d}", data)


@pytest.fixture(scope="session")
def images(work):
    tar = work / "busybox.tar"
    busybox_rootfs_tar(tar)
    oci = work / "busybox-oci.tar"
    oci_layout_tar(oci, tar, E.IMAGE)
    return {"tar": str(tar), "oci": str(oci)}


# ---------------------------------------------------------------- engines

@pytest.fixture(scope="session")
def cgroup_root(shared_host):
    cg = CgroupParent(cgroup_parent_path())
    # Directories above ours (process_api/<hash> in the hierarchies where we
    # sit at the root) may be shared with a concurrent run: the last run removes them.
    shared_host.made(cg.made)
    cg.made = []
    yield cg
    failed = cg.remove()
    if failed:
        print("\ncgroups left: " + ", ".join(failed))


@pytest.fixture(scope="session", params=list(E.ENGINES))
def engine(request, work, images, shared_host, cgroup_root):
    cls = E.ENGINES[request.param]
    cg = CgroupParent(f"{cgroup_root.path}/{request.param}")
    e = cls(work, BERTH, cg.path, images)
    e.cgroup = cg
    why = e.missing()
    if why:
        cg.remove()
        pytest.skip(why)
    try:
        e.setup()
        e.deadline = time.monotonic() + ENGINE_BUDGET
        yield e
    finally:
        e.teardown()
        failed = cg.remove()
        if failed:
            e.problems.append("cgroups left: " + ", ".join(failed))
        if e.problems:
            # Reported, not raised: a teardown error would be charged to
            # whichever test happened to run last.
            print(f"\n{e.name} teardown: " + "\n  ".join(e.problems))


def proc_start(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[19])


class Tracked:
    """The engine, as one test uses it: remembers each container it makes,
    and after the test removes them and checks that nothing is left."""

    def __init__(self, engine):
        self.e = engine
        self.made = {}    # id -> (pid, its start time) or None
        self.mounts_before = set(E.mounts_under(engine.dir))

    def __getattr__(self, name):
        return getattr(self.e, name)

    def _track(self, r, running):
        if r.id:
            entry = None
            if running:
                pid = self.e.pid(r.id)
                entry = (pid, proc_start(pid))
            self.made[r.id] = entry
        return r

    def run(self, cmd, **kw):
        return self._track(self.e.run(cmd, **kw), False)

    def launch(self, cmd, **kw):
        r = self.e.launch(cmd, **kw)
        if r.rc != 0:
            raise E.EngineError(str(r))
        return self._track(r, True)

    def remove(self, id):
        self.e.remove(id)

    def leftovers(self, id):
        """What remains of container `id` on the host."""
        problems = []
        sd = self.e.state_dir(id)
        if os.path.lexists(sd):
            problems.append(f"berth state directory {sd}")
        for _, d in hierarchy_dirs(self.e.cgroup_path(id)):
            if os.path.exists(d):
                problems.append(f"cgroup {d}")
        entry = self.made.get(id)
        if entry:
            pid, start = entry

            def gone():
                E.reap_children()
                s = proc_start(pid)
                return s is None or s != start
            try:
                E.wait_for(gone, timeout=5, what=f"pid {pid} to go")
            except E.EngineError:
                problems.append(f"process {pid} ({E.cmdline(pid)[:80]})")
        new = set(E.mounts_under(self.e.dir)) - self.mounts_before - self.e.engine_mounts()
        problems += [f"mount {m}" for m in sorted(new)]
        return problems

    def remove_and_check(self, id):
        self.e.remove(id)
        problems = self.leftovers(id)
        assert not problems, f"{self.e.name} container {id} left behind:\n  " + "\n  ".join(problems)

    def teardown(self):
        errors = []
        for id in self.made:
            try:
                self.e.remove(id)
            except E.EngineError as ex:
                errors.append(f"removing {id}: {ex}")
            problems = self.leftovers(id)
            if problems:
                errors.append(f"container {id} left behind:\n  " + "\n  ".join(problems))
        E.reap_children()
        assert not errors, f"{self.e.name}: " + "\n".join(errors)


@pytest.fixture
def eng(engine):
    if time.monotonic() > engine.deadline:
        pytest.fail(f"{engine.name}: its tests have taken over {ENGINE_BUDGET} s; not starting more")
    t = Tracked(engine)
    yield t
    t.teardown()


# ---------------------------------------------------------------- cgroup files

def cgroup_file(cgpath, controller, v1_name, v2_name=None):
    """The text of a cgroup file of `cgpath`: from the v1 hierarchy with
    `controller`, else from cgroup2 (`v2_name`)."""
    for fstype, supers, root, mp in cgroup_mounts():
        if fstype == "cgroup" and controller in supers:
            with open(os.path.normpath(f"{mp}/{cgpath[len(root.rstrip('/')):]}/{v1_name}")) as f:
                return f.read().strip()
    for fstype, _, root, mp in cgroup_mounts():
        if fstype == "cgroup2" and v2_name:
            p = os.path.normpath(f"{mp}/{cgpath[len(root.rstrip('/')):]}/{v2_name}")
            if os.path.exists(p):
                with open(p) as f:
                    return f.read().strip()
    raise AssertionError(f"no cgroup hierarchy has the {controller} controller for {cgpath}")


def memory_controller_is_v1():
    return any(t == "cgroup" and "memory" in s for t, s, _, _ in cgroup_mounts())
