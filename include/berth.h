/* libberth: the execution-driver contract of the berth container runtime.
 *
 * Error rule: every function that can fail returns < 0 (or NULL) and, when
 * `err` is not NULL, stores a newly allocated error in *err that the caller
 * frees with berth_error_free().  On success *err is left untouched.
 * Strings returned to the caller are owned by the caller unless noted.
 * The library never prints and never exits. */
#ifndef BERTH_H
#define BERTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BERTH_EXPORT __attribute__((visibility("default")))

#define BERTH_VERSION "0.1.0"
#define BERTH_OCI_VERSION "1.2.0"
#define BERTH_DEFAULT_ROOT "/run/berth"

typedef struct berth_error berth_error;

BERTH_EXPORT int berth_error_errno(const berth_error *err);
BERTH_EXPORT const char *berth_error_message(const berth_error *err); /* owned by err */
BERTH_EXPORT void berth_error_free(berth_error *err);

/* A runtime context: where state lives and how the library reports debug
 * messages.  One context may drive many containers. */
typedef struct berth_context berth_context;
typedef void (*berth_log_fn)(void *data, const char *msg);

/* `root` NULL means BERTH_DEFAULT_ROOT.  `debug`, if not NULL, receives
 * debug messages (which path was taken, each step). */
BERTH_EXPORT berth_context *berth_context_new(const char *root, berth_log_fn debug, void *debug_data,
                                              berth_error **err);
BERTH_EXPORT void berth_context_free(berth_context *ctx);
/* Where warnings go: failed poststart and poststop hooks, which by the OCI
 * spec do not fail the operation.  Without a sink they are dropped. */
BERTH_EXPORT void berth_context_set_warn(berth_context *ctx, berth_log_fn warn, void *warn_data);

/* A bundle whose config.json has been read and fully validated. */
typedef struct berth_bundle berth_bundle;

BERTH_EXPORT berth_bundle *berth_bundle_load(const char *dir, berth_error **err);
BERTH_EXPORT void berth_bundle_free(berth_bundle *bundle);
/* Add annotations to a loaded bundle as if its config.json had them (`kv`:
 * key, value, ..., NULL; a key given again replaces the value).  This is how
 * the berth.net.* / berth.ipc.* settings come from a command line; they are
 * checked together, and on error the bundle is left as it was. */
BERTH_EXPORT int berth_bundle_set_annotations(berth_bundle *bundle, const char *const *kv, berth_error **err);

/* The default config.json `berth spec` writes (a NUL-terminated JSON text). */
BERTH_EXPORT char *berth_spec_default(void);

/* Preflight (a berth extension): check the bundle in `dir` against this host
 * without creating anything — its config (validation errors are reported as
 * items), the cgroup layout and every file its linux.resources would write,
 * LSMs, the seccomp filter (compiled; its actions and flags probed in the
 * kernel), namespace kinds and the paths to join, id-mapped mount support,
 * every mount source, device, hook and sysctl, and the berth.net settings.
 * A report of items {"pointer" (a JSON pointer into config.json, like
 * `/mounts/3/source`), "level" (ok, warning, error), "message"}, as text
 * (one line each) or as JSON {"bundle","ok","errors","warnings","items"};
 * *ok is true when no item is an error, i.e. create would not fail for a
 * reason found.  NULL only when the check itself cannot run. */
enum berth_format { BERTH_FORMAT_TEXT, BERTH_FORMAT_JSON };
BERTH_EXPORT char *berth_check(berth_context *ctx, const char *dir, enum berth_format format, bool *ok,
                               berth_error **err);

struct berth_create_options {
        const char *pid_file;       /* write the init's pid here (atomically), or NULL */
        const char *console_socket; /* unix socket to receive the pty master, or NULL */
        bool no_pivot;              /* MS_MOVE + chroot instead of pivot_root */
        bool no_new_keyring;        /* keep the caller's session keyring */
        int preserve_fds;           /* pass fds 3 .. 3+N-1 on to the process */
        /* Socket activation: the caller's fds 3 .. 3+N-1 (before the preserved
         * ones) go to the process with LISTEN_FDS=N and LISTEN_PID set to its pid. */
        int listen_fds;
        /* An sd_notify socket (NOTIFY_SOCKET): berth binds a socket into the
         * container at /run/notify/notify.sock and, once the container says
         * READY=1, passes READY=1 and MAINPID on to this one; or NULL. */
        const char *notify_socket;
        /* Exit reports (README "Beyond runc and crun"): fork a monitor that
         * becomes the init's parent, waits for it, writes its exit report
         * into the state dir (berth_state.exit) and exits with it.  For a
         * detached container (create, run -d); in the foreground berth
         * itself is the parent and `keep` keeps the report. */
        bool monitor;
        /* Also write the exit report as JSON to this file, atomically, once
         * the init has ended (implies `monitor` for a detached container). */
        const char *exit_file;
        /* A berth extension the kernel cannot provide (a berth.landlock.*
         * ruleset) is a warning, through the context, not an error. */
        bool ignore_unsupported;
};

