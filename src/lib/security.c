#define _GNU_SOURCE
#include "security.h"

#include "container.h"
#include "lsm.h"
#include "process.h"
#include "seccomp_filter.h"
#include "sync.h"

static void ctx_debug_fn(void *data, const char *msg)
{
        ctx_debug(data, "%s", msg);
}

int security_prepare(berth_context *ctx, const struct spec *s, berth_error **err)
{
        /* The kernel would refuse them; skipping them is what lets one spec
         * serve older kernels, and the caller is told. */
        _cleanup_free_ char *unknown = process_caps_unknown(&s->process.caps);
        if (unknown)
                ctx_warn(ctx, "process.capabilities: %s not known to the running kernel: skipped", unknown);
        if (lsm_check(&s->process, s->mount_label, "", err) < 0)
                return -1;
        if (s->seccomp &&
            seccomp_filter_prepare(s->seccomp, ctx->root, ctx->debug ? ctx_debug_fn : NULL, ctx, err) < 0)
                return -1;
        return 0;
}

void security_child_channel(const struct spec *s, int sync)
{
        if (s->seccomp)
                seccomp_filter_set_channel(s->seccomp, sync);
}

int security_listener_handover(berth_context *ctx, const struct spec *s, int sync, const char *id, pid_t pid,
                               const char *status, berth_error **err)
{
        if (!s->seccomp || !s->seccomp->notify)
                return 0;
        _cleanup_close_ int fd = -1;
        if (sync_expect_fd(sync, SYNC_SECCOMP_LISTENER, &fd, err) < 0)
                return -1;
        struct seccomp_state st = {
                .id = id, .bundle = s->bundle, .status = status, .annotations = s->annotations, .pid = pid};
        if (seccomp_listener_send(s->seccomp, fd, &st, err) < 0)
                return -1;
        ctx_debug(ctx, "container %s: seccomp listener sent to `%s`", id, s->seccomp->listener_path);
        return 0;
}
