"""linux.seccomp: every action observed from inside (errno value, signal,
kernel log), argument filters, flags, user notification with a listener
that answers a system call, the compiled-filter cache, Docker's default
profile, and where the filter is installed.

The container runs `sysprobe` (tests/integration/data/sysprobe.c), which
makes one system call with chosen arguments and prints `ret=R errno=E`.
getppid ignores its arguments, but seccomp sees them, so it carries the
argument-filter tests.
"""

import fcntl
import json
import os
import platform
import re
import select
import shutil
import socket
import struct
import subprocess
import threading
import uuid

import pytest

from conftest import BERTH, REPO, wait_for

DOCKER_PROFILE = REPO / "tests" / "integration" / "data" / "docker-default-seccomp.json"
CACHE_DIR = "@seccomp-cache"
SIGSYS_EXIT = 128 + 31

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64",
                                reason="the syscall numbers and Docker's arch map here are x86_64's")


# ---------------------------------------------------------------- helpers

@pytest.fixture
def pbundle(bundle, sysprobe):
    """A bundle with /bin/sysprobe."""
    shutil.copy(sysprobe, os.path.join(bundle.rootfs, "bin", "sysprobe"))
    return bundle


def nr_of(sysprobe, name):
    return int(subprocess.run([sysprobe, "nr", name], capture_output=True, text=True, check=True).stdout)


def results(out):
    """[(ret, errno)] of every `ret=R errno=E` line."""
    return [(int(r), int(e)) for r, e in re.findall(r"ret=(-?\d+) errno=(\d+)", out)]


def errnos(out):
    return [e for _, e in results(out)]


def allow_all(*rules, **extra):
    return {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": list(rules), **extra}


def rule(names, action, **kw):
    r = {"names": [names] if isinstance(names, str) else list(names), "action": action}
    r.update(kw)
    return r


def arg(index, value, op, value_two=None):
    a = {"index": index, "value": value, "op": op}
    if value_two is not None:
        a["valueTwo"] = value_two
    return a


def docker_profile(caps, arch="SCMP_ARCH_X86_64", goarch="amd64"):
    """Docker's default profile as dockerd hands it to the runtime: the
    native architecture and its sub-architectures, and only the entries whose
    includes/excludes match the container's bounding capabilities."""
    with open(DOCKER_PROFILE) as f:
        profile = json.load(f)
    arches = []
    for m in profile["archMap"]:
        if m["architecture"] == arch:
            arches = [arch] + (m["subArchitectures"] or [])
    syscalls = []
    for s in profile["syscalls"]:
        inc, exc = s.get("includes", {}), s.get("excludes", {})
        if inc.get("arches") and goarch not in inc["arches"]:
            continue
        if inc.get("caps") and not all(c in caps for c in inc["caps"]):
            continue
        if exc.get("arches") and goarch in exc["arches"]:
            continue
        if exc.get("caps") and any(c in caps for c in exc["caps"]):
            continue
        syscalls.append({k: v for k, v in s.items() if k in ("names", "action", "errnoRet", "args")})
    return {"defaultAction": profile["defaultAction"], "defaultErrnoRet": profile["defaultErrnoRet"],
            "architectures": arches, "syscalls": syscalls}


class Kmsg:
    """New kernel log records since construction (/dev/kmsg)."""

    def __init__(self):
        try:
            self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        except OSError as e:
            pytest.skip(f"cannot read the kernel log (/dev/kmsg): {e}")
        os.lseek(self.fd, 0, os.SEEK_END)

    def read(self):
        out = []
        while True:
            try:
                out.append(os.read(self.fd, 8192).decode(errors="replace"))
            except BlockingIOError:
                break
            except OSError:  # EPIPE: records were overwritten; keep going
                continue
        os.close(self.fd)
        return "".join(out)


def seccomp_audit(records, comm):
    """The seccomp audit records (type=1326) of processes named `comm`."""
    return [l for l in records.splitlines() if "type=1326" in l and f'comm="{comm}"' in l]


def unique_probe(bundle, sysprobe):
    """A copy of sysprobe under a unique name, so its kernel log lines are ours."""
    comm = "sp" + uuid.uuid4().hex[:10]
    shutil.copy(sysprobe, os.path.join(bundle.rootfs, "bin", comm))
    return comm


def debug_lines(stderr):
    return [l for l in stderr.splitlines() if "level=debug" in l]


# ---------------------------------------------------------------- actions

def test_errno_action(berth, pbundle):
    pbundle.linux["seccomp"] = allow_all(
        rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42),
        rule("getpid", "SCMP_ACT_ERRNO"))  # no errnoRet: EPERM
    out = berth.sh(pbundle, "sysprobe call getppid; sysprobe call getpid; sysprobe call getuid")
    assert errnos(out) == [42, 1, 0]