/* Create: set everything up and leave the init waiting for berth_start(). */
BERTH_EXPORT int berth_create(berth_context *ctx, const char *id, const berth_bundle *bundle,
                              const struct berth_create_options *opts, berth_error **err);
BERTH_EXPORT int berth_start(berth_context *ctx, const char *id, berth_error **err);

/* How a container's init ended. */
struct berth_exit_status {
        int exit_code;   /* the shell convention: code, 128+signal, 137 for an OOM kill */
        int signal;      /* the terminating signal, or 0 */
        bool oom_killed; /* the OOM killer killed a process of the container while it ran
                          * (Docker's OOMKilled); exit_code is 137 when that was the init */
};

/* What berth keeps of a container's end (README "Exit reports"): how its
 * init ended, and what its cgroup counted, read before the cgroup goes. */
struct berth_exit_report {
        struct berth_exit_status status;
        int64_t peak_memory; /* bytes (memory.peak, v1 memory.max_usage_in_bytes); -1 when unknown */
        int64_t cpu_time_ns; /* all its processes' (cpu.stat usage_usec, v1 cpuacct.usage); -1 unknown */
        char *started_at;    /* RFC 3339: when its program was started; NULL when it never was */
        char *finished_at;   /* RFC 3339: when the init ended */
};

/* Called once the container's process exists, before it executes the
 * user's program; `pid` is its pid as seen by the caller. */
typedef void (*berth_start_cb)(void *data, const char *id, int pid);

struct berth_run_options {
        struct berth_create_options create;
        bool detach;          /* return once started; do not wait */
        bool forward_signals; /* relay the caller's signals to the container */
        bool keep;            /* do not delete the container after it exits in the foreground */
        berth_start_cb on_start;
        void *on_start_data;
};

/* Run = create + start.  Unless detached, waits for the init to end, fills
 * `status`, and deletes the container (unless `keep`).  With
 * process.terminal and no console socket, the foreground proxies the
 * caller's fds 0 and 1 to the container's terminal (raw mode while it runs
 * when fd 0 is a terminal, window size changes passed on). */
BERTH_EXPORT int berth_run(berth_context *ctx, const char *id, const berth_bundle *bundle,
                           const struct berth_run_options *opts, struct berth_exit_status *status,
                           berth_error **err);

/* Dry run (a berth extension): the ordered plan of what berth_create (or
 * berth_run, with `opts` as it would get them) would do with `bundle` —
 * state, cgroup directories and every value written to their files,
 * namespaces (new, or joined by path), id maps, network, each mount with its
 * flags and propagation, devices, hooks at their moments, the five capability
 * sets, a seccomp summary — without doing any of it: nothing is created,
 * mounted or written (not even the seccomp cache).  It fails as create would
 * for what create checks before it makes anything, and for a cgroup file the
 * host lacks.  As text for people (a line per step under its phase), or as
 * JSON {"id","command","bundle","rootfs","root","steps":[{"phase","action",
 * "text",…}]}, steps in order; the caller frees it. */
enum berth_plan_command { BERTH_PLAN_CREATE, BERTH_PLAN_RUN };
BERTH_EXPORT char *berth_plan(berth_context *ctx, const char *id, const berth_bundle *bundle,
                              enum berth_plan_command cmd, const struct berth_run_options *opts,
                              enum berth_format format, berth_error **err);

/* Exec: a new process in a running container.  Without `process_file` it is
 * the container's own process (its config.json as saved at create: env, cwd,
 * user, capabilities, rlimits, no_new_privs, oomScoreAdj) running `args`;
 * with it, the OCI process object in that file.  Either way the fields set
 * below override it.  The process joins every namespace and the cgroup of
 * the container and gets its seccomp filter. */
struct berth_exec_options {
        const char *process_file;    /* an OCI process JSON, or NULL */
        char *const *args;           /* NULL-terminated; required without process_file */
        bool tty;                    /* allocate a terminal (process.terminal = true) */
        const char *console_socket;  /* send the pty master here (with `detach`) */
        const char *cwd;             /* or NULL */
        char *const *env;            /* "KEY=value" entries replacing the same keys, or NULL */
        bool set_uid, set_gid;       /* override process.user.uid / gid */
        uint32_t uid, gid;
        const uint32_t *additional_gids; /* appended to process.user.additionalGids */
        size_t n_additional_gids;
        char *const *caps;           /* capability names added to the bounding, effective and permitted
                                      * sets (and ambient when inheritable is not empty) */
        bool no_new_privs;           /* set no_new_privs (never clears it) */
        const char *apparmor_profile; /* or NULL */
        const char *process_label;   /* SELinux label, or NULL */
        bool detach;                 /* return once the process runs */
        const char *pid_file;        /* write its pid here (atomically), or NULL */
        int preserve_fds;            /* pass fds 3 .. 3+N-1 on to the process */
        bool ignore_paused;          /* exec into a paused container too */
        char *const *cgroups;        /* sub-cgroups to run in: "path" or "ctrl[,ctrl]:path", relative
                                      * to the container's cgroup; or NULL */
        bool forward_signals;        /* relay the caller's signals to the process */
        berth_start_cb on_start;     /* called with the process's pid before it executes */
        void *on_start_data;
};

