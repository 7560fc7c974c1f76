/* Unit tests for config.json parsing and validation (src/lib/spec.c). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include <sched.h>

#include <cmocka.h>

#include "spec.h"

/* The smallest valid config; EXTRA_PROC goes inside `process`, EXTRA at the
 * top level.  jansson keeps the last of duplicate keys, so EXTRA may also
 * replace a member. */
#define CFG_BASE(extra_proc, extra)                                                                          \
        "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"                                          \
        "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"" extra_proc "}" extra "}"
#define CFG(extra) CFG_BASE("", extra)
#define CFG_PROC(extra_proc) CFG_BASE(extra_proc, "")
#define USERNS_MAPS                                                                                          \
        "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"                                  \
        "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]"

/* A bundle directory (canonical path) with an empty rootfs/. */
struct bundle {
        char *dir;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static int bundle_setup(void **state)
{
        char tmpl[] = "/tmp/berth-test-spec-XXXXXX";
        if (!mkdtemp(tmpl))
                return -1;
        struct bundle *b = xzalloc(sizeof *b);
        b->dir = realpath(tmpl, NULL);
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", b->dir);
        if (!b->dir || mkdir(rootfs, 0755) < 0)
                return -1;
        *state = b;
        return 0;
}

static int bundle_teardown(void **state)
{
        struct bundle *b = *state;
        int r = nftw(b->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(b->dir);
        free(b);
        return r;
}

static void write_config(const struct bundle *b, const char *text)
{
        _cleanup_free_ char *path = xasprintf("%s/config.json", b->dir);
        assert_int_equal(write_file_at(AT_FDCWD, path, text, strlen(text), 0644), 0);
}

/* Parse `text` in bundle `b`, expecting failure; returns the error as the CLI prints it. */
static char *parse_fails(const struct bundle *b, const char *text, int *errnum)
{
        berth_error *err = NULL;
        struct spec *s = spec_parse(text, b->dir, "config.json", &err);
        assert_null(s);
        assert_non_null(err);
        char *msg = error_text(err);
        if (errnum)
                *errnum = berth_error_errno(err);
        berth_error_free(err);
        return msg;
}

static struct spec *parse_ok(const struct bundle *b, const char *text)
{
        berth_error *err = NULL;
        struct spec *s = spec_parse(text, b->dir, "config.json", &err);
        if (!s)
                fail_msg("unexpected error: %s", berth_error_message(err));
        assert_null(err);
        return s;
}

static void test_minimal(void **state)
{
        struct bundle *b = *state;
        const char *text = CFG("");
        struct spec *s = parse_ok(b, text);
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", b->dir);

        assert_string_equal(s->oci_version, "1.2.0");
        assert_string_equal(s->bundle, b->dir);
        assert_string_equal(s->root_path, rootfs);
        assert_false(s->root_readonly);
        assert_null(s->hostname);
        assert_null(s->domainname);
        assert_string_equal(s->process.args[0], "sh");
        assert_null(s->process.args[1]);
        assert_non_null(s->process.env);
        assert_null(s->process.env[0]);
        assert_string_equal(s->process.cwd, "/");
        assert_int_equal(s->process.user.uid, 0);
        assert_int_equal(s->process.user.gid, 0);
        assert_false(s->process.user.has_umask);
        assert_int_equal(s->process.user.n_additional_gids, 0);
        assert_false(s->process.terminal);
        assert_false(s->process.caps.present);
        assert_false(s->process.has_oom_score_adj);
        assert_int_equal(s->n_mounts, 0);
        assert_null(s->annotations[0]);
        for (int t = 0; t < NS_COUNT; t++)
                assert_false(s->namespaces[t].present);
        assert_null(s->masked_paths[0]);
        assert_null(s->readonly_paths[0]);
        assert_null(s->cgroups_path);
        assert_int_equal(s->rootfs_propagation, 0);
        assert_string_equal(s->config_text, text);
        spec_free(s);
}

/* Every supported field set. */
#define FULL_CONFIG                                                                                          \
        "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"                        \
        "\"hostname\":\"h\",\"domainname\":\"d\",\"annotations\":{\"k1\":\"v1\",\"k2\":\"v2\"},"             \
        "\"process\":{\"terminal\":true,\"consoleSize\":{\"height\":24,\"width\":80},"                       \
        "\"args\":[\"/bin/echo\",\"hi\"],\"env\":[\"A=1\",\"B=\"],\"cwd\":\"/tmp\","                         \
        "\"user\":{\"uid\":1000,\"gid\":100,\"umask\":18,\"additionalGids\":[5,6]},"                         \
        "\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":2},"                                     \
        "{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":4096}],"                                         \
        "\"capabilities\":{\"bounding\":[\"CAP_SYS_ADMIN\",\"CAP_CHECKPOINT_RESTORE\"],"                     \
        "\"effective\":[\"CAP_CHOWN\"],\"inheritable\":[],\"permitted\":[\"CAP_KILL\"],"                     \
        "\"ambient\":[\"CAP_BPF\"]},\"noNewPrivileges\":true,\"oomScoreAdj\":-1000},"                        \
        "\"linux\":{\"namespaces\":[{\"type\":\"uts\"},{\"type\":\"user\"},"                                 \
        "{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"},{\"type\":\"time\"}]," USERNS_MAPS ","           \
        "\"cgroupsPath\":\"/a/b\",\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"],"      \
        "\"rootfsPropagation\":\"rslave\",\"devices\":[{\"type\":\"c\",\"path\":\"/dev/fuse\","              \
        "\"major\":10,\"minor\":229,\"fileMode\":438,\"uid\":0,\"gid\":0},"                                  \
        "{\"type\":\"p\",\"path\":\"/dev/fifo\"}]}}"

static void test_full_process(void **state)
{
        struct spec *s = parse_ok(*state, FULL_CONFIG);

        assert_true(s->root_readonly);
        assert_string_equal(s->hostname, "h");
        assert_string_equal(s->domainname, "d");
        assert_string_equal(s->annotations[0], "k1");
        assert_string_equal(s->annotations[1], "v1");
        assert_string_equal(s->annotations[2], "k2");
        assert_string_equal(s->annotations[3], "v2");
        assert_null(s->annotations[4]);

        struct spec_process *p = &s->process;
        assert_true(p->terminal);
        assert_int_equal(p->console_height, 24);
        assert_int_equal(p->console_width, 80);
        assert_string_equal(p->args[1], "hi");
        assert_string_equal(p->env[1], "B=");
        assert_int_equal(p->user.uid, 1000);
        assert_int_equal(p->user.gid, 100);
        assert_true(p->user.has_umask);
        assert_int_equal(p->user.umask, 022);
        assert_int_equal(p->user.n_additional_gids, 2);
        assert_int_equal(p->user.additional_gids[1], 6);
        assert_int_equal(p->n_rlimits, 2);
        assert_int_equal(p->rlimits[0].resource, RLIMIT_CORE);
        assert_int_equal(p->rlimits[1].resource, RLIMIT_NOFILE);
        assert_int_equal(p->rlimits[1].soft, 1024);
        assert_int_equal(p->rlimits[1].hard, 4096);
        assert_true(p->caps.present);
        assert_int_equal(p->caps.bounding, (1ULL << CAP_SYS_ADMIN) | (1ULL << 40));
        assert_int_equal(p->caps.effective, 1ULL << CAP_CHOWN);
        assert_int_equal(p->caps.inheritable, 0);
        assert_int_equal(p->caps.permitted, 1ULL << CAP_KILL);
        assert_int_equal(p->caps.ambient, 1ULL << 39);
        assert_true(p->no_new_privileges);
        assert_true(p->has_oom_score_adj);
        assert_int_equal(p->oom_score_adj, -1000);

        spec_free(s);
}

static void test_full_linux(void **state)
{
        struct spec *s = parse_ok(*state, FULL_CONFIG);

        assert_true(s->namespaces[NS_UTS].present);
        assert_null(s->namespaces[NS_UTS].path);
        assert_true(s->namespaces[NS_USER].present);
        assert_string_equal(s->namespaces[NS_NET].path, "/proc/1/ns/net");
        assert_true(s->namespaces[NS_TIME].present);
        assert_false(s->namespaces[NS_PID].present);
        assert_int_equal(s->n_uid_mappings, 1);
        assert_int_equal(s->uid_mappings[0].host_id, 1000);
        assert_int_equal(s->gid_mappings[0].size, 1);
        assert_string_equal(s->cgroups_path, "/a/b");
        assert_string_equal(s->masked_paths[0], "/proc/kcore");
        assert_string_equal(s->readonly_paths[0], "/proc/sys");
        assert_int_equal(s->rootfs_propagation, MS_SLAVE | MS_REC);
        assert_int_equal(s->n_devices, 2);
        assert_int_equal(s->devices[0].type, 'c');
        assert_int_equal(s->devices[0].major, 10);
        assert_int_equal(s->devices[0].minor, 229);
        assert_true(s->devices[0].has_mode);
        assert_int_equal(s->devices[0].file_mode, 0666);
        assert_true(s->devices[0].has_uid && s->devices[0].has_gid);
        assert_int_equal(s->devices[1].type, 'p');
        assert_false(s->devices[1].has_mode);
        spec_free(s);
}

static void test_default_round_trip(void **state)
{
        struct bundle *b = *state;
        _cleanup_free_ char *text = spec_default_json();
        _cleanup_free_ char *public = berth_spec_default();
        assert_string_equal(text, public);
        struct spec *s = parse_ok(b, text);

        assert_string_equal(s->oci_version, BERTH_OCI_VERSION);
        assert_true(s->root_readonly);
        assert_string_equal(s->hostname, "berth");
        assert_false(s->process.terminal);
        assert_string_equal(s->process.args[0], "sh");
        assert_null(s->process.args[1]);
        assert_true(s->process.no_new_privileges);
        assert_int_equal(s->process.n_rlimits, 1);
        assert_int_equal(s->process.rlimits[0].resource, RLIMIT_NOFILE);
        assert_int_equal(s->process.rlimits[0].soft, 1024);
        uint64_t caps = (1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_KILL) | (1ULL << CAP_NET_BIND_SERVICE);
        assert_int_equal(s->process.caps.bounding, caps);
        assert_int_equal(s->process.caps.effective, caps);
        assert_int_equal(s->process.caps.permitted, caps);
        assert_int_equal(s->process.caps.ambient, caps);
        assert_int_equal(s->process.caps.inheritable, 0);
        static const enum ns_type want[] = {NS_PID, NS_NET, NS_IPC, NS_UTS, NS_MNT, NS_CGROUP};
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
                assert_true(s->namespaces[want[i]].present);
        assert_false(s->namespaces[NS_USER].present);
        assert_false(s->namespaces[NS_TIME].present);

        assert_int_equal(s->n_mounts, 7);
        assert_string_equal(s->mounts[0].destination, "/proc");
        assert_null(s->mounts[0].data);
        assert_string_equal(s->mounts[1].data, "mode=755,size=65536k");
        assert_int_equal(s->mounts[1].flags, MS_NOSUID | MS_STRICTATIME);
        assert_string_equal(s->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        assert_int_equal(s->mounts[2].flags, MS_NOSUID | MS_NOEXEC);
        assert_int_equal(s->mounts[5].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
        assert_int_equal(s->mounts[6].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY);
        assert_int_equal(strv_len(s->masked_paths), 10);
        assert_int_equal(strv_len(s->readonly_paths), 5);
        spec_free(s);
}

/* The exact config `runc spec` writes (terminal and all) must be accepted. */
static void test_runc_default_accepted(void **state)
{
        struct bundle *b = *state;
        _cleanup_free_ char *ours = spec_default_json();
        /* Turning ours back into runc's: the only differences are these values. */
        const char *from[] = {"\"terminal\": false", "\"hostname\": \"berth\""};
        const char *to[] = {"\"terminal\": true ", "\"hostname\": \"runc\" "};
        for (size_t i = 0; i < 2; i++) {
                char *at = strstr(ours, from[i]);
                assert_non_null(at);
                assert_int_equal(strlen(from[i]), strlen(to[i]));
                memcpy(at, to[i], strlen(to[i]));
        }
        struct spec *s = parse_ok(b, ours);
        assert_true(s->process.terminal);
        assert_string_equal(s->hostname, "runc");
        spec_free(s);
}

struct error_case {
        const char *text;
        const char *msg;
};

static const struct error_case error_cases[] = {
        {"[]", "config.json: expected a JSON object"},
        {"{\"root\":{\"path\":\"rootfs\"}}", "ociVersion: required"},
        {CFG(",\"ociVersion\":1"), "ociVersion: expected a string"},
        {CFG(",\"root\":null"), "root: required"},
        {CFG(",\"root\":{}"), "root.path: required"},
        {CFG(",\"root\":{\"path\":\"\"}"), "root.path: expected a non-empty string"},
        {CFG(",\"root\":{\"path\":\"rootfs\",\"readonly\":1}"), "root.readonly: expected a boolean"},
        {"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}}", "process: required"},
        {CFG(",\"process\":[]"), "process: expected an object"},
        {CFG(",\"process\":{\"cwd\":\"/\"}"), "process.args: expected a non-empty array of strings"},
        {CFG_PROC(",\"args\":[]"), "process.args: expected a non-empty array of strings"},
        {CFG_PROC(",\"args\":[\"sh\",1]"), "process.args: expected a non-empty array of strings"},
        {CFG_PROC(",\"args\":\"sh\""), "process.args: expected a non-empty array of strings"},
        {CFG_PROC(",\"args\":[\"\"]"), "process.args[0]: expected a non-empty string"},
        {CFG(",\"process\":{\"args\":[\"sh\"]}"), "process.cwd: required"},
        {CFG_PROC(",\"cwd\":\"tmp\""), "process.cwd: expected an absolute path"},
        {CFG_PROC(",\"cwd\":5"), "process.cwd: expected an absolute path"},
        {CFG_PROC(",\"env\":\"A=1\""), "process.env: expected an array of strings"},
        {CFG_PROC(",\"env\":[\"A=1\",\"B\"]"), "process.env[1]: expected `KEY=value`"},
        {CFG_PROC(",\"env\":[\"=1\"]"), "process.env[0]: expected `KEY=value`"},
        {CFG_PROC(",\"terminal\":\"yes\""), "process.terminal: expected a boolean"},
        {CFG_PROC(",\"consoleSize\":{\"height\":-1}"),
         "process.consoleSize.height: expected a non-negative integer"},
        {CFG_PROC(",\"user\":5"), "process.user: expected an object"},
        {CFG_PROC(",\"user\":{\"uid\":-1,\"gid\":0}"), "process.user.uid: expected a non-negative integer"},
        {CFG_PROC(",\"user\":{\"uid\":\"0\",\"gid\":0}"),
         "process.user.uid: expected a non-negative integer"},
        {CFG_PROC(",\"user\":{\"uid\":1.5,\"gid\":0}"), "process.user.uid: expected a non-negative integer"},
        {CFG_PROC(",\"user\":{\"uid\":4294967295}"),
         "process.user.uid: expected an integer between 0 and 4294967294"},
        {CFG_PROC(",\"user\":{\"uid\":0,\"gid\":-5}"), "process.user.gid: expected a non-negative integer"},
        {CFG_PROC(",\"user\":{\"umask\":512}"), "process.user.umask: expected an integer between 0 and 511"},
        {CFG_PROC(",\"user\":{\"additionalGids\":[1,-2]}"),
         "process.user.additionalGids[1]: expected a non-negative integer"},
        {CFG_PROC(",\"rlimits\":{}"), "process.rlimits: expected an array"},
        {CFG_PROC(",\"rlimits\":[5]"), "process.rlimits[0]: expected an object"},
        {CFG_PROC(",\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]"),
         "process.rlimits[0].type: unknown rlimit `RLIMIT_FOO`"},
        {CFG_PROC(",\"rlimits\":[{\"soft\":1,\"hard\":1}]"), "process.rlimits[0].type: required"},
        {CFG_PROC(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":1}]"),
         "process.rlimits[0].soft: required"},
        {CFG_PROC(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":-1}]"),
         "process.rlimits[0].hard: expected a non-negative integer"},
        {CFG_PROC(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":2,\"hard\":1}]"),
         "process.rlimits[0].soft: exceeds hard"},
        {CFG_PROC(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":1},"
                  "{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":1}]"),
         "process.rlimits[1].type: duplicate rlimit `RLIMIT_CORE`"},
        {CFG_PROC(",\"capabilities\":[\"CAP_KILL\"]"), "process.capabilities: expected an object"},
        {CFG_PROC(",\"capabilities\":{\"bounding\":[\"CAP_FOO\"]}"),
         "process.capabilities.bounding[0]: unknown capability `CAP_FOO`"},
        {CFG_PROC(",\"capabilities\":{\"ambient\":[\"CAP_KILL\",\"kill\"]}"),
         "process.capabilities.ambient[1]: unknown capability `kill`"},
        {CFG_PROC(",\"capabilities\":{\"permitted\":[7]}"),
         "process.capabilities.permitted[0]: expected a string"},
        {CFG_PROC(",\"capabilities\":{\"effective\":\"CAP_KILL\"}"),
         "process.capabilities.effective: expected an array"},
        {CFG_PROC(",\"noNewPrivileges\":1"), "process.noNewPrivileges: expected a boolean"},
        {CFG_PROC(",\"oomScoreAdj\":1001"),
         "process.oomScoreAdj: expected an integer between -1000 and 1000"},
        {CFG_PROC(",\"oomScoreAdj\":-1001"),
         "process.oomScoreAdj: expected an integer between -1000 and 1000"},
        {CFG_PROC(",\"apparmorProfile\":1"), "process.apparmorProfile: expected a string"},
        {CFG_PROC(",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_IDLE\"}"),
         "process.ioPriority: not supported yet"},
        {CFG_PROC(",\"scheduler\":{\"policy\":\"SCHED_FIFO\"}"), "process.scheduler: not supported yet"},
        {CFG_PROC(",\"execCPUAffinity\":{\"initial\":\"0\"}"), "process.execCPUAffinity: not supported yet"},
        {CFG(",\"hostname\":5"), "hostname: expected a string"},
        {CFG(",\"domainname\":[]"), "domainname: expected a string"},
        {CFG(",\"hostname\":\"h\""), "hostname: requires a UTS namespace"},
        {CFG(",\"domainname\":\"d\""), "domainname: requires a UTS namespace"},
        {CFG(",\"annotations\":[]"), "annotations: expected an object"},
        {CFG(",\"annotations\":{\"a\":\"b\",\"c\":1}"), "annotations.c: expected a string"},
        {CFG(",\"mounts\":{}"), "mounts: expected an array"},
        {CFG(",\"mounts\":[\"/proc\"]"), "mounts[0]: expected an object"},
        {CFG(",\"mounts\":[{\"destination\":\"/a\"},{\"destination\":\"/b\"},{\"destination\":\"\"}]"),
         "mounts[2].destination: expected a path"},
        {CFG(",\"mounts\":[{\"type\":\"tmpfs\"}]"), "mounts[0].destination: required"},
        {CFG(",\"mounts\":[{\"destination\":\"/a\",\"type\":1}]"), "mounts[0].type: expected a string"},
        {CFG(",\"mounts\":[{\"destination\":\"/a\",\"source\":{}}]"), "mounts[0].source: expected a string"},
        {CFG(",\"mounts\":[{\"destination\":\"/a\",\"options\":\"ro\"}]"),
         "mounts[0].options: expected an array of strings"},
        {CFG(",\"mounts\":[{\"destination\":\"/"
             "a\",\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}]"),
         "mounts[0].uidMappings: requires the `idmap` or `ridmap` option"},
        {CFG(",\"mounts\":[{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"/b\",\"options\":[\"idmap\"]}]"),
         "mounts[0].options: `idmap` requires mounts[0].uidMappings and gidMappings or a user namespace"},
        {CFG(",\"mounts\":[{\"destination\":\"/a\",\"type\":\"tmpfs\",\"options\":[\"ridmap\"]}]"),
         "mounts[0].options: `ridmap` requires a bind mount"},
        {CFG(",\"mounts\":[{\"destination\":\"/a\",\"type\":\"proc\",\"options\":[\"tmpcopyup\"]}]"),
         "mounts[0].options: `tmpcopyup` requires a tmpfs mount"},
        {CFG(",\"hooks\":[]"), "hooks: expected an object"},
        {CFG(",\"hooks\":{\"prestart\":[{\"path\":\"true\"}]}"), "hooks.prestart[0].path: expected an absolute path"},
        {CFG(",\"linux\":\"x\""), "linux: expected an object"},
        {CFG(",\"linux\":{\"namespaces\":{}}"), "linux.namespaces: expected an array"},
        {CFG(",\"linux\":{\"namespaces\":[\"pid\"]}"), "linux.namespaces[0]: expected an object"},
        {CFG(",\"linux\":{\"namespaces\":[{\"path\":\"/x\"}]}"), "linux.namespaces[0].type: required"},
        {CFG(",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"foo\"}]}"),
         "linux.namespaces[1].type: unknown namespace type `foo`"},
        {CFG(",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"net\"}]}"),
         "linux.namespaces[1].type: unknown namespace type `net`"},
        {CFG(",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"pid\"}]}"),
         "linux.namespaces[2].type: duplicate namespace `pid`"},
        {CFG(",\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"ns/net\"}]}"),
         "linux.namespaces[0].path: expected an absolute path"},
        {CFG(",\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}"),
         "linux.uidMappings: required with a new user namespace"},
        {CFG(",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],"
             "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}"),
         "linux.gidMappings: required with a new user namespace"},
        {CFG(",\"linux\":{" USERNS_MAPS "}"), "linux.uidMappings: requires a user namespace"},
        {CFG(",\"linux\":{\"uidMappings\":{}}"), "linux.uidMappings: expected an array"},
        {CFG(",\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":0}]}"),
         "linux.uidMappings[0].size: expected a positive integer"},
        {CFG(",\"linux\":{\"gidMappings\":[{\"containerID\":0,\"size\":1}]}"),
         "linux.gidMappings[0].hostID: required"},
        {CFG(",\"linux\":{\"gidMappings\":[{\"containerID\":0,\"hostID\":4294967296,\"size\":1}]}"),
         "linux.gidMappings[0].hostID: expected an integer between 0 and 4294967295"},
        {CFG(",\"linux\":{\"cgroupsPath\":1}"), "linux.cgroupsPath: expected a string"},
        {CFG(",\"linux\":{\"maskedPaths\":[\"/proc/kcore\",\"proc/keys\"]}"),
         "linux.maskedPaths[1]: expected an absolute path"},
        {CFG(",\"linux\":{\"readonlyPaths\":[1]}"), "linux.readonlyPaths: expected an array of strings"},
        {CFG(",\"linux\":{\"rootfsPropagation\":\"foo\"}"),
         "linux.rootfsPropagation: unknown propagation `foo`"},
        {CFG(",\"linux\":{\"devices\":[{\"type\":\"x\",\"path\":\"/dev/x\"}]}"),
         "linux.devices[0].type: expected one of `c`, `b`, `u`, `p`"},
        {CFG(",\"linux\":{\"devices\":[{\"type\":\"c\",\"path\":\"dev/x\",\"major\":1,\"minor\":1}]}"),
         "linux.devices[0].path: expected an absolute path"},
        {CFG(",\"linux\":{\"devices\":[{\"type\":\"b\",\"path\":\"/dev/x\",\"minor\":1}]}"),
         "linux.devices[0].major: required"},
        {CFG(",\"linux\":{\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1}]}"),
         "linux.devices[0].minor: required"},
        {CFG(",\"linux\":{\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1,\"minor\":1,"
             "\"fileMode\":8630}]}"),
         "linux.devices[0].fileMode: expected an integer between 0 and 4095"},
        {CFG(",\"linux\":{\"seccomp\":{\"syscalls\":[]}}"), "linux.seccomp.defaultAction: required"},
        {CFG(",\"linux\":{\"seccomp\":[]}"), "linux.seccomp: expected an object"},
        {CFG(",\"linux\":{\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}"),
         "linux.sysctl: `net.ipv4.ip_forward` requires a new network namespace"},
        {CFG(",\"linux\":{\"namespaces\":[{\"type\":\"ipc\"}],\"sysctl\":{\"kernel.shmmax\":1}}"),
         "linux.sysctl.kernel.shmmax: expected a string"},
        {CFG(",\"linux\":{\"namespaces\":[{\"type\":\"network\"}],\"sysctl\":{\"net/ipv4/ip_forward\":\"1\"}}"),
         "linux.sysctl: invalid key `net/ipv4/ip_forward`"},
        {CFG(",\"linux\":{\"namespaces\":[{\"type\":\"network\"}],\"sysctl\":{\"net.ipv4..x\":\"1\"}}"),
         "linux.sysctl: invalid key `net.ipv4..x`"},
        {CFG(",\"linux\":{\"sysctl\":{\"vm.swappiness\":\"1\"}}"),
         "linux.sysctl: `vm.swappiness` is not namespaced: it would change the host"},
        {CFG(",\"linux\":{\"sysctl\":[]}"), "linux.sysctl: expected an object"},
        {CFG(",\"linux\":{\"resources\":[]}"), "linux.resources: expected an object"},
        {CFG(",\"linux\":{\"resources\":{\"memory\":{\"limit\":-5}}}"),
         "linux.resources.memory.limit: expected -1 (unlimited) or a number of bytes"},
        {CFG(",\"linux\":{\"resources\":{\"devices\":[],\"pids\":{\"limit\":\"10\"}}}"),
         "linux.resources.pids.limit: expected an integer"},
        {CFG(",\"linux\":{\"resources\":{\"unified\":{\"cpu.max\":1}}}"),
         "linux.resources.unified.cpu.max: expected a string"},
        {CFG(",\"linux\":{\"resources\":{\"devices\":[{\"access\":\"rwm\"}]}}"),
         "linux.resources.devices[0].allow: required"},
        {CFG(",\"linux\":{\"resources\":{\"devices\":{}}}"), "linux.resources.devices: expected an array"},
        {CFG(",\"linux\":{\"intelRdt\":{\"closID\":\"x\"}}"), "linux.intelRdt: not supported yet"},
        {CFG(",\"linux\":{\"personality\":{\"domain\":\"LINUX64\"}}"),
         "linux.personality.domain: unknown domain `LINUX64` (expected `LINUX` or `LINUX32`)"},
        {CFG(",\"linux\":{\"personality\":{\"domain\":\"LINUX\",\"flags\":[\"x\"]}}"),
         "linux.personality.flags: unknown flag `x`"},
        {CFG(",\"linux\":{\"timeOffsets\":{\"monotonic\":{\"secs\":1}}}"),
         "linux.timeOffsets: requires a new time namespace"},
        {CFG(",\"linux\":{\"namespaces\":[{\"type\":\"time\"}],\"timeOffsets\":{\"realtime\":{}}}"),
         "linux.timeOffsets.realtime: unknown clock (expected `monotonic` or `boottime`)"},
        {CFG(",\"linux\":{\"mountLabel\":1}"), "linux.mountLabel: expected a string"},
        {CFG(",\"linux\":{\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\"}}"),
         "linux.memoryPolicy: not supported yet"},
        {CFG(",\"linux\":{\"netDevices\":{\"eth1\":{}}}"), "linux.netDevices: not supported yet"},
};

