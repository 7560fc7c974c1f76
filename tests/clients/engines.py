"""Docker, containerd (ctr) and Podman, each run privately for the client tests.

Every engine keeps its state under its own directory of the session's work
directory: data, exec/run state, sockets, configuration, and berth's state
(`--root`).  berth is registered through a copy of berth-logwrap named
`berth`, which records every command line the engine gives it.  Containers'
cgroups go beneath the test's own cgroup (`cgroup_parent`).

Each class drives its engine's own commands behind one set of operations:
setup/teardown (daemons), run (foreground), launch (detached), exec,
exec_tty, stop, kill, pause, unpause, status, wait, pid, stats_memory_limit,
top_pids, update_memory, oom_killed, remove; and says where a container
lives from the outside: cgroup_path (its cgroupsPath) and state_dir (berth's).
"""

import itertools
import json
import os
import pty
import re
import resource
import select
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOGWRAP = HERE / "berth-logwrap"

TIMEOUT = 60          # seconds for any one client command
START_TIMEOUT = 60    # seconds for a daemon to answer
STOP_TIMEOUT = 20     # seconds for a daemon to exit after SIGTERM
IMAGE = "localhost/busybox:berth"
_counter = itertools.count()   # ctr container and exec ids
# The Debian client matches the Debian dockerd; another `docker` may come first in $PATH.
DOCKER_CLI = "/usr/bin/docker"


class EngineError(AssertionError):
    pass


class NotAvailable(Exception):
    """The engine has no such operation (e.g. ctr has no `update`)."""


@dataclass(repr=False)
class Result:
    argv: list
    rc: int
    out: str
    err: str
    id: str = ""

    def __str__(self):
        return (f"`{shlex.join(self.argv)}` exited {self.rc}\n--- stdout\n{self.out}"
                f"--- stderr\n{self.err}")

    __repr__ = __str__

    def ok(self):
        if self.rc != 0:
            raise EngineError(str(self))
        return self


def run(argv, env=None, timeout=TIMEOUT, input=None, cwd=None):
    """Run a client command; stdout/stderr go to temp files, not pipes, since
    what it starts may keep them open."""
    argv = [str(a) for a in argv]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            r = subprocess.run(argv, stdout=out, stderr=err, env=env, timeout=timeout, cwd=cwd,
                               stdin=subprocess.DEVNULL if input is None else None,
                               input=None if input is None else input.encode())
        except subprocess.TimeoutExpired:
            out.seek(0)
            err.seek(0)
            raise EngineError(f"`{shlex.join(argv)}` did not finish within {timeout} s\n"
                              f"{out.read().decode(errors='replace')}"
                              f"{err.read().decode(errors='replace')}") from None
        out.seek(0)
        err.seek(0)
        return Result(argv, r.returncode, out.read().decode(errors="replace"),
                      err.read().decode(errors="replace"))


def run_pty(argv, env=None, timeout=TIMEOUT, cwd=None):
    """Run a client command on a new pseudo-terminal, as from a shell in a
    terminal (for `-t`); its status and output (\\r and NULs removed)."""
    argv = [str(a) for a in argv]
    pid, fd = pty.fork()
    if pid == 0:
        try:
            if cwd:
                os.chdir(cwd)
            os.execvpe(argv[0], argv, env if env is not None else os.environ)
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise EngineError(f"`{shlex.join(argv)}` (on a pty) did not finish within "
                                  f"{timeout} s: {out!r}")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: every holder of the slave closed it
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(fd)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
    text = out.decode(errors="replace").replace("\r", "").replace("\0", "")
    return Result(argv, os.waitstatus_to_exitcode(status), text, "")


