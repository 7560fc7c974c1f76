/* linux.seccomp (seccomp.c): the section parsed into typed rules, compiled
 * with libseccomp in the parent (or loaded from the compiled-filter cache
 * under the berth root), and installed by the init with seccomp(2) itself,
 * so the init never runs libseccomp.  Not named seccomp.h: with -Isrc/lib
 * that would shadow libseccomp's <seccomp.h>. */
#ifndef BERTH_SECCOMP_FILTER_H
#define BERTH_SECCOMP_FILTER_H

#include <jansson.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

#include "utils.h"

#define SECCOMP_CACHE_DIR "@seccomp-cache" /* under the root; `@` is never in a container id */

struct seccomp_arg {
        unsigned index;
        uint64_t value, value_two;
        int op; /* enum scmp_compare */
};

struct seccomp_rule {
        char **names;    /* NULL-terminated, at least one */
        uint32_t action; /* SCMP_ACT_*, with the errno or trace data */
        struct seccomp_arg *args;
        size_t n_args;
};

struct spec_seccomp {
        uint32_t default_action;
        uint32_t *arches; /* SCMP_ARCH_* */
        size_t n_arches;
        unsigned flags; /* SECCOMP_FILTER_FLAG_* asked for in `flags` */
        char *listener_path, *listener_metadata;
        struct seccomp_rule *rules;
        size_t n_rules;
        bool notify;   /* some rule's action is SCMP_ACT_NOTIFY: there is a listener */
        char *section; /* the section as canonical JSON (sorted keys): what the cache key covers */
        /* The compiled program: seccomp_filter_prepare() fills it in the parent. */
        struct sock_filter *prog;
        size_t prog_len;
        /* The init's own copy: loaded yet, and where the listener fd goes (-1: nowhere). */
        bool loaded;
        int channel;
};

/* Parse `v` (linux.seccomp) into *out; errors name the field
 * (`linux.seccomp.syscalls[2].action: unknown action `X``). */
int seccomp_spec_parse(json_t *v, struct spec_seccomp **out, berth_error **err);
void seccomp_spec_free(struct spec_seccomp *sc);

/* Parent, before clone: the compiled program, from the cache under `root`
 * when an entry for this exact section, architecture and libseccomp
 * exists and is intact; otherwise compiled and stored there.  `debug`
 * (may be NULL) gets one line saying which. */
int seccomp_filter_prepare(struct spec_seccomp *sc, const char *root, berth_log_fn debug, void *data,
                           berth_error **err);

/* The cache file name for the section (`<hash>.bpf`, caller-freed). */
char *seccomp_filter_cache_name(const struct spec_seccomp *sc);
/* Compile into sc->prog without the cache (create --dry-run, check);
 * *unknown counts the syscall names this libseccomp does not know. */
int seccomp_filter_compile(struct spec_seccomp *sc, size_t *unknown, berth_error **err);
/* The spec's names of an action (`SCMP_ACT_ERRNO`), an architecture and a flag. */
const char *seccomp_action_name(uint32_t action);
const char *seccomp_arch_name(uint32_t arch);
const char *seccomp_flag_name(unsigned flag);

/* Init: where the listener fd is handed over (the sync channel). */
void seccomp_filter_set_channel(struct spec_seccomp *sc, int fd);
/* Init: install the prepared program with the section's flags.  With a
 * listener, its fd is sent over the channel as SYNC_SECCOMP_LISTENER. */
int seccomp_filter_load(struct spec_seccomp *sc, berth_error **err);

/* Parent: send the listener fd with the container process state to
 * listenerPath, as runtime-spec's "container process state" says. */
struct seccomp_state {
        const char *id, *bundle, *status;
        char **annotations; /* key, value, ..., NULL */
        int pid;
};
int seccomp_listener_send(const struct spec_seccomp *sc, int listener, const struct seccomp_state *st,
                          berth_error **err);

#endif
