/* Unit tests for linux.seccomp (src/lib/seccomp.c): parsing into typed
 * rules, the errors that name the entry, the compiled-filter cache, the
 * filter's behaviour (loaded in a forked child), and the listener handover. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <seccomp.h>

#include "seccomp_filter.h"

static struct spec_seccomp *parse_ok(const char *text)
{
        json_error_t jerr;
        json_t *v = json_loads(text, 0, &jerr);
        if (!v)
                fail_msg("bad test JSON: %s: %s", text, jerr.text);
        berth_error *err = NULL;
        struct spec_seccomp *sc = NULL;
        if (seccomp_spec_parse(v, &sc, &err) < 0)
                fail_msg("%s\n  failed: %s", text, berth_error_message(err));
        json_decref(v);
        return sc;
}

static char *parse_error(const char *text)
{
        json_t *v = json_loads(text, 0, NULL);
        assert_non_null(v);
        berth_error *err = NULL;
        struct spec_seccomp *sc = NULL;
        int r = seccomp_spec_parse(v, &sc, &err);
        json_decref(v);
        if (r == 0) {
                seccomp_spec_free(sc);
                fail_msg("%s\n  parsed; wanted an error", text);
        }
        assert_null(sc);
        char *msg = xstrdup(berth_error_message(err));
        berth_error_free(err);
        return msg;
}

/* ---- parsing ------------------------------------------------------------- */

static void test_parse_all_fields(void **state)
{
        (void)state;
        struct spec_seccomp *sc =
                parse_ok("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                         "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_AARCH64\"],"
                         "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\","
                         "\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
                         "\"listenerPath\":\"/run/agent.sock\",\"listenerMetadata\":\"meta\","
                         "\"syscalls\":["
                         "{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                         "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"},"
                         "{\"names\":[\"rmdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":28},"
                         "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":7},"
                         "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_KILL\"},"
                         "{\"names\":[\"tkill\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"},"
                         "{\"names\":[\"tgkill\"],\"action\":\"SCMP_ACT_KILL_THREAD\"},"
                         "{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_TRAP\"},"
                         "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_LOG\"},"
                         "{\"names\":[\"mknod\"],\"action\":\"SCMP_ACT_NOTIFY\"},"
                         "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":["
                         "{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"},"
                         "{\"index\":1,\"value\":255,\"valueTwo\":3,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}");
        assert_int_equal(sc->default_action, SCMP_ACT_ERRNO(38));
        assert_int_equal(sc->n_arches, 3);
        assert_int_equal(sc->arches[0], SCMP_ARCH_X86_64);
        assert_int_equal(sc->arches[1], SCMP_ARCH_X86);
        assert_int_equal(sc->arches[2], SCMP_ARCH_AARCH64);
        assert_int_equal(sc->flags, (1u << 1) | (1u << 2) | (1u << 0) | (1u << 5));
        assert_string_equal(sc->listener_path, "/run/agent.sock");
        assert_string_equal(sc->listener_metadata, "meta");
        assert_true(sc->notify);
        assert_int_equal(sc->n_rules, 11);
        assert_string_equal(sc->rules[0].names[1], "write");
        assert_null(sc->rules[0].names[2]);
        uint32_t want[] = {SCMP_ACT_ALLOW, SCMP_ACT_ERRNO(EPERM), SCMP_ACT_ERRNO(28),   SCMP_ACT_TRACE(7),
                           SCMP_ACT_KILL,  SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP,
                           SCMP_ACT_LOG,   SCMP_ACT_NOTIFY,       SCMP_ACT_ALLOW};
        for (size_t i = 0; i < 11; i++)
                assert_int_equal(sc->rules[i].action, want[i]);
        const struct seccomp_rule *r = &sc->rules[10];
        assert_int_equal(r->n_args, 2);
        assert_int_equal(r->args[0].index, 0);
        assert_int_equal(r->args[0].value, 8);
        assert_int_equal(r->args[0].op, SCMP_CMP_EQ);
        assert_int_equal(r->args[1].index, 1);
        assert_int_equal(r->args[1].value, 255);
        assert_int_equal(r->args[1].value_two, 3);
        assert_int_equal(r->args[1].op, SCMP_CMP_MASKED_EQ);
        assert_null(sc->prog);
        seccomp_spec_free(sc);
}

