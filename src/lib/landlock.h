/* Landlock (berth extension): the `berth.landlock.ro` and `berth.landlock.rw`
 * annotations, colon-separated absolute paths inside the container, become a
 * Landlock ruleset the container's process (and every exec'd one) runs
 * under: read and execute beneath the `ro` paths, every filesystem right
 * beneath the `rw` paths, nothing elsewhere. */
#ifndef BERTH_LANDLOCK_H
#define BERTH_LANDLOCK_H

#include "container.h"

#define LANDLOCK_ANN_PREFIX "berth.landlock."
#define LANDLOCK_ANN_RO "berth.landlock.ro"
#define LANDLOCK_ANN_RW "berth.landlock.rw"

/* What the annotations ask for; struct spec holds NULL when none is given. */
struct landlock_config {
        char **ro; /* NULL-terminated absolute paths, may be empty */
        char **rw;
};

/* Read and check every berth.landlock.* annotation (`annotations`: key,
 * value, ..., NULL).  *out is NULL when there is none.  Errors name the
 * annotation: `berth.landlock.ro: expected absolute paths separated by `:`, got `tmp``. */
int landlock_config_parse(char *const *annotations, struct landlock_config **out, berth_error **err);
void landlock_config_free(struct landlock_config *c);

/* The kernel's Landlock ABI version, or -errno (ENOSYS: no Landlock in the
 * kernel; EOPNOTSUPP: built in but disabled at boot). */
int landlock_abi(void);

/* Parent, before anything is made: whether this kernel can apply `c`.  It
 * cannot: an error, or with `ignore_unsupported` a warning through the
 * context, and the container runs without the ruleset. */
int landlock_check(berth_context *ctx, const struct landlock_config *c, bool ignore_unsupported,
                   berth_error **err);

/* Container process, inside its root (after pivot_root), before it reports
 * ready (so that a missing path fails create): open each path and build the
 * ruleset.  Does nothing for NULL, nor when the kernel has no Landlock
 * (landlock_check decided that already). */
int landlock_build(const struct landlock_config *c, berth_error **err);
/* Then, in its last steps: enforce it on itself (nothing when none was built). */
int landlock_restrict(berth_error **err);

/* The filesystem rights of an ABI version (exposed for unit tests), and the
 * read-only ones among them. */
uint64_t landlock_fs_rights(int abi);
uint64_t landlock_ro_rights(void);

#endif