def wait_for(predicate, timeout=TIMEOUT, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise EngineError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def parse_size(text):
    """`64MiB`, `67.11MB`, `552KiB`, `0B` -> bytes."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([kKMGT]?i?B)\s*", text)
    if not m:
        raise EngineError(f"not a size: {text!r}")
    units = {"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
             "KiB": 1 << 10, "kiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
    return float(m.group(1)) * units[m.group(2)]


def children_map():
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(root_pid):
    """Pids of every live descendant of root_pid."""
    children = children_map()
    out, todo = [], [root_pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def reap_children():
    """Reap our exited children that no Popen owns: the shims and conmons
    reparented to us (we are a child subreaper)."""
    me = os.getpid()
    for pid in children_map().get(me, []):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] == "Z":
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def stop_process(p, name, timeout=STOP_TIMEOUT):
    """SIGTERM a daemon we started (a Popen); SIGKILL it if it lingers."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return f"{name} (pid {p.pid}) ignored SIGTERM for {timeout} s and was killed"
    return None


def kill_strays(marker):
    """SIGKILL what our daemons left running (shims, conmons: reparented to
    us, the subreaper): our descendants whose command line names our work
    directory.  Returns their descriptions."""
    found = []
    for pid in descendants(os.getpid()):
        line = cmdline(pid)
        if marker in line:
            found.append(f"{pid} {line[:160]}")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if found:
        time.sleep(0.2)
        reap_children()
    return found


def mounts_under(path):
    """Mount points at or below `path`, deepest first."""
    path = os.path.realpath(path)
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return sorted(out, key=len, reverse=True)


def containerd_config(d, opt_dir):
    """A containerd config that keeps root, state, sockets and the `opt`
    plugin's directory under `d`, with the CRI plugin (which wants a CNI
    set-up and a kubelet) disabled."""
    d = Path(d)
    (d / "root").mkdir(parents=True, exist_ok=True)
    (d / "state").mkdir(parents=True, exist_ok=True)
    conf = d / "config.toml"
    conf.write_text(f"""version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[debug]
  address = "{d}/debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "{opt_dir}"
""")
    return conf


class Engine:
    """What the three engines share: a directory, a logging berth, daemons
    started with Popen and stopped by pid, and the recorded berth calls."""

    name = "engine"
    package = ""
    binaries = ()
    has_update = True

    def __init__(self, work, berth, cgroup_parent, images):
        self.dir = Path(work) / self.name
        self.dir.mkdir(parents=True)
        self.berth = berth
        self.cgroup_parent = cgroup_parent
        self.images = images
        self.daemons = []      # (name, Popen)
        self.log = self.dir / "berth-calls.log"
        self.wrapper = self.dir / "bin" / "berth"
        self.expected_failures = set()   # ids whose create is meant to fail
        self.problems = []     # what teardown found
        self.env = dict(os.environ)

    def missing(self):
        """Why this engine cannot run here, or None."""
        for b in self.binaries:
            if not (shutil.which(b) if "/" not in b else os.access(b, os.X_OK)):
                return f"`{b}` is not installed (apt-get install {self.package})"
        return None

    def install_wrapper(self, root=None):
        self.wrapper.parent.mkdir(parents=True)
        shutil.copy2(LOGWRAP, self.wrapper)
        os.chmod(self.wrapper, 0o755)
        env = f"BERTH={shlex.quote(str(self.berth))}\nLOGWRAP_LOG={shlex.quote(str(self.log))}\n"
        if root:
            env += f"LOGWRAP_ROOT={shlex.quote(str(root))}\n"
        # Engines run the runtime with an environment of their own (conmon's
        # is minimal): a sanitizer build's settings travel in the file.
        for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if var in os.environ:
                env += f"export {var}={shlex.quote(os.environ[var])}\n"
        (self.wrapper.parent / "berth-logwrap.env").write_text(env)
        self.log.touch()

    def spawn(self, name, argv):
        with open(self.dir / f"{name}.log", "ab") as logf:
            p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=logf,
                                 stderr=subprocess.STDOUT, env=self.env, start_new_session=True,
                                 cwd=self.dir)
        self.daemons.append((name, p))
        return p

    def daemon_log(self, name, lines=30):
        try:
            text = (self.dir / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, name, p, probe):
        def ready():
            if p.poll() is not None:
                raise EngineError(f"{name} exited with {p.returncode}:\n{self.daemon_log(name)}")
            return probe()
        wait_for(ready, START_TIMEOUT, 0.1, f"{name} to answer")

    # Clients run in the engine's directory: conmon 2.1.6 drops an `oom` file
    # into its working directory (inherited from podman) on an OOM kill.
    def cmd(self, *args, timeout=TIMEOUT, input=None):
        return run([*self.client, *args], env=self.env, timeout=timeout, input=input, cwd=self.dir)

    def cmd_pty(self, *args, timeout=TIMEOUT):
        return run_pty([*self.client, *args], env=self.env, timeout=timeout, cwd=self.dir)

    def teardown(self):
        """Stop our daemons by pid, kill what they left (by pid), unmount
        what is left below our directory, remove it."""
        for name, p in reversed(self.daemons):
            msg = stop_process(p, name)
            if msg:
                self.problems.append(msg)
        strays = kill_strays(str(self.dir))
        if strays:
            self.problems.append("processes left running (killed): " + "; ".join(strays))
        left = mounts_under(self.dir)
        for mp in left:
            subprocess.run(["umount", "-l", mp], capture_output=True)
        if left:
            self.problems.append("mounts left (unmounted): " + ", ".join(left))
        reap_children()
        shutil.rmtree(self.dir, ignore_errors=True)

    # the recorded command lines
    def calls(self):
        """[{pid, argv, exit, stdin?, stderr?}] from the wrapper's log, in order."""
        calls, by_pid = [], {}
        for line in self.log.read_text(errors="replace").splitlines():
            m = re.match(r"(\d+) (argv|exit|stdin|stderr):(.*)", line)
            if not m:
                continue
            pid, kind, rest = m.groups()
            if kind == "argv":
                c = {"pid": int(pid), "argv": shlex.split(rest), "exit": None}
                by_pid[pid] = c
                calls.append(c)
            elif pid in by_pid:
                c = by_pid[pid]
                if kind == "exit":
                    c["exit"] = int(rest)
                else:
                    c[kind] = rest.strip()
        return calls

    def berth_calls(self, id, command):
        return [c for c in self.calls() if command in c["argv"] and c["argv"][-1] == id]

    def state_dir(self, id):
        return os.path.join(self.berth_root(), id)

    # defaults
    def engine_mounts(self):
        """Mounts the engine itself keeps (not a container's)."""
        return set()

    def update_memory(self, id, limit):
        raise NotAvailable(f"{self.name} has no command to update a running container's resources")