/* Unless detached, waits for the process and fills `status`.  A foreground
 * terminal without a console socket is proxied to the caller's fds 0 and 1. */
BERTH_EXPORT int berth_exec(berth_context *ctx, const char *id, const struct berth_exec_options *opts,
                            struct berth_exit_status *status, berth_error **err);

/* Signal the init, or with `all` every process in the container's cgroup. */
BERTH_EXPORT int berth_kill(berth_context *ctx, const char *id, int signal, bool all, berth_error **err);

/* Stop a container: send `signal` (0: SIGTERM) to its init, wait up to
 * `timeout_ms` for it to end, then kill every process left in its cgroup
 * (cgroup.kill, or on cgroup v1 freeze + kill + thaw, so that none escapes
 * by forking) and wait until they are gone.  A created container (its
 * program never ran) is killed at once; a paused one is thawed after the
 * signal, to act on it; a stopped one only has what is left killed.  With a
 * monitor, returns once its exit report is written. */
BERTH_EXPORT int berth_stop(berth_context *ctx, const char *id, int signal, unsigned timeout_ms,
                            berth_error **err);

/* Remove a stopped container; `force` kills a live one first and succeeds
 * when the container does not exist. */
BERTH_EXPORT int berth_delete(berth_context *ctx, const char *id, bool force, berth_error **err);

/* Checkpoint and restore with CRIU (the `criu` binary), runc's options.
 * `image_path` is required; `work_path` (CRIU's work files and dump.log /
 * restore.log) defaults to it. */
struct berth_checkpoint_options {
        const char *image_path;          /* CRIU's images (made if missing) */
        const char *work_path;           /* or NULL: image_path */
        const char *parent_path;         /* images of a previous pre-dump, or NULL */
        bool leave_running;              /* keep the container running after the dump */
        bool tcp_established, ext_unix_sk, shell_job, file_locks;
        bool pre_dump;                   /* memory only, the container keeps running */
        bool auto_dedup, lazy_pages;
        const char *page_server;         /* IP:port of a page server, or NULL */
        int status_fd;                   /* with lazy_pages: CRIU writes \0 there when ready; -1 for none */
        const char *manage_cgroups_mode; /* soft (NULL), full, strict, ignore */
        char *const *empty_ns;           /* namespaces CRIU makes empty ("network"), NULL-terminated, or NULL */
        const char *criu;                /* the criu binary, or NULL: `criu` from $PATH */
};
/* Dump a running (or paused) container's processes into image_path.  Unless
 * `leave_running` or `pre_dump`, the container is gone afterwards (its
 * processes ended by CRIU, its cgroup and state removed), as with runc.  A
 * CRIU failure names CRIU's last errors and its log, and leaves the
 * container as it was. */
BERTH_EXPORT int berth_checkpoint(berth_context *ctx, const char *id, const struct berth_checkpoint_options *opts,
                                  berth_error **err);

struct berth_restore_options {
        struct berth_checkpoint_options criu; /* image_path, work_path, the CRIU flags, criu */
        const char *pid_file;                 /* write the restored init's pid here, or NULL */
        const char *console_socket;           /* not supported yet (terminals) */
        bool detach;                          /* return once restored; else wait, relay signals, delete */
        const char *lsm_profile;              /* "apparmor:PROFILE" / "selinux:LABEL", or NULL */
        const char *lsm_mount_context;        /* or NULL */
};
/* Make container `id` from `bundle` and the images of a checkpoint: its
 * cgroup and resources as create makes them, its processes restored by CRIU
 * into them.  Unless detached, waits like berth_run and fills `status`. */
BERTH_EXPORT int berth_restore(berth_context *ctx, const char *id, const berth_bundle *bundle,
                               const struct berth_restore_options *opts, struct berth_exit_status *status,
                               berth_error **err);

/* ---- resources and cgroup control ----------------------------------------
 * Each works on cgroup v1, v2 and hybrid hosts alike. */