static void test_parse_every_op(void **state)
{
        (void)state;
        static const char *const names[] = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                                            "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
        static const int ops[] = {SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE,       SCMP_CMP_EQ,
                                  SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ};
        for (size_t i = 0; i < 7; i++) {
                _cleanup_free_ char *text = xasprintf(
                        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
                        "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":5,\"value\":1,\"op\":\"%s\"}]}]}",
                        names[i]);
                struct spec_seccomp *sc = parse_ok(text);
                assert_int_equal(sc->rules[0].args[0].op, ops[i]);
                assert_int_equal(sc->rules[0].args[0].index, 5);
                seccomp_spec_free(sc);
        }
}

static void test_parse_absent_or_empty(void **state)
{
        (void)state;
        berth_error *err = NULL;
        struct spec_seccomp *sc = (void *)1;
        assert_int_equal(seccomp_spec_parse(NULL, &sc, &err), 0);
        assert_null(sc);
        json_t *empty = json_object();
        assert_int_equal(seccomp_spec_parse(empty, &sc, &err), 0);
        assert_null(sc);
        json_decref(empty);
        assert_null(err);
}

static const struct {
        const char *text, *msg;
} error_cases[] = {
        {"[]", "linux.seccomp: expected an object"},
        {"{\"syscalls\":[]}", "linux.seccomp.defaultAction: required"},
        {"{\"defaultAction\":1}", "linux.seccomp.defaultAction: expected a string"},
        {"{\"defaultAction\":\"SCMP_ACT_BOGUS\"}",
         "linux.seccomp.defaultAction: unknown action `SCMP_ACT_BOGUS`"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":1}",
         "linux.seccomp.defaultErrnoRet: not allowed with action `SCMP_ACT_ALLOW`"},
        {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":-1}",
         "linux.seccomp.defaultErrnoRet: expected a non-negative integer"},
        {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":4096}",
         "linux.seccomp.defaultErrnoRet: expected an integer between 0 and 4095"},
        {"{\"defaultAction\":\"SCMP_ACT_NOTIFY\",\"listenerPath\":\"/x\"}",
         "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action: berth hands the "
         "listener over with a system call of its own"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_PDP11\"]}",
         "linux.seccomp.architectures[0]: unknown architecture `SCMP_ARCH_PDP11`"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":\"SCMP_ARCH_X86\"}",
         "linux.seccomp.architectures: expected an array"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\",\"FAST\"]}",
         "linux.seccomp.flags[1]: unknown flag `FAST`"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}",
         "linux.seccomp.syscalls: expected an array"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_KILL\"}]}",
         "linux.seccomp.syscalls[0].names: expected a non-empty array of strings"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_KILL\"}]}",
         "linux.seccomp.syscalls[0].names: expected a non-empty array of strings"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"]}]}",
         "linux.seccomp.syscalls[0].action: required"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
         "KILL\"},"
         "{\"names\":[\"write\"],\"action\":\"KILL\"}]}",
         "linux.seccomp.syscalls[1].action: unknown action `KILL`"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
         "KILL\","
         "\"errnoRet\":1}]}",
         "linux.seccomp.syscalls[0].errnoRet: not allowed with action `SCMP_ACT_KILL`"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
         "ERRNO\","
         "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_ALMOST\"}]}]}",
         "linux.seccomp.syscalls[0].args[0].op: unknown operator `SCMP_CMP_ALMOST`"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
         "ERRNO\","
         "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
         "linux.seccomp.syscalls[0].args[0].index: expected an integer between 0 and 5"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
         "ERRNO\","
         "\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}",
         "linux.seccomp.syscalls[0].args[0].value: required"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
         "ERRNO\","
         "\"args\":[{\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}",
         "linux.seccomp.syscalls[0].args[0].index: required"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
         "ERRNO\","
         "\"args\":[{\"index\":0,\"value\":0}]}]}",
         "linux.seccomp.syscalls[0].args[0].op: required"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mknod\"],\"action\":\"SCMP_ACT_"
         "NOTIFY\"}]}",
         "linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerMetadata\":\"m\"}",
         "linux.seccomp.listenerMetadata: requires listenerPath"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\",\"syscalls\":[{\"names\":[\"read\","
         "\"sendmsg\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
         "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY cannot be used for `sendmsg`: berth hands the listener "
         "over with it"},
};

static void test_parse_errors(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
                _cleanup_free_ char *msg = parse_error(error_cases[i].text);
                if (strcmp(msg, error_cases[i].msg) != 0)
                        fail_msg("case %zu: %s\n  got:  %s\n  want: %s", i, error_cases[i].text, msg,
                                 error_cases[i].msg);
        }
}