# ---------------------------------------------------------------- Docker and Podman

class DockerCLI(Engine):
    """What Docker and Podman share: the same command line for every step.
    A subclass says how `run` places the container (`run_options`), how
    `top` names the pid column, and what `update --memory` also needs."""

    run_options = ()
    top_pid_format = ("-o", "pid")

    def update_extra(self, limit):
        return ()

    def _run(self, cmd, env, workdir, memory, tty, detach):
        cidfile = tempfile.mktemp(dir=self.dir, prefix="cid.")
        args = ["run", "--runtime", "berth", *self.run_options, "--cidfile", cidfile]
        for k, v in (env or {}).items():
            args += ["-e", f"{k}={v}"]
        if workdir:
            args += ["-w", workdir]
        if memory:
            args += ["--memory", str(memory)]
        args += ["-t"] if tty else []
        args += ["-d"] if detach else []
        args += [IMAGE, *cmd]
        r = self.cmd_pty(*args) if tty else self.cmd(*args)
        try:
            r.id = Path(cidfile).read_text().strip()
            os.unlink(cidfile)
        except FileNotFoundError:
            pass
        return r

    def run(self, cmd, env=None, workdir=None, memory=None, tty=False):
        return self._run(cmd, env, workdir, memory, tty, False)

    def launch(self, cmd, memory=None):
        return self._run(cmd, None, None, memory, False, True)

    def exec(self, id, cmd):
        return self.cmd("exec", id, *cmd)

    def exec_tty(self, id, cmd):
        return self.cmd_pty("exec", "-t", id, *cmd)

    def stop(self, id, grace=30):
        return self.cmd("stop", "-t", str(grace), id, timeout=grace + TIMEOUT)

    def kill(self, id):
        return self.cmd("kill", id)

    def pause(self, id):
        return self.cmd("pause", id)

    def unpause(self, id):
        return self.cmd("unpause", id)

    def inspect(self, id, fmt):
        return self.cmd("inspect", "-f", fmt, id).ok().out.strip()

    def status(self, id):
        s = self.inspect(id, "{{.State.Status}}")
        return {"exited": "stopped"}.get(s, s)

    def wait(self, id):
        return int(self.cmd("wait", id).ok().out.strip())

    def pid(self, id):
        return int(self.inspect(id, "{{.State.Pid}}"))

    def stats_memory_limit(self, id):
        out = self.cmd("stats", "--no-stream", "--format", "{{.MemUsage}}", id).ok().out
        return parse_size(out.split("/")[1])

    def top_pids(self, id):
        out = self.cmd("top", id, *self.top_pid_format).ok().out.split()
        return {int(p) for p in out[1:]}

    def update_memory(self, id, limit):
        return self.cmd("update", "--memory", str(limit), *self.update_extra(limit), id)

    def oom_killed(self, id):
        return self.inspect(id, "{{.State.OOMKilled}}") == "true"