static void test_errors(void **state)
{
        struct bundle *b = *state;
        for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
                berth_error *err = NULL;
                struct spec *s = spec_parse(error_cases[i].text, b->dir, "config.json", &err);
                if (s) {
                        spec_free(s);
                        fail_msg("case %zu: %s\n  parsed; want: %s", i, error_cases[i].text,
                                 error_cases[i].msg);
                }
                if (strcmp(berth_error_message(err), error_cases[i].msg) != 0)
                        fail_msg("case %zu: %s\n  got:  %s\n  want: %s", i, error_cases[i].text,
                                 berth_error_message(err), error_cases[i].msg);
                assert_int_equal(berth_error_errno(err), 0);
                berth_error_free(err);
        }
}

/* Present but requesting nothing, or not defined by the spec: accepted. */
static const char *const accepted_cases[] = {
        CFG(",\"unknownTop\":{\"x\":[1,2]},\"root\":{\"path\":\"rootfs\",\"extra\":1}"),
        CFG_PROC(",\"unknown\":true,\"user\":{\"uid\":1,\"gid\":1,\"username\":\"x\",\"future\":[]}"),
        CFG_PROC(",\"apparmorProfile\":\"\",\"selinuxLabel\":\"\",\"oomScoreAdj\":0,\"ioPriority\":null"),
        CFG_PROC(",\"capabilities\":{},\"rlimits\":[],\"env\":[],\"user\":null"),
        CFG(",\"hooks\":{},\"annotations\":{}"),
        CFG(",\"hooks\":{\"prestart\":[],\"poststop\":[]}"),
        CFG(",\"linux\":{}"),
        CFG(",\"linux\":null,\"mounts\":null,\"vm\":{\"hypervisor\":{}},\"windows\":{\"layerFolders\":[]}"),
        CFG(",\"linux\":{\"seccomp\":null,\"sysctl\":{},\"mountLabel\":\"\",\"intelRdt\":null,\"future\":{"
            "\"a\":"
            "1}}"),
        CFG(",\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
            "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"}]}}"),
        CFG(",\"linux\":{\"resources\":{\"memory\":{},\"cpu\":{\"shares\":0},\"pids\":{\"limit\":0},"
            "\"blockIO\":{\"weight\":0},\"hugepageLimits\":[],\"disableOOMKiller\":false,\"future\":5}}"),
        CFG(",\"linux\":{\"namespaces\":[{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}]}"),
        CFG(",\"linux\":{\"namespaces\":[{\"type\":\"user\"}]," USERNS_MAPS "}"),
        CFG(",\"linux\":{\"namespaces\":[{\"type\":\"uts\",\"path\":\"/proc/1/ns/"
            "uts\"}]},\"hostname\":\"h\""),
        CFG(",\"hostname\":\"\",\"domainname\":\"\""),
        CFG(",\"linux\":{\"rootfsPropagation\":\"\"}"),
        CFG(",\"mounts\":[{\"destination\":\"/a\",\"uidMappings\":[],\"gidMappings\":null}]"),
        CFG(",\"linux\":{\"namespaces\":[{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"}],"
            "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\",\"kernel.shmmax\":\"1\",\"fs.mqueue.msg_max\":\"10\","
            "\"kernel.domainname\":\"d\"}}"),
        CFG(",\"linux\":{\"personality\":{\"domain\":\"LINUX32\",\"flags\":[]}}"),
        CFG(",\"linux\":{\"namespaces\":[{\"type\":\"time\"}],"
            "\"timeOffsets\":{\"monotonic\":{\"secs\":-5,\"nanosecs\":3},\"boottime\":{}}}"),
        CFG(",\"mounts\":[{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"/b\",\"options\":[\"idmap\"],"
            "\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}],"
            "\"gidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}]"),
        CFG(",\"mounts\":[{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"/b\",\"options\":[\"rbind\",\"ridmap\"]}],"
            "\"linux\":{\"namespaces\":[{\"type\":\"user\"}]," USERNS_MAPS "}"),
};