def test_errno_zero_fakes_success(berth, pbundle):
    # errnoRet 0: the call is not made and returns 0 (mkdir "succeeds", nothing appears).
    pbundle.set_readonly(False)
    pbundle.linux["seccomp"] = allow_all(rule(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO", errnoRet=0))
    out = berth.sh(pbundle, "mkdir /tmp/d && echo made; test -d /tmp/d && echo exists || echo absent")
    assert out.split() == ["made", "absent"]


def test_default_action_with_default_errno_ret(berth, pbundle):
    caps = pbundle.config["process"]["capabilities"]["bounding"]
    profile = docker_profile(caps)
    profile["defaultErrnoRet"] = 95  # EOPNOTSUPP for everything not allowed
    pbundle.linux["seccomp"] = profile
    # personality(4) is not in Docker's list; getppid is.
    out = berth.sh(pbundle, "sysprobe call personality 4; sysprobe call getppid")
    assert errnos(out) == [95, 0]


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS"])
def test_kill_actions_single_thread(berth, pbundle, action):
    pbundle.linux["seccomp"] = allow_all(rule("getppid", action))
    pbundle.set_args("sysprobe", "call", "getppid")
    r = berth.run_container(pbundle)
    assert r.returncode == SIGSYS_EXIT, r.stderr
    assert "ret=" not in r.stdout


@pytest.mark.parametrize("action,survives", [
    ("SCMP_ACT_KILL", True), ("SCMP_ACT_KILL_THREAD", True), ("SCMP_ACT_KILL_PROCESS", False)])
def test_kill_thread_or_process(berth, pbundle, action, survives):
    # The call happens in a second thread: only KILL_PROCESS takes the main one too.
    pbundle.linux["seccomp"] = allow_all(rule("getppid", action))
    pbundle.set_args("sysprobe", "thread", "getppid")
    r = berth.run_container(pbundle)
    if survives:
        assert r.returncode == 0, r.stderr
        assert r.stdout == "survived\n"
    else:
        assert r.returncode == SIGSYS_EXIT, r.stderr
        assert "survived" not in r.stdout


def test_trap(berth, pbundle, sysprobe):
    # Run directly: busybox sh calls getppid itself (for $PPID).
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_TRAP"))
    pbundle.set_args("sysprobe", "trap", "getppid")
    r = berth.run_container(pbundle)
    assert r.returncode == 0, r.stderr
    assert f"sigsys nr={nr_of(sysprobe, 'getppid')}" in r.stdout.splitlines()


def test_trap_unhandled_kills(berth, pbundle):
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_TRAP"))
    pbundle.set_args("sysprobe", "call", "getppid")
    assert berth.run_container(pbundle).returncode == SIGSYS_EXIT


def test_trace_without_tracer(berth, pbundle):
    # No tracer attached: the call is skipped and fails with ENOSYS.
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_TRACE", errnoRet=5))
    assert errnos(berth.sh(pbundle, "sysprobe call getppid")) == [38]


def logged_run(berth, bundle, comm, tries=3):
    """Run `comm call getppid`; (its output, its seccomp audit records).
    Without auditd the kernel prints audit records through printk_ratelimit(),
    which other kernel messages share: a record may be dropped, so a run
    that logged nothing is tried again (a few times, never timed)."""
    for _ in range(tries):
        kmsg = Kmsg()
        out = berth.sh(bundle, f"{comm} call getppid")
        records = seccomp_audit(kmsg.read(), comm)
        if records:
            break
    return out, records


def test_log_action(berth, bundle, sysprobe):
    comm = unique_probe(bundle, sysprobe)
    nr = nr_of(sysprobe, "getppid")
    bundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_LOG"))
    out, records = logged_run(berth, bundle, comm)
    assert errnos(out) == [0]  # allowed
    assert any(f"syscall={nr} " in l and "code=0x7ffc0000" in l for l in records), records


@pytest.mark.parametrize("flag", [True, False])
def test_flag_log(berth, bundle, sysprobe, flag):
    # SECCOMP_FILTER_FLAG_LOG: the errno action is logged too; without it, not.
    comm = unique_probe(bundle, sysprobe)
    section = allow_all(rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42))
    if flag:
        section["flags"] = ["SECCOMP_FILTER_FLAG_LOG"]
    bundle.linux["seccomp"] = section
    out, records = logged_run(berth, bundle, comm, tries=3 if flag else 1)
    assert errnos(out) == [42]
    logged = any("code=0x50000" in l for l in records)  # the action, without its errno
    assert logged == flag, records


def test_flags_accepted(berth, pbundle):
    # TSYNC (the init has one thread) and SPEC_ALLOW (this CPU reports no
    # SSB mitigation to observe) are passed to seccomp(2): the filter works.
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42),
                                         flags=["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                                "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"])
    assert errnos(berth.sh(pbundle, "sysprobe call getppid")) == [42]


def test_status_shows_filter(berth, pbundle):
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_ERRNO"))
    out = berth.sh(pbundle, "grep -E '^Seccomp(_filters)?:' /proc/self/status")
    assert "Seccomp:\t2" in out
    assert "Seccomp_filters:\t1" in out


def test_no_seccomp_no_filter(berth, pbundle):
    out = berth.sh(pbundle, "grep '^Seccomp:' /proc/self/status")
    assert out == "Seccomp:\t0\n"


# ---------------------------------------------------------------- arguments

# getppid(A) with A = 9, 10, 11 against `A op 10` (MASKED_EQ: (A & 3) == 1).
@pytest.mark.parametrize("op,value,value_two,want", [
    ("SCMP_CMP_NE", 10, None, [42, 0, 42]),
    ("SCMP_CMP_LT", 10, None, [42, 0, 0]),
    ("SCMP_CMP_LE", 10, None, [42, 42, 0]),
    ("SCMP_CMP_EQ", 10, None, [0, 42, 0]),
    ("SCMP_CMP_GE", 10, None, [0, 42, 42]),
    ("SCMP_CMP_GT", 10, None, [0, 0, 42]),
    ("SCMP_CMP_MASKED_EQ", 3, 1, [42, 0, 0]),
])
def test_argument_ops(berth, pbundle, op, value, value_two, want):
    pbundle.linux["seccomp"] = allow_all(
        rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42, args=[arg(0, value, op, value_two)]))
    out = berth.sh(pbundle, "for a in 9 10 11; do sysprobe call getppid $a; done")
    assert errnos(out) == want