# ---------------------------------------------------------------- Docker

class Docker(DockerCLI):
    """dockerd with a private data-root, exec-root and socket, using a
    containerd of its own (`containerd` in daemon.json, as Docker's and
    Debian's packages run it), no iptables, berth registered as `berth`."""

    name = "docker"
    package = "docker.io"
    binaries = ("dockerd", "containerd", "containerd-shim-runc-v2", DOCKER_CLI)
    run_options = ("--network", "none")

    def update_extra(self, limit):
        return ("--memory-swap", str(2 * limit))

    def setup(self):
        d = self.dir
        self.install_wrapper()
        ctd = d / "containerd"
        p = self.spawn("containerd", ["containerd", "--config", containerd_config(ctd, d / "opt")])
        self.wait_ready("containerd", p, lambda: (ctd / "containerd.sock").exists())
        (d / "cli").mkdir()
        daemon = {
            "data-root": str(d / "data"),
            "exec-root": str(d / "exec"),
            "pidfile": str(d / "dockerd.pid"),
            "hosts": [f"unix://{d}/docker.sock"],
            "containerd": str(ctd / "containerd.sock"),
            "iptables": False, "ip-forward": False, "ip-masq": False, "bridge": "none",
            "storage-driver": "overlay2",
            "exec-opts": ["native.cgroupdriver=cgroupfs"],
            "cgroup-parent": self.cgroup_parent,
            "deprecated-key-path": str(d / "key.json"),
            "runtimes": {"berth": {"path": str(self.wrapper)}},
        }
        (d / "daemon.json").write_text(json.dumps(daemon, indent=2))
        self.env.update(DOCKER_HOST=f"unix://{d}/docker.sock", DOCKER_CONFIG=str(d / "cli"))
        self.env.pop("DOCKER_CONTEXT", None)
        self.client = [DOCKER_CLI]
        p = self.spawn("dockerd", ["dockerd", "--config-file", d / "daemon.json"])
        self.wait_ready("dockerd", p, lambda: self.cmd("version").rc == 0)
        self.cmd("import", "--change", 'CMD ["/bin/sh"]', self.images["tar"], IMAGE).ok()

    def teardown(self):
        if getattr(self, "client", None):
            ids = self.cmd("ps", "-aq").out.split()
            if ids:
                self.cmd("rm", "-f", *ids)
        super().teardown()

    def berth_root(self):
        return str(self.dir / "exec" / "runtime-runc" / "moby")

    def cgroup_path(self, id):
        return f"{self.cgroup_parent}/{id}"

    def remove(self, id):
        return self.cmd("rm", "-f", id)


# ---------------------------------------------------------------- containerd

