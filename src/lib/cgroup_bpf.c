/* The allowed-device list on cgroup v2, which has no devices controller:
 * an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the
 * container's directory.  The kernel runs it on every open/mknod of a
 * device node with (type, access, major, minor) and lets the access
 * through when it returns 1.
 *
 * The rules are compiled to a chain of tests tried from the last rule to
 * the first, so the last matching rule decides, as with the v1 list; when
 * none matches, the parent's policy (allow) stands. */
#define _GNU_SOURCE
#include <linux/bpf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include "cgroup_backend.h"
#include "syscalls.h"

#ifndef BPF_JMP32
#define BPF_JMP32 0x06
#endif

#define INSN(c, d, s, o, i)                                                                                  \
        ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

struct prog {
        struct bpf_insn *v;
        size_t n, cap;
};

static size_t emit(struct prog *p, struct bpf_insn insn)
{
        if (p->n == p->cap)
                p->v = xrealloc(p->v, (p->cap = p->cap ? 2 * p->cap : 64) * sizeof *p->v);
        p->v[p->n] = insn;
        return p->n++;
}

static int access_bits(const char *access)
{
        int bits = 0;
        for (const char *a = access; *a; a++)
                bits |= *a == 'r'   ? BPF_DEVCG_ACC_READ
                        : *a == 'w' ? BPF_DEVCG_ACC_WRITE
                                    : BPF_DEVCG_ACC_MKNOD;
        return bits;
}

/* One rule: jumps to its end when the request does not match, else returns
 * the rule's verdict.  Registers: r2 device type, r3 access, r4 major, r5 minor.
 * Returns true when the rule matches everything (nothing after it runs). */
static bool emit_rule(struct prog *p, const struct res_device_rule *r)
{
        size_t jumps[4], nj = 0;
        int acc = access_bits(r->access);
        const int all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
        if (r->type != 'a')
                jumps[nj++] = emit(p, INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
                                           r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
        if (acc != all) {
                /* An allow covers a request only when it grants every bit asked
                 * for; a deny hits any request that asks for one of its bits. */
                emit(p, INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0));
                emit(p, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, r->allow ? ~acc : acc));
                jumps[nj++] =
                        emit(p, INSN(BPF_JMP32 | (r->allow ? BPF_JNE : BPF_JEQ) | BPF_K, BPF_REG_1, 0, 0, 0));
        }
        if (r->type != 'a' && r->major >= 0)
                jumps[nj++] = emit(
                        p, INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int32_t)(uint32_t)r->major));
        if (r->type != 'a' && r->minor >= 0)
                jumps[nj++] = emit(
                        p, INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int32_t)(uint32_t)r->minor));
        emit(p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0));
        emit(p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
        for (size_t i = 0; i < nj; i++)
                p->v[jumps[i]].off = (int16_t)(p->n - jumps[i] - 1);
        return nj == 0;
}

void *cg_bpf_build(const struct res_device_rule *rules, size_t n, size_t *count)
{
        struct prog p = {0};
        /* struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; } */
        emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));
        emit(&p, INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0));
        emit(&p, INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
        emit(&p, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));
        emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0));
        emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0));
        /* The verifier refuses code it cannot reach: stop after a rule that
         * matches everything (the usual leading "deny a"). */
        for (size_t i = n; i > 0; i--)
                if (emit_rule(&p, &rules[i - 1])) {
                        *count = p.n;
                        return p.v;
                }
        emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1));
        emit(&p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
        *count = p.n;
        return p.v;
}

int cg_bpf_attach(const struct cg_target *t, const struct res_device_rule *rules, size_t n, berth_error **err)
{
        size_t count;
        _cleanup_free_ struct bpf_insn *insns = cg_bpf_build(rules, n, &count);
        if (t->plan)
                return t->plan->attach_bpf(t->plan->data, t, insns, count, n, err);
        char log[4096] = "";
        union bpf_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)insns;
        attr.insn_cnt = (uint32_t)count;
        attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = sizeof log;
        attr.log_level = 1;
        _cleanup_close_ int prog = (int)sys_bpf(BPF_PROG_LOAD, &attr, sizeof attr);
        if (prog < 0) {
                /* The verifier's log says why; a retry without it saves the
                 * kernels that refuse a log of this size. */
                attr.log_buf = 0, attr.log_size = 0, attr.log_level = 0;
                prog = (int)sys_bpf(BPF_PROG_LOAD, &attr, sizeof attr);
        }
        if (prog < 0)
                return cg_fail(err, t, "devices", errno, "load the cgroup2 device filter%s%.200s",
                               *log ? ": " : "", log);
        _cleanup_close_ int dirfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return cg_fail(err, t, "devices", errno, "open cgroup `%s`", t->dir);
        memset(&attr, 0, sizeof attr);
        attr.target_fd = (uint32_t)dirfd;
        attr.attach_bpf_fd = (uint32_t)prog;
        attr.attach_type = BPF_CGROUP_DEVICE;
        /* ALLOW_MULTI: the parent's filters keep running too; a child can only narrow. */
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        if (sys_bpf(BPF_PROG_ATTACH, &attr, sizeof attr) < 0)
                return cg_fail(err, t, "devices", errno, "attach the device filter to `%s`", t->dir);
        return 0;
}