def test_argument_64bit_and_last_index(berth, pbundle):
    big = 1 << 40
    pbundle.linux["seccomp"] = allow_all(
        rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42, args=[arg(5, big, "SCMP_CMP_GE")]))
    out = berth.sh(pbundle, f"sysprobe call getppid 0 0 0 0 0 {big}; sysprobe call getppid 0 0 0 0 0 {big - 1};"
                            f" sysprobe call getppid {big}")
    assert errnos(out) == [42, 0, 0]


def test_arguments_on_two_indexes_all_match(berth, pbundle):
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42,
                                              args=[arg(0, 1, "SCMP_CMP_EQ"), arg(1, 2, "SCMP_CMP_EQ")]))
    out = berth.sh(pbundle, "sysprobe call getppid 1 2; sysprobe call getppid 1 3; sysprobe call getppid 0 2")
    assert errnos(out) == [42, 0, 0]


def test_arguments_on_one_index_any_matches(berth, pbundle):
    # As runc: conditions repeating an index become separate rules (OR).
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42,
                                              args=[arg(0, 1, "SCMP_CMP_EQ"), arg(0, 5, "SCMP_CMP_EQ")]))
    out = berth.sh(pbundle, "for a in 1 5 3; do sysprobe call getppid $a; done")
    assert errnos(out) == [42, 42, 0]


def test_unknown_syscall_names_skipped(berth, pbundle):
    pbundle.linux["seccomp"] = allow_all(
        rule(["no_such_syscall_at_all", "getppid"], "SCMP_ACT_ERRNO", errnoRet=42),
        rule("getpid", "SCMP_ACT_ALLOW"))  # same as the default: nothing to add
    assert errnos(berth.sh(pbundle, "sysprobe call getppid; sysprobe call getpid")) == [42, 0]