class Containerd(Engine):
    """containerd with a private root, state and sockets; `ctr run
    --runc-binary <berth>` makes the runc v2 shim call berth.  `ctr events`
    runs alongside to see the OOM events."""

    name = "containerd"
    package = "containerd"
    binaries = ("containerd", "ctr", "containerd-shim-runc-v2")
    has_update = False

    def setup(self):
        d = self.dir
        self.install_wrapper()
        p = self.spawn("containerd", ["containerd", "--config", containerd_config(d, d / "opt")])
        self.client = ["ctr", "--address", str(d / "containerd.sock"), "--namespace", "default"]
        self.wait_ready("containerd", p, lambda: self.cmd("version").rc == 0)
        self.spawn("events", [*self.client, "events"])
        (d / "fifo").mkdir()
        self.runc_root = d / "berth-root"
        self.fg = {}   # id -> (Popen of the foreground `ctr run`, its output files)
        self.cmd("images", "import", self.images["oci"]).ok()

    def teardown(self):
        if getattr(self, "client", None):
            for id in self.cmd("containers", "list", "-q").out.split():
                self.remove(id)
        for p, _, _ in getattr(self, "fg", {}).values():
            if p.poll() is None:
                p.kill()
                p.wait()
        super().teardown()

    def berth_root(self):
        return str(self.runc_root / "default")

    def cgroup_path(self, id):
        return f"{self.cgroup_parent}/{id}"

    def _run_args(self, id, env, workdir, memory, tty):
        args = ["run", "--runc-binary", self.wrapper, "--runc-root", self.runc_root,
                "--cgroup", self.cgroup_path(id), "--fifo-dir", self.dir / "fifo"]
        for k, v in (env or {}).items():
            args += ["--env", f"{k}={v}"]
        if workdir:
            args += ["--cwd", workdir]
        if memory:
            args += ["--memory-limit", str(memory)]
        args += ["-t"] if tty else []
        return args

    def new_id(self):
        return f"c{os.getpid()}-{next(_counter)}"

    def run(self, cmd, env=None, workdir=None, memory=None, tty=False):
        id = self.new_id()
        args = [*self._run_args(id, env, workdir, memory, tty), IMAGE, id, *cmd]
        r = self.cmd_pty(*args) if tty else self.cmd(*args)
        r.id = id
        return r

    def launch(self, cmd, memory=None):
        """`ctr run` in the foreground, kept by us: its exit status is the
        container's (ctr has no `wait`)."""
        id = self.new_id()
        argv = [*self.client, *self._run_args(id, None, None, memory, False), IMAGE, id, *cmd]
        out = open(self.dir / f"{id}.out", "w+b")
        err = open(self.dir / f"{id}.err", "w+b")
        p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=out,
                             stderr=err, env=self.env, cwd=self.dir)
        self.fg[id] = (p, out, err)

        def up():
            if p.poll() is not None:
                err.seek(0)
                raise EngineError(f"`ctr run` exited {p.returncode}: {err.read().decode()}")
            return self.status(id) == "running"
        wait_for(up, what=f"task {id} to run")
        return Result(argv, 0, "", "", id)

    def exec(self, id, cmd):
        return self.cmd("tasks", "exec", "--exec-id", f"e{next(_counter)}", "--fifo-dir",
                        self.dir / "fifo", id, *cmd)

    def exec_tty(self, id, cmd):
        return self.cmd_pty("tasks", "exec", "-t", "--exec-id", f"e{next(_counter)}",
                            "--fifo-dir", self.dir / "fifo", id, *cmd)

    def stop(self, id, grace=30):
        """ctr has no stop: SIGTERM is `ctr tasks kill`'s default."""
        return self.cmd("tasks", "kill", id)

    def kill(self, id):
        return self.cmd("tasks", "kill", "--signal", "SIGKILL", id)

    def pause(self, id):
        return self.cmd("tasks", "pause", id)

    def unpause(self, id):
        return self.cmd("tasks", "resume", id)

    def _task(self, id):
        for line in self.cmd("tasks", "list").ok().out.splitlines()[1:]:
            f = line.split()
            if f and f[0] == id:
                return {"pid": int(f[1]), "status": f[2].lower()}
        return None

    def status(self, id):
        t = self._task(id)
        return t["status"] if t else "gone"

    def wait(self, id):
        p, _, _ = self.fg[id]
        try:
            return p.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            raise EngineError(f"`ctr run {id}` did not exit within {TIMEOUT} s") from None

    def output(self, id):
        _, out, _ = self.fg[id]
        out.seek(0)
        return out.read().decode(errors="replace")

    def pid(self, id):
        return self._task(id)["pid"]

    def stats_memory_limit(self, id):
        out = self.cmd("tasks", "metrics", id).ok().out
        m = re.search(r"^memory\.(?:limit_in_bytes|max)\s+(\d+)", out, re.M)
        if not m:
            raise EngineError(f"no memory limit in `ctr tasks metrics`:\n{out}")
        return int(m.group(1))

    def top_pids(self, id):
        out = self.cmd("tasks", "ps", id).ok().out.split("\n")[1:]
        return {int(line.split()[0]) for line in out if line.strip()}

    def oom_killed(self, id):
        """containerd's /tasks/oom event, as `ctr events` printed it."""
        def seen():
            text = (self.dir / "events.log").read_text(errors="replace")
            return re.search(r'/tasks/oom \{"container_id":"%s"\}' % re.escape(id), text)
        try:
            wait_for(seen, timeout=5, what=f"a /tasks/oom event for {id}")
        except EngineError:
            return False
        return True

    def remove(self, id):
        if id in self.fg:
            p, out, err = self.fg.pop(id)
            if p.poll() is None:
                self.cmd("tasks", "kill", "--signal", "SIGKILL", id)
                try:
                    p.wait(TIMEOUT)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            out.close()
            err.close()
        if self.status(id) not in ("gone", "stopped"):
            self.cmd("tasks", "kill", "--signal", "SIGKILL", id)
            wait_for(lambda: self.status(id) in ("gone", "stopped"), what=f"task {id} to stop")
        self.cmd("tasks", "delete", id)
        return self.cmd("containers", "delete", id)


