#!/usr/bin/python3
"""nosys.py NR[,NR...] -- PROGRAM ARGS...

Run PROGRAM with the given x86_64 system calls failing with ENOSYS, the way
an older kernel would answer them: the tests use it to drive berth down its
fallback paths (openat2 -> component walk, mount_setattr -> remount).  The
seccomp filter is inherited by everything PROGRAM starts."""

import ctypes
import os
import struct
import sys

AUDIT_ARCH_X86_64 = 0xC000003E
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
ENOSYS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

# BPF opcodes
LD_W_ABS = 0x20
JEQ_K = 0x15
RET_K = 0x06


def insn(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit(__doc__)
    numbers = [int(n) for n in sys.argv[1].split(",") if n]
    prog = [insn(LD_W_ABS, 0, 0, 4),                            # seccomp_data.arch
            insn(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
            insn(RET_K, 0, 0, SECCOMP_RET_ALLOW),
            insn(LD_W_ABS, 0, 0, 0)]                            # seccomp_data.nr
    for i, n in enumerate(numbers):
        left = len(numbers) - i - 1                             # checks after this one
        prog.append(insn(JEQ_K, left + 1, 0, n))                # to the ERRNO return
    prog.append(insn(RET_K, 0, 0, SECCOMP_RET_ALLOW))
    prog.append(insn(RET_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS))
    code = b"".join(prog)
    buf = ctypes.create_string_buffer(code, len(code))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        sys.exit(f"nosys: prctl(PR_SET_SECCOMP): {os.strerror(ctypes.get_errno())}")
    os.execv(sys.argv[3], sys.argv[3:])


if __name__ == "__main__":
    main()
