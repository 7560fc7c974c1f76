/* What happens in the container's init around and right before execve. */
#ifndef BERTH_PROCESS_H
#define BERTH_PROCESS_H

#include "spec.h"

/* Parent, before clone: read host facts the init can no longer see after pivot_root. */
void process_probe(void);
/* Init, still root in its namespaces: hostname, domainname, rlimits,
 * oom_score_adj, session keyring. */
int process_setup(const struct spec *s, bool new_keyring, const char *id, berth_error **err);
/* Init, after pivot_root: cwd (created if missing), user and groups,
 * capabilities, umask, no_new_privs; finds the executable.  Returns the
 * path to execve (caller frees). */
char *process_finalize(const struct spec *s, berth_error **err);
/* The fixed last steps: fds (keep 0-2 and the preserved), signal mask, execve. */
int process_exec(const struct spec *s, const char *path, int preserve_fds, berth_error **err);

/* Search `name` in the PATH of `env` (a NULL-terminated "K=V" array) the way execvp would. */
char *process_lookup(const char *name, char *const *env, berth_error **err);

#endif