static void test_accepted(void **state)
{
        struct bundle *b = *state;
        for (size_t i = 0; i < sizeof accepted_cases / sizeof accepted_cases[0]; i++) {
                berth_error *err = NULL;
                struct spec *s = spec_parse(accepted_cases[i], b->dir, "config.json", &err);
                if (!s)
                        fail_msg("case %zu: %s\n  error: %s", i, accepted_cases[i], berth_error_message(err));
                spec_free(s);
        }
}

static void test_unknown_keys_keep_values(void **state)
{
        struct bundle *b = *state;
        struct spec *s =
                parse_ok(b, CFG_PROC(",\"user\":{\"uid\":7,\"gid\":8,\"future\":{}},\"newField\":[1]"));
        assert_int_equal(s->process.user.uid, 7);
        assert_int_equal(s->process.user.gid, 8);
        spec_free(s);
}

static void test_syntax_error(void **state)
{
        struct bundle *b = *state;
        _cleanup_free_ char *msg =
                parse_fails(b, "{\n  \"ociVersion\": \"1.2.0\",\n  \"root\": oops\n}\n", NULL);
        assert_string_equal(msg, "config.json: line 3, column 14: invalid token near 'oops'");

        /* Through spec_load, the document is named by its full path. */
        write_config(b, "{\n  \"ociVersion\": \"1.2.0\"\n  \"root\": {}\n}\n");
        berth_error *err = NULL;
        assert_null(spec_load(b->dir, &err));
        _cleanup_free_ char *want =
                xasprintf("%s/config.json: line 3, column 8: '}' expected near '\"root\"'", b->dir);
        assert_string_equal(berth_error_message(err), want);
        assert_int_equal(berth_error_errno(err), 0);
        berth_error_free(err);

        _cleanup_free_ char *empty = parse_fails(b, "", NULL);
        assert_true(str_has_prefix(empty, "config.json: line "));
}