/* Change the resources of a created, running or paused container.
 * `resources_json` is a LinuxResources object (config.json's
 * linux.resources, as `runc update --resources` reads it); what it leaves
 * out stays as it is, and zeros mean "unchanged" the way Docker sends them.
 * The device list cannot be changed. */
BERTH_EXPORT int berth_update(berth_context *ctx, const char *id, const char *resources_json,
                              berth_error **err);
/* Freeze every process of a running container (v1 freezer, v2
 * cgroup.freeze) / thaw a paused one.  A paused container's status is
 * BERTH_PAUSED; SIGKILL through berth_kill and berth_delete(force) thaw it
 * so that it can die. */
BERTH_EXPORT int berth_pause(berth_context *ctx, const char *id, berth_error **err);
BERTH_EXPORT int berth_resume(berth_context *ctx, const char *id, berth_error **err);
/* Every process in the container's cgroup (host pids, sorted, unique).
 * *pids is malloc'd for the caller (free()), NULL when *n is 0. */
BERTH_EXPORT int berth_pids(berth_context *ctx, const char *id, int **pids, size_t *n, berth_error **err);
/* Resource usage of a live container as JSON text: the `data` object of
 * runc's `events --stats` ({"cpu":…,"cpuset":…,"memory":{"usage":…,"swap":…,
 * "kernel":…,"kernelTCP":…,"raw":…},"pids":…,"blkio":…,"hugetlb":…}), with
 * runc's field names.  The caller free()s it. */
BERTH_EXPORT char *berth_stats(berth_context *ctx, const char *id, berth_error **err);

/* OOM notification: a watch on the container's memory cgroup.  Its fd
 * (owned by the watch, valid until berth_oom_watch_free) polls readable
 * when the OOM killer strikes; berth_oom_watch_read then returns how many
 * OOM events happened since the last read (0 for none, e.g. when the
 * cgroup went away).  Fails when the host has no memory controller. */
typedef struct berth_oom_watch berth_oom_watch;
BERTH_EXPORT berth_oom_watch *berth_oom_watch_new(berth_context *ctx, const char *id, berth_error **err);
BERTH_EXPORT int berth_oom_watch_fd(const berth_oom_watch *watch);
BERTH_EXPORT int berth_oom_watch_read(berth_oom_watch *watch);
BERTH_EXPORT void berth_oom_watch_free(berth_oom_watch *watch);

enum berth_event_type {
        BERTH_EVENT_STATS, /* stats_json holds what berth_stats returns */
        BERTH_EVENT_OOM,   /* the OOM killer struck; stats_json is NULL */
};
struct berth_event {
        enum berth_event_type type;
        const char *id;
        const char *stats_json; /* owned by the library, valid during the callback */
};
/* Return 0 to go on, anything else to stop the stream. */
typedef int (*berth_event_cb)(void *data, const struct berth_event *event);
/* Stream a live container's events: stats at once and then every
 * `interval_ms` (none when 0), and an OOM event whenever the OOM killer
 * strikes, until the container's init exits (returns 0) or the callback
 * stops it (returns 1); < 0 on error. */
BERTH_EXPORT int berth_events(berth_context *ctx, const char *id, unsigned interval_ms, berth_event_cb cb,
                              void *data, berth_error **err);

enum berth_status {
        BERTH_CREATING,
        BERTH_CREATED,
        BERTH_RUNNING,
        BERTH_PAUSED,
        BERTH_STOPPED,
};
BERTH_EXPORT const char *berth_status_name(enum berth_status status);

/* The OCI state of a container, its status derived from the live init. */
struct berth_state {
        char *id;
        char *bundle;
        char *rootfs;
        char *created; /* RFC 3339 */
        char *owner;
        enum berth_status status;
        int pid;            /* 0 when stopped */
        char **annotations; /* key, value, key, value, ..., NULL */
        /* A stopped container's exit report (create/run -d with `monitor`,
         * run with `keep`), or NULL; in the JSON as "berth": {"exit": {...}}. */
        struct berth_exit_report *exit;
};

BERTH_EXPORT int berth_state_get(berth_context *ctx, const char *id, struct berth_state *state,
                                 berth_error **err);
BERTH_EXPORT void berth_state_clear(struct berth_state *state);
/* The state as the OCI state JSON document (pretty when `pretty`). */
BERTH_EXPORT char *berth_state_json(const struct berth_state *state, bool pretty);

/* The ids of every container under the context's root, sorted; the array
 * and its strings belong to the caller (free with berth_strv_free). */
BERTH_EXPORT int berth_list(berth_context *ctx, char ***ids, berth_error **err);
BERTH_EXPORT void berth_strv_free(char **strv);

/* Check a container id: no `/`, not `.`/`..`, at most 1024 bytes, not empty. */
BERTH_EXPORT int berth_id_check(const char *id, berth_error **err);

#ifdef __cplusplus
}
#endif
#endif