# ---------------------------------------------------------------- Podman

class Podman(DockerCLI):
    """podman with private containers.conf and storage.conf (overlay
    storage, cgroupfs, file events and locks, no network), berth registered
    in [engine.runtimes] and named in runtime_supports_json."""

    name = "podman"
    package = "podman"
    binaries = ("podman", "conmon")
    top_pid_format = ("hpid",)

    @property
    def run_options(self):
        return ("--cgroup-parent", self.cgroup_parent)

    def setup(self):
        d = self.dir
        self.root = d / "berth-root"
        self.install_wrapper(root=self.root)
        (d / "tmp").mkdir()
        (d / "networks").mkdir()
        # The VM lacks CAP_SYS_RESOURCE: podman's default RLIMIT_NOFILE/NPROC
        # (1048576) cannot be set above our own hard limits.
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 32768)
        (d / "containers.conf").write_text(f"""[containers]
netns = "none"
default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]

[network]
network_config_dir = "{d}/networks"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{d}/events.log"
tmp_dir = "{d}/tmp"
lock_type = "file"
runtime_supports_json = ["berth"]

[engine.runtimes]
berth = ["{self.wrapper}"]
""")
        (d / "storage.conf").write_text(f"""[storage]
driver = "overlay"
graphroot = "{d}/graph"
runroot = "{d}/run"
""")
        self.env.update(CONTAINERS_CONF=str(d / "containers.conf"),
                        CONTAINERS_STORAGE_CONF=str(d / "storage.conf"))
        # An empty DOCKER_CONFIG directory makes podman fail.
        self.env.pop("DOCKER_CONFIG", None)
        self.env.pop("DOCKER_HOST", None)
        self.client = ["podman"]
        self.cmd("import", "--change", 'CMD ["/bin/sh"]', self.images["tar"], IMAGE).ok()

    def teardown(self):
        if getattr(self, "client", None):
            self.cmd("rm", "-a", "-f", "-t", "0")
            self.cmd("rmi", "-a", "-f")
        super().teardown()

    def berth_root(self):
        return str(self.root)

    def engine_mounts(self):
        # The overlay driver bind-mounts its home on itself at first use.
        return {str(self.dir / "graph" / "overlay")}

    def cgroup_path(self, id):
        return f"{self.cgroup_parent}/libpod-{id}"

    def remove(self, id):
        return self.cmd("rm", "-f", "-t", "0", id)


ENGINES = {"docker": Docker, "containerd": Containerd, "podman": Podman}