def test_architectures(berth, pbundle):
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42),
                                         architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
    assert errnos(berth.sh(pbundle, "sysprobe call getppid")) == [42]


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("section,message", [
    (allow_all(rule("getppid", "SCMP_ACT_BOGUS")),
     "linux.seccomp.syscalls[0].action: unknown action `SCMP_ACT_BOGUS`"),
    (allow_all(rule("getppid", "SCMP_ACT_ERRNO", args=[arg(0, 1, "SCMP_CMP_SIMILAR")])),
     "linux.seccomp.syscalls[0].args[0].op: unknown operator `SCMP_CMP_SIMILAR`"),
    (allow_all(rule("getppid", "SCMP_ACT_ALLOW", errnoRet=3)),
     "linux.seccomp.syscalls[0].errnoRet: not allowed with action `SCMP_ACT_ALLOW`"),
    ({"defaultAction": "SCMP_ACT_KILL", "defaultErrnoRet": 3},
     "linux.seccomp.defaultErrnoRet: not allowed with action `SCMP_ACT_KILL`"),
    (allow_all(architectures=["SCMP_ARCH_Z80"]),
     "linux.seccomp.architectures[0]: unknown architecture `SCMP_ARCH_Z80`"),
    (allow_all(flags=["SECCOMP_FILTER_FLAG_FAST"]), "linux.seccomp.flags[0]: unknown flag `SECCOMP_FILTER_FLAG_FAST`"),
    (allow_all(rule("mkdir", "SCMP_ACT_NOTIFY")), "linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY"),
    ({"syscalls": []}, "linux.seccomp.defaultAction: required"),
])
def test_bad_section(berth, pbundle, section, message):
    pbundle.linux["seccomp"] = section
    r = berth.run_container(pbundle)
    assert r.returncode == 1
    assert f"berth: {message}\n" in r.stderr
    berth.leftovers(r.id, rootfs=pbundle.rootfs)
    assert not os.path.exists(os.path.join(berth.root, CACHE_DIR)), "nothing compiled for a bad section"


def test_only_unknown_names(berth, pbundle):
    # Every name unknown: nothing to add, the default action alone.
    pbundle.linux["seccomp"] = allow_all(rule([f"fake_{i}" for i in range(3)], "SCMP_ACT_ERRNO"))
    assert errnos(berth.sh(pbundle, "sysprobe call getppid")) == [0]


# ---------------------------------------------------------------- placement

# What berth calls while finishing the process: cwd, user and groups,
# capabilities, fds, the signal mask, the sync channel, the executable lookup.
DENY_SETUP = ["prctl", "capset", "setgroups", "setresuid", "setresgid", "close_range", "fcntl",
              "rt_sigprocmask", "umask", "chdir", "fchdir", "newfstatat", "openat2", "sendto", "access"]


def test_filter_installed_last(berth, pbundle):
    # With no_new_privs the filter goes in right before execve: a profile
    # that forbids all of that still starts the container.
    pbundle.config["process"]["noNewPrivileges"] = True
    pbundle.linux["seccomp"] = allow_all(rule(DENY_SETUP, "SCMP_ACT_ERRNO", errnoRet=42))
    pbundle.set_user(1000, 1000, additional_gids=[1001])
    pbundle.set_args("sysprobe", "ids")
    r = berth.run_container(pbundle)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "uid=1000 euid=1000 groups=1001\n"


def test_filter_installed_before_caps_without_nnp(berth, pbundle):
    # Without no_new_privs and without CAP_SYS_ADMIN at the end, the filter
    # must go in while the init still has CAP_SYS_ADMIN, before the user and
    # capability changes (as runc does), which then run under it.
    pbundle.config["process"]["noNewPrivileges"] = False
    pbundle.set_user(1000, 1000, additional_gids=[1001])
    pbundle.linux["seccomp"] = allow_all(rule("setgroups", "SCMP_ACT_ERRNO", errnoRet=42))
    r = berth.run_container(pbundle)
    assert r.returncode == 1
    assert "process.user.additionalGids: setgroups: No message of desired type\n" in r.stderr
    berth.leftovers(r.id, rootfs=pbundle.rootfs)


def test_nonroot_without_nnp(berth, pbundle):
    pbundle.config["process"]["noNewPrivileges"] = False
    pbundle.set_user(1000, 1000)
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42))
    out = berth.sh(pbundle, "grep NoNewPrivs /proc/self/status; sysprobe ids; sysprobe call getppid")
    assert "NoNewPrivs:\t0" in out and "uid=1000 euid=1000" in out
    assert errnos(out) == [42]