static void test_listener_path_too_long(void **state)
{
        (void)state;
        char path[200];
        memset(path, 'a', sizeof path - 1);
        path[0] = '/';
        path[sizeof path - 1] = '\0';
        _cleanup_free_ char *text =
                xasprintf("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\"}", path);
        _cleanup_free_ char *msg = parse_error(text);
        assert_string_equal(msg, "linux.seccomp.listenerPath: longer than 107 bytes");
}

/* ---- the cache ------------------------------------------------------------- */

struct cache_env {
        char *root;
        char log[8192];
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        return remove(path);
}

static int cache_setup(void **state)
{
        char tmpl[] = "/tmp/berth-test-seccomp-XXXXXX";
        if (!mkdtemp(tmpl))
                return -1;
        struct cache_env *e = xzalloc(sizeof *e);
        e->root = xstrdup(tmpl);
        *state = e;
        return 0;
}

static int cache_teardown(void **state)
{
        struct cache_env *e = *state;
        chmod(e->root, 0700);
        int r = nftw(e->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(e->root);
        free(e);
        return r;
}

static void log_line(void *data, const char *msg)
{
        struct cache_env *e = data;
        size_t n = strlen(e->log);
        snprintf(e->log + n, sizeof e->log - n, "%s\n", msg);
}

#define PROFILE_A                                                                                            \
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\",\"no_such_call\"],"     \
        "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":99}]}"
#define PROFILE_B                                                                                            \
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\",\"no_such_call\"],"     \
        "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":98}]}"

/* Parse `text` and prepare it against the cache; the log of this call only. */
static struct spec_seccomp *prepare(struct cache_env *e, const char *text)
{
        struct spec_seccomp *sc = parse_ok(text);
        berth_error *err = NULL;
        e->log[0] = '\0';
        if (seccomp_filter_prepare(sc, e->root, log_line, e, &err) < 0)
                fail_msg("prepare: %s", berth_error_message(err));
        assert_non_null(sc->prog);
        assert_true(sc->prog_len > 0);
        return sc;
}

static char *entry_path(struct cache_env *e, const struct spec_seccomp *sc)
{
        _cleanup_free_ char *name = seccomp_filter_cache_name(sc);
        return xasprintf("%s/" SECCOMP_CACHE_DIR "/%s", e->root, name);
}

static void test_cache_hit(void **state)
{
        struct cache_env *e = *state;
        struct spec_seccomp *first = prepare(e, PROFILE_A);
        assert_non_null(strstr(e->log, "seccomp: compiled filter ("));
        assert_non_null(strstr(e->log, "1 unknown syscall names skipped"));
        assert_non_null(strstr(e->log, "seccomp: filter cached as `"));
        _cleanup_free_ char *path = entry_path(e, first);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        _cleanup_free_ char *dir = xasprintf("%s/" SECCOMP_CACHE_DIR, e->root);
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);

        struct spec_seccomp *second = prepare(e, PROFILE_A);
        assert_non_null(strstr(e->log, "seccomp: filter loaded from cache `"));
        assert_null(strstr(e->log, "compiled"));
        assert_int_equal(second->prog_len, first->prog_len);
        assert_memory_equal(second->prog, first->prog, first->prog_len * sizeof *first->prog);
        seccomp_spec_free(first);
        seccomp_spec_free(second);
}

