/* What happens in the container's init around and right before execve. */
#ifndef BERTH_PROCESS_H
#define BERTH_PROCESS_H

#include "spec.h"

/* Parent, before clone: read host facts the init can no longer see after pivot_root. */
void process_probe(void);
/* Init, still root in its namespaces: hostname, domainname, linux.sysctl,
 * linux.personality, rlimits, oom_score_adj, session keyring. */
int process_setup(const struct spec *s, bool new_keyring, const char *id, berth_error **err);
/* The parts of process_setup an exec'd process shares: rlimits and
 * oom_score_adj (set while still root on the host), and a new session keyring. */
int process_set_limits(const struct spec_process *p, berth_error **err);
int process_join_keyring(const char *id, berth_error **err);
/* Parent, after process_probe: the capabilities named in `c` that the running
 * kernel does not have (they are skipped), as "CAP_A, CAP_B"; NULL when none. */
char *process_caps_unknown(const struct spec_caps *c);
/* Init, after pivot_root: cwd (created if missing; never through a /proc
 * magic link), user and groups, capabilities, umask, no_new_privs; finds the
 * executable.  Loads the seccomp filter here instead of in process_exec when
 * it has a listener or when CAP_SYS_ADMIN and no_new_privs would both be
 * missing by then.  Returns the path to execve (caller frees). */
char *process_finalize(const struct spec *s, berth_error **err);
/* The fixed last steps: fds (keep 0-2 and the preserved), signal mask, LSM
 * exec labels, the seccomp filter (unless process_finalize had to load it
 * earlier), execve. */
int process_exec(const struct spec *s, const char *path, int preserve_fds, berth_error **err);

/* A new environment: `env` with the "K=V" entries of `add` replacing those
 * with the same key, added at the end (caller frees with strv_free). */
char **process_env_merge(char *const *env, char *const *add);

/* Search `name` in the PATH of `env` (a NULL-terminated "K=V" array) the way execvp would. */
char *process_lookup(const char *name, char *const *env, berth_error **err);

#endif