def test_root_with_sys_admin_without_nnp(berth, pbundle):
    pbundle.config["process"]["noNewPrivileges"] = False
    caps = pbundle.config["process"]["capabilities"]
    for k in ("bounding", "effective", "permitted"):
        caps[k] = sorted(set(caps[k]) | {"CAP_SYS_ADMIN"})
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42))
    assert errnos(berth.sh(pbundle, "sysprobe call getppid")) == [42]


def test_create_start(berth, pbundle):
    pbundle.set_readonly(False)
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42))
    pbundle.sh("sysprobe call getppid > /tmp/out")
    r = berth.create(pbundle)
    pid = berth.state(r.id)["pid"]
    # Until start the init is berth, unfiltered (the filter goes in last).
    with open(f"/proc/{pid}/status") as f:
        assert "Seccomp:\t0" in f.read()
    berth.run(["start", r.id], check=True)
    berth.wait_status(r.id, "stopped")
    with open(os.path.join(pbundle.rootfs, "tmp", "out")) as f:
        assert errnos(f.read()) == [42]


# ---------------------------------------------------------------- notify

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101
EXFULL = 54


class Agent:
    """A seccomp agent at `path`: takes one container process state and
    listener fd per connection (as runtime-spec says) and answers every
    notified call on every listener with -EXFULL."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.states = []
        self.fds = []
        self.seen = []
        self.error = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def state(self):
        return self.states[0] if self.states else None

    def _accept(self):
        conn, _ = self.sock.accept()
        with conn:
            data, fds, _, _ = socket.recv_fds(conn, 65536, 4)
            while True:  # the state may come in several parts, the fd with the first
                more = conn.recv(65536)
                if not more:
                    break
                data += more
        self.states.append(json.loads(data))
        self.fds.extend(fds)
        return fds

    def _answer(self, fd):
        buf = bytearray(80)
        try:
            fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
        except OSError:
            return
        nid, _, _, nr = struct.unpack_from("QIIi", buf)
        self.seen.append(nr)
        try:
            fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, bytearray(struct.pack("QqiI", nid, 0, -EXFULL, 0)), True)
        except OSError:
            pass  # the caller is gone

    def _run(self):
        try:
            poll = select.poll()
            poll.register(self.sock.fileno(), select.POLLIN)
            while not self.stop.is_set():
                for fd, ev in poll.poll(100):
                    if fd == self.sock.fileno():
                        for new in self._accept():
                            poll.register(new, select.POLLIN)
                    elif ev & select.POLLIN:
                        self._answer(fd)
                    elif ev & (select.POLLHUP | select.POLLERR):
                        poll.unregister(fd)
        except Exception as e:  # reported by the test
            self.error = e

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()
        for fd in self.fds:
            os.close(fd)


@pytest.fixture
def agent(tmp_path):
    agents = []

    def start():
        a = Agent(str(tmp_path / f"agent{len(agents)}.sock"))
        agents.append(a)
        return a
    yield start
    for a in agents:
        a.close()


def notify_section(path, **extra):
    return allow_all(rule(["mkdir", "mkdirat"], "SCMP_ACT_NOTIFY"), listenerPath=path,
                     listenerMetadata="agent-metadata", **extra)


def test_notify_run(berth, pbundle, agent, sysprobe):
    a = agent()
    pbundle.set_readonly(False)
    pbundle.config["annotations"] = {"org.example": "yes"}
    pbundle.linux["seccomp"] = notify_section(a.path, flags=["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"])
    pbundle.sh("mkdir /tmp/d 2>&1; echo rc=$?; test -d /tmp/d && echo exists || echo absent")
    r = berth.run_container(pbundle)
    assert r.returncode == 0, r.stderr
    assert a.error is None
    assert "Exchange full" in r.stdout, r.stdout
    assert r.stdout.split()[-2:] == ["rc=1", "absent"]
    [st] = a.states
    assert st["ociVersion"] and st["fds"] == ["seccompFd"]
    assert st["metadata"] == "agent-metadata"
    assert st["pid"] > 0 and st["state"]["pid"] == st["pid"]
    assert st["state"]["id"] == r.id
    assert st["state"]["status"] == "creating"
    assert st["state"]["bundle"] == os.path.realpath(pbundle.path)
    assert st["state"]["annotations"] == {"org.example": "yes"}
    assert a.seen and set(a.seen) <= {nr_of(sysprobe, "mkdir"), nr_of(sysprobe, "mkdirat")}


def test_notify_create_start(berth, pbundle, agent):
    # The agent gets the listener during create; the parent is gone when the
    # container runs, and the agent still answers.
    a = agent()
    pbundle.set_readonly(False)
    pbundle.linux["seccomp"] = notify_section(a.path)
    pbundle.sh("mkdir /tmp/d 2>/tmp/err; echo rc=$? > /tmp/out")
    r = berth.create(pbundle)
    st = berth.state(r.id)
    wait_for(lambda: a.states, what="the agent to get the listener")
    berth.run(["start", r.id], check=True)
    berth.wait_status(r.id, "stopped")
    assert a.error is None
    assert a.state["pid"] == st["pid"]
    assert a.state["state"]["id"] == r.id
    with open(os.path.join(pbundle.rootfs, "tmp", "out")) as f:
        assert f.read() == "rc=1\n"
    with open(os.path.join(pbundle.rootfs, "tmp", "err")) as f:
        assert "Exchange full" in f.read()


def test_notify_listener_missing(berth, pbundle, tmp_path):
    path = str(tmp_path / "nobody-listens.sock")
    pbundle.linux["seccomp"] = notify_section(path)
    r = berth.run_container(pbundle, opts=())
    assert r.returncode == 1
    assert (f"berth: container `{r.id}`: linux.seccomp.listenerPath: connect to `{path}`: "
            "No such file or directory\n") in r.stderr
    berth.leftovers(r.id, rootfs=pbundle.rootfs)


def test_notify_on_sendmsg_refused(berth, pbundle, tmp_path):
    pbundle.linux["seccomp"] = allow_all(rule(["sendmsg"], "SCMP_ACT_NOTIFY"), listenerPath=str(tmp_path / "s"))
    r = berth.run_container(pbundle)
    assert r.returncode == 1
    assert ("linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY cannot be used for `sendmsg`: berth hands the listener "
            "over with it") in r.stderr
    berth.leftovers(r.id, rootfs=pbundle.rootfs)


# ---------------------------------------------------------------- the cache

def cache_entries(berth):
    d = os.path.join(berth.root, CACHE_DIR)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def run_debug(berth, bundle, script):
    bundle.sh(script)
    r = berth.run_container(bundle, global_opts=("--debug",))
    assert r.returncode == 0, r.stderr
    return r


def test_cache_second_start_loads(berth, pbundle):
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42))
    first = run_debug(berth, pbundle, "sysprobe call getppid")
    entries = cache_entries(berth)
    assert len(entries) == 1 and entries[0].endswith(".bpf")
    path = os.path.join(berth.root, CACHE_DIR, entries[0])
    assert any("seccomp: compiled filter (" in l for l in debug_lines(first.stderr))
    assert any(f"seccomp: filter cached as `{path}`" in l for l in debug_lines(first.stderr))
    second = run_debug(berth, pbundle, "sysprobe call getppid")
    lines = debug_lines(second.stderr)
    assert any(f"seccomp: filter loaded from cache `{path}`" in l for l in lines), lines
    assert not any("compiled filter" in l for l in lines)
    assert errnos(first.stdout) == errnos(second.stdout) == [42]
    st = os.stat(os.path.join(berth.root, CACHE_DIR))
    assert oct(st.st_mode & 0o777) == "0o700" and st.st_uid == os.getuid()
    st = os.stat(path)
    assert oct(st.st_mode & 0o777) == "0o600" and st.st_uid == os.getuid()


def test_cache_key_changes_with_a_rule(berth, pbundle):
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42))
    run_debug(berth, pbundle, "sysprobe call getppid")
    before = cache_entries(berth)
    pbundle.linux["seccomp"]["syscalls"][0]["errnoRet"] = 43
    r = run_debug(berth, pbundle, "sysprobe call getppid")
    after = cache_entries(berth)
    assert len(after) == 2 and before[0] in after
    assert any("compiled filter" in l for l in debug_lines(r.stderr))
    assert errnos(r.stdout) == [43]


@pytest.mark.parametrize("damage,why", [
    ("flip", "is corrupt (checksum mismatch)"),
    ("truncate", "is corrupt (truncated or bad header)"),
])
def test_cache_corrupt_entry_rebuilt(berth, pbundle, damage, why):
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42))
    run_debug(berth, pbundle, "sysprobe call getppid")
    [entry] = cache_entries(berth)
    path = os.path.join(berth.root, CACHE_DIR, entry)
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        if damage == "flip":
            data[-3] ^= 0xFF  # inside the BPF program: would change the filter
            f.seek(0)
            f.write(data)
        else:
            f.truncate(len(data) // 2)
    r = run_debug(berth, pbundle, "sysprobe call getppid; sysprobe call getpid")
    lines = debug_lines(r.stderr)
    assert any(f"seccomp: cache entry `{path}` {why}: rebuilding" in l for l in lines), lines
    assert any("compiled filter" in l for l in lines)
    assert errnos(r.stdout) == [42, 0]
    again = run_debug(berth, pbundle, "sysprobe call getppid")
    assert any("loaded from cache" in l for l in debug_lines(again.stderr))
    assert errnos(again.stdout) == [42]


def test_cache_dir_not_listed_as_container(berth, pbundle):
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_ERRNO"))
    berth.sh(pbundle, "true")
    assert cache_entries(berth)
    r = berth.run(["list", "--format", "json"], check=True)
    assert json.loads(r.stdout) == []


# ---------------------------------------------------------------- Docker's profile

def test_docker_default_profile(berth, pbundle):
    caps = pbundle.config["process"]["capabilities"]["bounding"]
    profile = docker_profile(caps)
    assert sum(len(s["names"]) for s in profile["syscalls"]) > 300
    pbundle.linux["seccomp"] = profile
    script = ("echo hello; ls / > /dev/null && echo listed; "
              "sysprobe call personality 4; sysprobe call clone3 0 0; sysprobe call getppid")
    first = run_debug(berth, pbundle, script)
    assert first.stdout.splitlines()[:2] == ["hello", "listed"]
    # Not allowed: EPERM by default, clone3 ENOSYS (so libc falls back to clone).
    assert errnos(first.stdout) == [1, 38, 0]
    assert any("compiled filter" in l for l in debug_lines(first.stderr))
    second = run_debug(berth, pbundle, script)
    assert any("loaded from cache" in l for l in debug_lines(second.stderr))
    assert second.stdout == first.stdout


def test_docker_profile_without_filter_differs(berth, pbundle):
    # The same calls without seccomp: what the profile changed.
    out = berth.sh(pbundle, "sysprobe call personality 4; sysprobe call clone3 0 0")
    assert errnos(out) == [0, 22]


# ---------------------------------------------------------------- exec

def exec_available():
    r = subprocess.run([BERTH, "exec", "--help"], capture_output=True, text=True)
    return r.returncode == 0


@pytest.mark.skipif(not exec_available(), reason="`berth exec` is not built yet (issue 5)")
def test_exec_gets_filter(berth, pbundle):
    pbundle.linux["seccomp"] = allow_all(rule("getppid", "SCMP_ACT_ERRNO", errnoRet=42))
    pbundle.set_args("sleep", "100")
    r = berth.run_detached(pbundle)
    ex = berth.run(["exec", r.id, "sysprobe", "call", "getppid"])
    assert ex.returncode == 0, ex.stderr
    assert errnos(ex.stdout) == [42]
    ex = berth.run(["exec", r.id, "grep", "^Seccomp:", "/proc/self/status"])
    assert ex.stdout == "Seccomp:\t2\n"


@pytest.mark.skipif(not exec_available(), reason="`berth exec` is not built yet (issue 5)")
def test_exec_notify(berth, pbundle, agent):
    # exec's process gets a filter of its own, with its own listener, sent
    # to the same listenerPath on a new connection with status `running`.
    a = agent()
    pbundle.set_readonly(False)
    pbundle.linux["seccomp"] = notify_section(a.path)
    pbundle.set_args("sleep", "100")
    r = berth.run_detached(pbundle)
    ex = berth.run(["exec", r.id, "sh", "-c", "mkdir /tmp/e 2>&1; echo rc=$?"])
    assert ex.returncode == 0, ex.stderr
    assert "Exchange full" in ex.stdout and "rc=1" in ex.stdout
    assert a.error is None
    assert [st["state"]["status"] for st in a.states] == ["creating", "running"]
    assert all(st["state"]["id"] == r.id for st in a.states)
    assert a.states[1]["pid"] != a.states[0]["pid"]