static struct spec_mount *parse_one_mount(const struct bundle *b, const char *options, struct spec **out)
{
        _cleanup_free_ char *text =
                xasprintf(CFG(",\"mounts\":[{\"destination\":\"/m\",\"type\":\"tmpfs\",\"source\":\"t\","
                              "\"options\":[%s]}]"),
                          options);
        *out = parse_ok(b, text);
        assert_int_equal((*out)->n_mounts, 1);
        return &(*out)->mounts[0];
}

static void test_mount_options(void **state)
{
        struct bundle *b = *state;
        struct spec *s;
        struct spec_mount *m;

        m = parse_one_mount(
                b,
                "\"ro\",\"nosuid\",\"nodev\",\"noexec\",\"sync\",\"dirsync\",\"remount\",\"mand\","
                "\"noatime\",\"nodiratime\",\"relatime\",\"strictatime\",\"silent\",\"nosymfollow\","
                "\"mode=755\",\"size=65536k\"",
                &s);
        assert_string_equal(m->destination, "/m");
        assert_string_equal(m->type, "tmpfs");
        assert_string_equal(m->source, "t");
        assert_string_equal(m->options[0], "ro");
        assert_int_equal(strv_len(m->options), 16);
        assert_int_equal(m->flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS |
                                           MS_DIRSYNC | MS_REMOUNT | MS_MANDLOCK | MS_NOATIME |
                                           MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_SILENT |
                                           MS_NOSYMFOLLOW);
        assert_int_equal(m->clear_flags, 0);
        assert_int_equal(m->propagation, 0);
        assert_string_equal(m->data, "mode=755,size=65536k");
        spec_free(s);

        /* The clearing forms, and the later of two opposites wins. */
        m = parse_one_mount(b,
                            "\"ro\",\"rw\",\"suid\",\"dev\",\"exec\",\"async\",\"nomand\",\"atime\","
                            "\"diratime\",\"norelatime\",\"nostrictatime\",\"noexec\"",
                            &s);
        assert_int_equal(m->flags, MS_NOEXEC);
        assert_int_equal(m->clear_flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_SYNCHRONOUS | MS_MANDLOCK |
                                                 MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME);
        assert_null(m->data);
        spec_free(s);

        m = parse_one_mount(b, "\"bind\"", &s);
        assert_int_equal(m->flags, MS_BIND);
        spec_free(s);
}

