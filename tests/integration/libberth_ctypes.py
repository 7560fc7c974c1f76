#!/usr/bin/python3
"""libberth_ctypes.py LIBBERTH ROOT state ID | stop ID SIGNAL TIMEOUT_MS

Drive libberth.so through ctypes, as a C caller would, for the exit report
(struct berth_state's `exit`) and berth_stop: `state` prints the report's
fields as JSON (null when `exit` is NULL), `stop` prints the return value.
Run it as a separate process (run() below): the ASan build's library needs
the ASan runtime preloaded, which the test process itself cannot have."""

import ctypes
import json
import os
import subprocess
import sys


class ExitStatus(ctypes.Structure):
    _fields_ = [("exit_code", ctypes.c_int), ("signal", ctypes.c_int), ("oom_killed", ctypes.c_bool)]


class ExitReport(ctypes.Structure):
    _fields_ = [("status", ExitStatus), ("peak_memory", ctypes.c_int64), ("cpu_time_ns", ctypes.c_int64),
                ("started_at", ctypes.c_char_p), ("finished_at", ctypes.c_char_p)]


class State(ctypes.Structure):
    _fields_ = [("id", ctypes.c_char_p), ("bundle", ctypes.c_char_p), ("rootfs", ctypes.c_char_p),
                ("created", ctypes.c_char_p), ("owner", ctypes.c_char_p), ("status", ctypes.c_int),
                ("pid", ctypes.c_int), ("annotations", ctypes.c_void_p),
                ("exit", ctypes.POINTER(ExitReport))]


def load(path):
    lib = ctypes.CDLL(path)
    lib.berth_context_new.restype = ctypes.c_void_p
    lib.berth_context_new.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.berth_context_free.argtypes = [ctypes.c_void_p]
    lib.berth_state_get.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(State), ctypes.c_void_p]
    lib.berth_state_clear.argtypes = [ctypes.POINTER(State)]
    lib.berth_stop.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
    return lib


def main():
    lib = load(sys.argv[1])
    ctx = lib.berth_context_new(sys.argv[2].encode(), None, None, None)
    cmd, id = sys.argv[3], sys.argv[4].encode()
    if cmd == "stop":
        print(lib.berth_stop(ctx, id, int(sys.argv[5]), int(sys.argv[6]), None))
    else:
        st = State()
        if lib.berth_state_get(ctx, id, ctypes.byref(st), None) != 0:
            sys.exit("berth_state_get failed")
        out = None
        if st.exit:
            r = st.exit.contents
            out = {"exit_code": r.status.exit_code, "signal": r.status.signal,
                   "oom_killed": r.status.oom_killed, "peak_memory": r.peak_memory,
                   "cpu_time_ns": r.cpu_time_ns,
                   "started_at": r.started_at.decode() if r.started_at else None,
                   "finished_at": r.finished_at.decode() if r.finished_at else None}
        lib.berth_state_clear(ctypes.byref(st))
        print(json.dumps(out))
    lib.berth_context_free(ctx)


def run(berth_binary, root, *args):
    """Run this script against the libberth.so next to `berth_binary`; its stdout."""
    import pytest
    lib = os.path.join(os.path.dirname(berth_binary), "libberth.so")
    if not os.path.exists(lib):
        pytest.skip(f"{lib} not built")
    env = dict(os.environ)
    with open(lib, "rb") as f:
        if b"libasan.so" in f.read():
            asan = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                                  text=True).stdout.strip()
            env["LD_PRELOAD"] = asan
            # Python's own allocations are not ours to judge; the library's errors still are.
            env["ASAN_OPTIONS"] = ":".join(
                [o for o in env.get("ASAN_OPTIONS", "").split(":") if o and not o.startswith("detect_leaks")]
                + ["detect_leaks=0"])
    r = subprocess.run([sys.executable, __file__, lib, root, *args], capture_output=True, text=True,
                       env=env, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return r.stdout


if __name__ == "__main__":
    main()