static void test_cache_key_follows_rules(void **state)
{
        struct cache_env *e = *state;
        struct spec_seccomp *a = prepare(e, PROFILE_A);
        struct spec_seccomp *b = prepare(e, PROFILE_B);
        /* One changed errnoRet: another key, compiled afresh, another program. */
        assert_non_null(strstr(e->log, "seccomp: compiled filter ("));
        _cleanup_free_ char *na = seccomp_filter_cache_name(a);
        _cleanup_free_ char *nb = seccomp_filter_cache_name(b);
        assert_string_not_equal(na, nb);
        assert_true(a->prog_len != b->prog_len ||
                    memcmp(a->prog, b->prog, a->prog_len * sizeof *a->prog) != 0);
        /* Key order and spacing do not matter: the section is canonical JSON. */
        struct spec_seccomp *c =
                prepare(e, "{ \"syscalls\" : [{\"errnoRet\":99,\"action\":\"SCMP_ACT_ERRNO\","
                           "\"names\":[\"getppid\",\"no_such_call\"]}],"
                           "\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
        assert_non_null(strstr(e->log, "loaded from cache"));
        seccomp_spec_free(a);
        seccomp_spec_free(b);
        seccomp_spec_free(c);
}

static void corrupt_and_check(struct cache_env *e, void (*damage)(const char *path), const char *why)
{
        struct spec_seccomp *good = prepare(e, PROFILE_A);
        _cleanup_free_ char *path = entry_path(e, good);
        damage(path);
        struct spec_seccomp *again = prepare(e, PROFILE_A);
        if (!strstr(e->log, why) || !strstr(e->log, ": rebuilding") || !strstr(e->log, "compiled filter"))
                fail_msg("log: %s\nwanted: %s", e->log, why);
        assert_int_equal(again->prog_len, good->prog_len);
        assert_memory_equal(again->prog, good->prog, good->prog_len * sizeof *good->prog);
        /* Rebuilt: the next one loads again. */
        struct spec_seccomp *third = prepare(e, PROFILE_A);
        assert_non_null(strstr(e->log, "loaded from cache"));
        seccomp_spec_free(good);
        seccomp_spec_free(again);
        seccomp_spec_free(third);
}

static void flip_last_byte(const char *path)
{
        size_t len;
        _cleanup_free_ char *data = read_file_at(AT_FDCWD, path, &len);
        assert_non_null(data);
        data[len - 1] ^= 0x40;
        assert_int_equal(write_file_at(AT_FDCWD, path, data, len, 0600), 0);
}

static void truncate_file(const char *path)
{
        assert_int_equal(truncate(path, 20), 0);
}

/* A well-formed entry whose checksum is right but whose key is another's:
 * what a hash collision or a stale file would look like. */
static void replace_with_other_key(const char *path)
{
        size_t len;
        _cleanup_free_ char *data = read_file_at(AT_FDCWD, path, &len);
        assert_non_null(data);
        char *key = data + 32;
        char *pos = strstr(key, "\"errnoRet\":99");
        assert_non_null(pos);
        pos[12] = '7';
        /* Recompute the FNV-1a checksum the way the cache does. */
        uint64_t key_len, prog_len, h = 0xcbf29ce484222325ULL;
        memcpy(&key_len, data + 8, 8);
        memcpy(&prog_len, data + 16, 8);
        for (size_t i = 0; i < key_len + prog_len * 8; i++) {
                h ^= (unsigned char)key[i];
                h *= 0x100000001b3ULL;
        }
        memcpy(data + 24, &h, 8);
        assert_int_equal(write_file_at(AT_FDCWD, path, data, len, 0600), 0);
}

static void test_cache_corrupt(void **state)
{
        corrupt_and_check(*state, flip_last_byte, "is corrupt (checksum mismatch): rebuilding");
}

static void test_cache_truncated(void **state)
{
        corrupt_and_check(*state, truncate_file, "is corrupt (truncated or bad header): rebuilding");
}

static void test_cache_stale(void **state)
{
        corrupt_and_check(*state, replace_with_other_key,
                          "is stale (made for another profile, libseccomp or kernel): rebuilding");
}

static void test_cache_dir_not_private(void **state)
{
        struct cache_env *e = *state;
        _cleanup_free_ char *dir = xasprintf("%s/" SECCOMP_CACHE_DIR, e->root);
        assert_int_equal(mkdir(dir, 0700), 0);
        assert_int_equal(chmod(dir, 0777), 0);
        struct spec_seccomp *sc = prepare(e, PROFILE_A);
        assert_non_null(
                strstr(e->log, "unusable (not owned by us or writable by others): compiling without it"));
        _cleanup_free_ char *path = entry_path(e, sc);
        assert_int_equal(access(path, F_OK), -1);
        seccomp_spec_free(sc);
}

static void test_cache_root_unusable(void **state)
{
        struct cache_env *e = *state;
        struct spec_seccomp *sc = parse_ok(PROFILE_A);
        /* A root that cannot be made: compiled all the same. */
        _cleanup_free_ char *file = xasprintf("%s/file", e->root);
        assert_int_equal(write_file_at(AT_FDCWD, file, "", 0, 0600), 0);
        _cleanup_free_ char *root = xasprintf("%s/root", file);
        berth_error *err = NULL;
        e->log[0] = '\0';
        assert_int_equal(seccomp_filter_prepare(sc, root, log_line, e, &err), 0);
        assert_non_null(strstr(e->log, "unusable (Not a directory): compiling without it"));
        assert_non_null(sc->prog);
        seccomp_spec_free(sc);
        /* A root not made yet is made (0700), as the state root would be. */
        sc = parse_ok(PROFILE_A);
        _cleanup_free_ char *fresh = xasprintf("%s/fresh/root", e->root);
        e->log[0] = '\0';
        assert_int_equal(seccomp_filter_prepare(sc, fresh, log_line, e, &err), 0);
        assert_non_null(strstr(e->log, "filter cached as"));
        struct stat st;
        assert_int_equal(stat(fresh, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        seccomp_spec_free(sc);
}

/* ---- the filter's behaviour ------------------------------------------------ */

/* In a child: load the filter and call getppid with each argument; exit 0 when
 * every result is as wanted, else 1 + the index of the first that was not. */
static int run_filter(struct cache_env *e, const char *text, const uint64_t *args, const int *want_errno,
                      size_t n)
{
        struct spec_seccomp *sc = prepare(e, text);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                berth_error *err = NULL;
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_filter_load(sc, &err) < 0)
                        _exit(100);
                /* exit_group itself: the sanitizers' _exit would make calls the filter denies. */
                for (size_t i = 0; i < n; i++) {
                        errno = 0;
                        long r = syscall(SYS_getppid, args[i], 0, 0, 0, 0, 0);
                        int got = r < 0 ? errno : 0;
                        if (got != want_errno[i])
                                syscall(SYS_exit_group, (int)(1 + i));
                }
                syscall(SYS_exit_group, 0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        seccomp_spec_free(sc);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

#define OP_RULE(op, value, value2)                                                                           \
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"                      \
        "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":99,\"args\":[{\"index\":0,\"value\":" #value             \
        ",\"valueTwo\":" #value2 ",\"op\":\"" op "\"}]}]}"

static void test_filter_ops(void **state)
{
        struct cache_env *e = *state;
        uint64_t args[] = {9, 10, 11};
        struct {
                const char *text;
                int want[3];
        } cases[] = {
                {OP_RULE("SCMP_CMP_NE", 10, 0), {99, 0, 99}},
                {OP_RULE("SCMP_CMP_LT", 10, 0), {99, 0, 0}},
                {OP_RULE("SCMP_CMP_LE", 10, 0), {99, 99, 0}},
                {OP_RULE("SCMP_CMP_EQ", 10, 0), {0, 99, 0}},
                {OP_RULE("SCMP_CMP_GE", 10, 0), {0, 99, 99}},
                {OP_RULE("SCMP_CMP_GT", 10, 0), {0, 0, 99}},
                /* (arg & 3) == 1: 9 = 0b1001 and not 10, 11. */
                {OP_RULE("SCMP_CMP_MASKED_EQ", 3, 1), {99, 0, 0}},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                int r = run_filter(e, cases[i].text, args, cases[i].want, 3);
                if (r != 0)
                        fail_msg("case %zu (%s): result %d", i, cases[i].text, r);
        }
}

static void test_filter_default_and_repeated_index(void **state)
{
        struct cache_env *e = *state;
        /* Default errno 38 for everything not allowed; two conditions on one
         * argument become two rules, either of which allows. */
        const char *text =
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"syscalls\":[{\"names\":["
                "\"getppid\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,\"op\":"
                "\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":5,\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":[\"exit_"
                "group\","
                "\"exit\"],\"action\":\"SCMP_ACT_ALLOW\"}]}";
        uint64_t args[] = {1, 5, 3};
        int want[] = {0, 0, 38};
        assert_int_equal(run_filter(e, text, args, want, 3), 0);
}

/* ---- the listener ----------------------------------------------------------- */

static void test_listener_send(void **state)
{
        struct cache_env *e = *state;
        _cleanup_free_ char *path = xasprintf("%s/agent.sock", e->root);
        _cleanup_free_ char *text =
                xasprintf("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\","
                          "\"listenerMetadata\":\"hello\",\"syscalls\":[{\"names\":[\"mknod\"],"
                          "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                          path);
        struct spec_seccomp *sc = parse_ok(text);
        int srv = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
        assert_int_equal(bind(srv, (struct sockaddr *)&sun, sizeof sun), 0);
        assert_int_equal(listen(srv, 1), 0);
        int pipefd[2];
        assert_int_equal(pipe(pipefd), 0);
        char *ann[] = {"k", "v", NULL};
        struct seccomp_state st = {
                .id = "c1", .bundle = "/b", .status = "creating", .annotations = ann, .pid = 4242};
        berth_error *err = NULL;
        assert_int_equal(seccomp_listener_send(sc, pipefd[1], &st, &err), 0);
        int conn = accept(srv, NULL, NULL);
        assert_true(conn >= 0);
        char buf[4096] = {0};
        union {
                char c[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } cbuf;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
        struct msghdr m = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.c, .msg_controllen = sizeof cbuf};
        ssize_t n = recvmsg(conn, &m, 0);
        assert_true(n > 0);
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        assert_non_null(h);
        assert_int_equal(h->cmsg_type, SCM_RIGHTS);
        int got;
        memcpy(&got, CMSG_DATA(h), sizeof got);
        /* The fd is the pipe's write end: what is written arrives. */
        assert_int_equal(write(got, "x", 1), 1);
        char c;
        assert_int_equal(read(pipefd[0], &c, 1), 1);
        json_t *doc = json_loads(buf, 0, NULL);
        assert_non_null(doc);
        assert_string_equal(json_string_value(json_object_get(doc, "ociVersion")), BERTH_OCI_VERSION);
        assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "fds"), 0)), "seccompFd");
        assert_int_equal(json_integer_value(json_object_get(doc, "pid")), 4242);
        assert_string_equal(json_string_value(json_object_get(doc, "metadata")), "hello");
        json_t *state_ = json_object_get(doc, "state");
        assert_string_equal(json_string_value(json_object_get(state_, "id")), "c1");
        assert_string_equal(json_string_value(json_object_get(state_, "status")), "creating");
        assert_int_equal(json_integer_value(json_object_get(state_, "pid")), 4242);
        assert_string_equal(json_string_value(json_object_get(state_, "bundle")), "/b");
        assert_string_equal(json_string_value(json_object_get(json_object_get(state_, "annotations"), "k")),
                            "v");
        json_decref(doc);
        /* One state per connection, then closed. */
        assert_int_equal(recv(conn, buf, sizeof buf, 0), 0);
        close(got);
        close(conn);
        close(srv);
        close(pipefd[0]);
        close(pipefd[1]);
        seccomp_spec_free(sc);
}

static void test_listener_unreachable(void **state)
{
        struct cache_env *e = *state;
        _cleanup_free_ char *text =
                xasprintf("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s/none\","
                          "\"syscalls\":[{\"names\":[\"mknod\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                          e->root);
        struct spec_seccomp *sc = parse_ok(text);
        struct seccomp_state st = {.id = "c1", .bundle = "/b", .status = "creating", .pid = 1};
        berth_error *err = NULL;
        assert_true(seccomp_listener_send(sc, 0, &st, &err) < 0);
        _cleanup_free_ char *want = xasprintf("linux.seccomp.listenerPath: connect to `%s/none`", e->root);
        assert_string_equal(berth_error_message(err), want);
        assert_int_equal(berth_error_errno(err), ENOENT);
        berth_error_free(err);
        seccomp_spec_free(sc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_all_fields),
                cmocka_unit_test(test_parse_every_op),
                cmocka_unit_test(test_parse_absent_or_empty),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_listener_path_too_long),
                cmocka_unit_test_setup_teardown(test_cache_hit, cache_setup, cache_teardown),
                cmocka_unit_test_setup_teardown(test_cache_key_follows_rules, cache_setup, cache_teardown),
                cmocka_unit_test_setup_teardown(test_cache_corrupt, cache_setup, cache_teardown),
                cmocka_unit_test_setup_teardown(test_cache_truncated, cache_setup, cache_teardown),
                cmocka_unit_test_setup_teardown(test_cache_stale, cache_setup, cache_teardown),
                cmocka_unit_test_setup_teardown(test_cache_dir_not_private, cache_setup, cache_teardown),
                cmocka_unit_test_setup_teardown(test_cache_root_unusable, cache_setup, cache_teardown),
                cmocka_unit_test_setup_teardown(test_filter_ops, cache_setup, cache_teardown),
                cmocka_unit_test_setup_teardown(test_filter_default_and_repeated_index, cache_setup,
                                                cache_teardown),
                cmocka_unit_test_setup_teardown(test_listener_send, cache_setup, cache_teardown),
                cmocka_unit_test_setup_teardown(test_listener_unreachable, cache_setup, cache_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