static void test_mount_propagation(void **state)
{
        struct bundle *b = *state;
        struct spec *s;
        struct spec_mount *m;

        m = parse_one_mount(b, "\"rbind\",\"rprivate\",\"ro\"", &s);
        assert_int_equal(m->flags, MS_BIND | MS_REC | MS_RDONLY);
        assert_int_equal(m->propagation, MS_PRIVATE | MS_REC);
        spec_free(s);

        static const struct {
                const char *name;
                unsigned long flags;
        } props[] = {
                {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
                {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
                {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
                {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
        };
        for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
                _cleanup_free_ char *opt = xasprintf("\"%s\"", props[i].name);
                m = parse_one_mount(b, opt, &s);
                assert_int_equal(m->propagation, props[i].flags);
                assert_int_equal(m->flags, 0);
                assert_null(m->data);
                spec_free(s);
        }
}

static void test_mount_special_options(void **state)
{
        struct bundle *b = *state;
        struct spec *s;
        struct spec_mount *m;

        /* Recognised, recorded for the mount code, never passed as fs data. */
        m = parse_one_mount(b, "\"tmpcopyup\",\"rro\",\"rnosuid\",\"rnoatime\",\"\"", &s);
        assert_null(m->data);
        assert_int_equal(m->flags, 0);
        assert_true(m->tmpcopyup);
        assert_int_equal(m->rec_attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME);
        assert_int_equal(m->rec_attr_clear, MOUNT_ATTR__ATIME);
        spec_free(s);

        /* idmap/ridmap (bind mounts, with the container's user namespace or the mount's own maps). */
        s = parse_ok(b, CFG(",\"mounts\":[{\"destination\":\"/m\",\"type\":\"bind\",\"source\":\"/s\","
                            "\"options\":[\"rbind\",\"idmap\",\"ridmap\"],"
                            "\"uidMappings\":[{\"containerID\":1000,\"hostID\":2000,\"size\":3}],"
                            "\"gidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}]"));
        m = &s->mounts[0];
        assert_null(m->data);
        assert_true(m->idmap);
        assert_true(m->recursive_idmap);
        assert_int_equal(m->n_uid_mappings, 1);
        assert_int_equal(m->uid_mappings[0].container_id, 1000);
        assert_int_equal(m->uid_mappings[0].host_id, 2000);
        assert_int_equal(m->uid_mappings[0].size, 3);
        assert_int_equal(m->n_gid_mappings, 1);
        spec_free(s);

        /* linux.sysctl, linux.timeOffsets, linux.personality as parsed. */
        s = parse_ok(b, CFG(",\"linux\":{\"namespaces\":[{\"type\":\"network\"},{\"type\":\"time\"}],"
                            "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},"
                            "\"timeOffsets\":{\"boottime\":{\"secs\":-7,\"nanosecs\":9}},"
                            "\"personality\":{\"domain\":\"LINUX32\"}}"));
        assert_string_equal(s->sysctl[0], "net.ipv4.ip_forward");
        assert_string_equal(s->sysctl[1], "1");
        assert_null(s->sysctl[2]);
        assert_false(s->time_monotonic.present);
        assert_true(s->time_boottime.present);
        assert_int_equal(s->time_boottime.secs, -7);
        assert_int_equal(s->time_boottime.nanosecs, 9);
        assert_true(s->has_personality);
        assert_int_equal(s->personality, 0x0008);
        spec_free(s);

        m = parse_one_mount(b, "\"rro\",\"rrw\"", &s);
        assert_int_equal(m->rec_attr_set, 0);
        assert_int_equal(m->rec_attr_clear, MOUNT_ATTR_RDONLY);
        spec_free(s);

        m = parse_one_mount(b, "\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"", &s);
        assert_string_equal(m->data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        spec_free(s);

        /* No type, no source, no options: a plain entry. */
        s = parse_ok(b, CFG(",\"mounts\":[{\"destination\":\"/x\"}]"));
        assert_null(s->mounts[0].type);
        assert_null(s->mounts[0].source);
        assert_null(s->mounts[0].options[0]);
        assert_null(s->mounts[0].data);
        spec_free(s);
}

static void test_root_path(void **state)
{
        struct bundle *b = *state;
        berth_error *err = NULL;

        write_config(b, CFG(",\"root\":{\"path\":\"missing\"}"));
        assert_null(spec_load(b->dir, &err));
        _cleanup_free_ char *missing = xasprintf("root.path `%s/missing`: No such file or directory", b->dir);
        _cleanup_free_ char *got = error_text(err);
        assert_string_equal(got, missing);
        assert_int_equal(berth_error_errno(err), ENOENT);
        berth_error_free(err);
        err = NULL;

        _cleanup_free_ char *file = xasprintf("%s/notdir", b->dir);
        assert_int_equal(write_file_at(AT_FDCWD, file, "", 0, 0644), 0);
        write_config(b, CFG(",\"root\":{\"path\":\"notdir\"}"));
        assert_null(spec_load(b->dir, &err));
        _cleanup_free_ char *notdir = xasprintf("root.path `%s/notdir`: Not a directory", b->dir);
        _cleanup_free_ char *got2 = error_text(err);
        assert_string_equal(got2, notdir);
        assert_int_equal(berth_error_errno(err), ENOTDIR);
        berth_error_free(err);

        /* An absolute root.path is taken as is; a relative one through a
         * symlink is canonicalised. */
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", b->dir);
        _cleanup_free_ char *abs = xasprintf(CFG(",\"root\":{\"path\":\"%s\"}"), rootfs);
        struct spec *s = parse_ok(b, abs);
        assert_string_equal(s->root_path, rootfs);
        spec_free(s);

        _cleanup_free_ char *link = xasprintf("%s/link", b->dir);
        assert_int_equal(symlink("rootfs", link), 0);
        write_config(b, CFG(",\"root\":{\"path\":\"link/\"}"));
        s = spec_load(b->dir, NULL);
        assert_non_null(s);
        assert_string_equal(s->root_path, rootfs);
        spec_free(s);

        /* Without a bundle the path is kept as written. */
        s = spec_parse(CFG(""), NULL, NULL, NULL);
        assert_non_null(s);
        assert_string_equal(s->root_path, "rootfs");
        assert_null(s->bundle);
        spec_free(s);
}

static void test_load(void **state)
{
        struct bundle *b = *state;
        berth_error *err = NULL;

        assert_null(spec_load(b->dir, &err));
        _cleanup_free_ char *want = xasprintf("open `%s/config.json`: No such file or directory", b->dir);
        _cleanup_free_ char *got = error_text(err);
        assert_string_equal(got, want);
        berth_error_free(err);
        err = NULL;

        assert_null(spec_load("/nonexistent/bundle", &err));
        _cleanup_free_ char *got2 = error_text(err);
        assert_string_equal(got2, "open `/nonexistent/bundle/config.json`: No such file or directory");
        berth_error_free(err);

        /* A relative bundle is made canonical. */
        _cleanup_free_ char *text = spec_default_json();
        write_config(b, text);
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        assert_int_equal(chdir(b->dir), 0);
        struct spec *s = spec_load(".", NULL);
        assert_int_equal(chdir(cwd), 0);
        assert_non_null(s);
        assert_string_equal(s->bundle, b->dir);
        assert_string_equal(s->config_text, text);
        spec_free(s);
}

static void test_names(void **state)
{
        (void)state;
        assert_int_equal(cap_from_name("CAP_CHOWN"), 0);
        assert_int_equal(cap_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
        assert_int_equal(cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
        assert_int_equal(cap_from_name("CAP_FOO"), -1);
        assert_int_equal(cap_from_name("cap_chown"), -1);
        assert_int_equal(cap_from_name(""), -1);

        assert_int_equal(rlimit_from_name("RLIMIT_CPU"), RLIMIT_CPU);
        assert_int_equal(rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
        assert_int_equal(rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
        assert_int_equal(rlimit_from_name("RLIMIT_FOO"), -1);

        static const struct {
                enum ns_type t;
                const char *spec, *proc;
                int flag;
        } ns[] = {
                {NS_PID, "pid", "pid", CLONE_NEWPID},
                {NS_NET, "network", "net", CLONE_NEWNET},
                {NS_MNT, "mount", "mnt", CLONE_NEWNS},
                {NS_IPC, "ipc", "ipc", CLONE_NEWIPC},
                {NS_UTS, "uts", "uts", CLONE_NEWUTS},
                {NS_USER, "user", "user", CLONE_NEWUSER},
                {NS_CGROUP, "cgroup", "cgroup", CLONE_NEWCGROUP},
                {NS_TIME, "time", "time", 0x80},
        };
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
                assert_string_equal(ns_spec_name(ns[i].t), ns[i].spec);
                assert_string_equal(ns_proc_name(ns[i].t), ns[i].proc);
                assert_int_equal(ns_clone_flag(ns[i].t), ns[i].flag);
        }
        assert_null(ns_spec_name(NS_COUNT));
        assert_null(ns_proc_name(NS_COUNT));
        assert_int_equal(ns_clone_flag(NS_COUNT), 0);

        spec_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_minimal, bundle_setup, bundle_teardown),
                cmocka_unit_test_setup_teardown(test_full_process, bundle_setup, bundle_teardown),
                cmocka_unit_test_setup_teardown(test_full_linux, bundle_setup, bundle_teardown),
                cmocka_unit_test_setup_teardown(test_default_round_trip, bundle_setup, bundle_teardown),
                cmocka_unit_test_setup_teardown(test_runc_default_accepted, bundle_setup, bundle_teardown),
                cmocka_unit_test_setup_teardown(test_errors, bundle_setup, bundle_teardown),
                cmocka_unit_test_setup_teardown(test_accepted, bundle_setup, bundle_teardown),
                cmocka_unit_test_setup_teardown(test_unknown_keys_keep_values, bundle_setup, bundle_teardown),
                cmocka_unit_test_setup_teardown(test_syntax_error, bundle_setup, bundle_teardown),
                cmocka_unit_test_setup_teardown(test_mount_options, bundle_setup, bundle_teardown),
                cmocka_unit_test_setup_teardown(test_mount_propagation, bundle_setup, bundle_teardown),
                cmocka_unit_test_setup_teardown(test_mount_special_options, bundle_setup, bundle_teardown),
                cmocka_unit_test_setup_teardown(test_root_path, bundle_setup, bundle_teardown),
                cmocka_unit_test_setup_teardown(test_load, bundle_setup, bundle_teardown),
                cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
