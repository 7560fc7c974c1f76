/* OCI hooks (config.json `hooks`): parsing, running one kind in order with
 * the container's state on stdin and an optional timeout, and the points of
 * the lifecycle that call them.
 *
 * Who runs what, where (runtime-spec config.md "POSIX-platform Hooks" and
 * runtime.md "Lifecycle"):
 *   prestart, createRuntime  the runtime (create's parent), in the runtime's
 *                            namespaces, once the init's mounts are made and
 *                            before it pivots;
 *   createContainer          the init, in the container's namespaces, right
 *                            after those and still before pivot_root;
 *   startContainer           the init, at `start`, before it executes the
 *                            program; its path resolves inside the container;
 *   poststart                the runtime, once the program has been executed;
 *   poststop                 the runtime, once the container is deleted.
 * A failure of the first four aborts and undoes the container; poststart and
 * poststop failures are warnings. */
#ifndef BERTH_HOOKS_H
#define BERTH_HOOKS_H

#include <jansson.h>

#include "utils.h"

struct spec;
struct saved_state;

enum hook_kind {
        HOOK_PRESTART,
        HOOK_CREATE_RUNTIME,
        HOOK_CREATE_CONTAINER,
        HOOK_START_CONTAINER,
        HOOK_POSTSTART,
        HOOK_POSTSTOP,
        HOOK_KINDS,
};

struct hook {
        char *path;       /* absolute */
        char **args;      /* NULL-terminated; empty means { path } */
        char **env;       /* NULL-terminated, may be empty */
        unsigned timeout; /* seconds, 0 = none */
};

struct hooks {
        struct hook *list[HOOK_KINDS];
        size_t n[HOOK_KINDS];
        json_t *saved; /* poststart and poststop as written, for state.json (NULL when neither) */
};

/* Written by create when `start` must wait for the init: the init reports a
 * failed startContainer hook there, and its exec closes it. */
#define HOOKS_START_FIFO "start.fifo"

/* `hooks` of config.json (NULL: absent) into *out (NULL when it asks for
 * nothing).  Errors name the field: `hooks.poststart[1].timeout: expected a
 * positive integer`. */
int hooks_parse(const json_t *hooks, struct hooks **out, berth_error **err);
void hooks_free(struct hooks *h);
const char *hook_kind_name(enum hook_kind k);
bool hooks_have(const struct hooks *h, enum hook_kind k);

/* The state JSON hooks read on stdin (pid left out when 0). */
char *hooks_state_json(const char *id, const char *status, pid_t pid, const char *bundle,
                       char *const *annotations);
/* Run every hook of kind `k` in order.  Without `warn` the first failure
 * stops and fails (`hooks.createRuntime[0]: `/x` exited with status 3`);
 * with it every failure is passed to warn and the rest still run. */
int hooks_run(const struct hooks *h, enum hook_kind k, const char *state, berth_log_fn warn, void *warn_data,
              berth_error **err);

/* ---- the lifecycle's calls ---------------------------------------------- */


/* Init, mounts made, before pivot_root: ask the parent for prestart and
 * createRuntime over `syncfd`, then run createContainer.  Fills *host_pid
 * with the init's pid as the runtime sees it, for startContainer's state. */
int hooks_init_create(const struct spec *s, const char *id, int syncfd, pid_t *host_pid, berth_error **err);
/* Parent, after SYNC_GO_SETUP: answer the init's request by running
 * prestart and createRuntime. */
int hooks_parent_create(const struct spec *s, const char *id, pid_t pid, int syncfd, berth_error **err);
/* Init, released by start/run, right before execve. */
int hooks_init_start(const struct spec *s, const char *id, pid_t host_pid, berth_error **err);
/* create: make and open the start fifo (*fd) when startContainer or
 * poststart hooks exist; *fd is -1 when they do not. */
int hooks_start_fifo_create(const struct spec *s, int dirfd, int *fd, berth_error **err);
/* Init: report `e` through the start fifo. */
void hooks_start_fifo_report(int fd, const berth_error *e);
/* start: open the start fifo for reading before releasing the init (-1 when
 * there is none), then wait until the init has executed its program or
 * reported an error. */
int hooks_start_fifo_open(int dirfd);
int hooks_start_fifo_wait(int fd, berth_error **err);
/* Runtime-side hooks of a container, from spec or from state.json, failures as warnings. */
void hooks_warn_run(berth_context *ctx, const struct hooks *h, enum hook_kind k, const char *id,
                    const char *status, pid_t pid, const char *bundle, char *const *annotations);
void hooks_warn_run_saved(berth_context *ctx, const struct saved_state *st, enum hook_kind k,
                          const char *status, pid_t pid);

#endif
