/* Unit tests for path resolution inside a rootfs (src/lib/rootfs.c): the
 * component walk used when openat2 is missing must agree with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) on every case, and
 * neither may ever leave the root.  Also the sysctl key rules (sysctl.c). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "rootfs.h"
#include "syscalls.h"
#include "sysctl.h"

struct tree {
        char *dir;  /* the temp dir holding root/ and outside/ */
        int rootfd; /* root/ */
        ino_t a, f; /* root/a, root/a/f */
        ino_t out;  /* outside/: must never be reached */
        ino_t root; /* root/ itself */
};

static ino_t ino_at(int dirfd, const char *path)
{
        struct stat st;
        assert_int_equal(fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
        return st.st_ino;
}

static int tree_setup(void **state)
{
        char tmpl[] = "/tmp/berth-test-rootfs-XXXXXX";
        if (!mkdtemp(tmpl))
                return -1;
        struct tree *t = xzalloc(sizeof *t);
        t->dir = xstrdup(tmpl);
        int d = open(tmpl, O_PATH | O_DIRECTORY);
        static const char *const dirs[] = {"root", "root/a", "outside", "root/outside"};
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
                if (mkdirat(d, dirs[i], 0755) < 0)
                        return -1;
        close(openat(d, "root/a/f", O_CREAT | O_WRONLY, 0644));
        static const char *const links[][2] = {
                {"/a", "root/abs"},
                {"a/f", "root/rel"},
                {"../../../../../../..", "root/up"},
                {"../outside", "root/a/sibling"},
                {"chain2", "root/chain1"},
                {"/chain3", "root/chain2"},
                {"up/up/a", "root/chain3"},
                {"loop2", "root/loop1"},
                {"loop1", "root/loop2"},
                {"/a/f/", "root/filedir"},
                {"../../made/by/link", "root/dangling"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(links); i++)
                if (symlinkat(links[i][0], d, links[i][1]) < 0)
                        return -1;
        t->rootfd = openat(d, "root", O_PATH | O_DIRECTORY);
        t->a = ino_at(d, "root/a");
        t->f = ino_at(d, "root/a/f");
        t->out = ino_at(d, "outside");
        t->root = ino_at(d, "root");
        close(d);
        *state = t;
        return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        return remove(path);
}

static int tree_teardown(void **state)
{
        struct tree *t = *state;
        close(t->rootfd);
        nftw(t->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(t->dir);
        free(t);
        return 0;
}

/* Resolve with both resolvers; both must give `want` (an inode), or both fail with `want_errno`. */
static void resolves(struct tree *t, const char *path, int flags, ino_t want, int want_errno)
{
        int fds[2] = {rootfs_walk_open(t->rootfd, path, flags), -1};
        int errs[2] = {errno, 0};
        struct berth_open_how how = {.flags = (uint64_t)(O_PATH | O_CLOEXEC | flags),
                                     .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        fds[1] = sys_openat2(t->rootfd, path, &how);
        errs[1] = errno;
        for (int i = 0; i < 2; i++) {
                if (i == 1 && fds[1] < 0 && errs[1] == ENOSYS)
                        continue;
                const char *who = i ? "openat2" : "walk";
                if (want_errno) {
                        if (fds[i] >= 0)
                                fail_msg("%s: `%s` resolved; want errno %d", who, path, want_errno);
                        if (errs[i] != want_errno)
                                fail_msg("%s: `%s`: errno %d, want %d", who, path, errs[i], want_errno);
                        continue;
                }
                if (fds[i] < 0)
                        fail_msg("%s: `%s`: errno %d", who, path, errs[i]);
                struct stat st;
                assert_int_equal(fstat(fds[i], &st), 0);
                assert_true(st.st_ino != t->out);
                if (st.st_ino != want)
                        fail_msg("%s: `%s`: inode %lu, want %lu", who, path, (unsigned long)st.st_ino,
                                 (unsigned long)want);
                close(fds[i]);
        }
}

static void plain_paths(void **state)
{
        struct tree *t = *state;
        resolves(t, "/a/f", 0, t->f, 0);
        resolves(t, "a//./f", 0, t->f, 0);
        resolves(t, "/", O_DIRECTORY, t->root, 0);
        resolves(t, "/a", O_DIRECTORY, t->a, 0);
        resolves(t, "/a/f", O_DIRECTORY, 0, ENOTDIR);
        resolves(t, "/nosuch/x", 0, 0, ENOENT);
}

static void dotdot_stays_inside(void **state)
{
        struct tree *t = *state;
        resolves(t, "/../../../../a/f", 0, t->f, 0);
        resolves(t, "/a/../../../a/../a/f", 0, t->f, 0);
        resolves(t, "../outside", O_DIRECTORY, ino_at(t->rootfd, "outside"), 0);
}

static void symlinks_rerooted(void **state)
{
        struct tree *t = *state;
        resolves(t, "/abs/f", 0, t->f, 0);           /* absolute: from the root, not the host's / */
        resolves(t, "/rel", 0, t->f, 0);             /* relative to the link's directory */
        resolves(t, "/up", O_DIRECTORY, t->root, 0); /* ../../.. clamps at the root */
        resolves(t, "/up/a/f", 0, t->f, 0);
        resolves(t, "/chain1/f", 0, t->f, 0); /* a chain ending with ../.. */
        resolves(t, "/a/sibling", O_DIRECTORY, ino_at(t->rootfd, "outside"), 0);
        resolves(t, "/loop1", 0, 0, ELOOP);
        resolves(t, "/filedir", 0, 0, ENOTDIR);
}

static void magic_links_refused(void **state)
{
        (void)state;
        /* /proc/self/root names the host's root: both resolvers refuse it. */
        struct tree host = {.rootfd = open("/", O_PATH | O_DIRECTORY), .out = (ino_t)-1};
        resolves(&host, "/proc/self/root/etc", 0, 0, ELOOP);
        resolves(&host, "/proc/self/fd/0", 0, 0, ELOOP);
        /* ... but the plain procfs links are followed. */
        resolves(&host, "/proc/self/status", 0, ino_at(host.rootfd, "proc/self/status"), 0);
        close(host.rootfd);
}

static void mkpath_creates_inside(void **state)
{
        struct tree *t = *state;
        berth_error *err = NULL;
        int fd = rootfs_mkpath(t->rootfd, "/up/chain1/new/dir", false, &err);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(faccessat(t->rootfd, "a/new/dir", F_OK, 0), 0);
        fd = rootfs_mkpath(t->rootfd, "/abs/newfile", true, &err);
        assert_true(fd >= 0);
        close(fd);
        struct stat st;
        assert_int_equal(fstatat(t->rootfd, "a/newfile", &st, 0), 0);
        assert_true(S_ISREG(st.st_mode));
        /* A dangling symlink gets its target made, inside the root. */
        fd = rootfs_mkpath(t->rootfd, "/dangling/x", false, &err);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(faccessat(t->rootfd, "made/by/link/x", F_OK, 0), 0);
        assert_int_equal(rootfs_mkpath(t->rootfd, "/loop1/x", false, &err) < 0, 1);
        assert_non_null(strstr(berth_error_message(err), "`/loop1/x`"));
        berth_error_free(err);
}

static void sysctl_namespaces(void **state)
{
        (void)state;
        assert_int_equal(sysctl_namespace("net.ipv4.ip_forward"), NS_NET);
        assert_int_equal(sysctl_namespace("kernel.shmmax"), NS_IPC);
        assert_int_equal(sysctl_namespace("kernel.sem"), NS_IPC);
        assert_int_equal(sysctl_namespace("fs.mqueue.msg_max"), NS_IPC);
        assert_int_equal(sysctl_namespace("kernel.domainname"), NS_UTS);
        assert_int_equal(sysctl_namespace("kernel.hostname"), NS_UTS);
        assert_int_equal(sysctl_namespace("vm.swappiness"), -1);
        assert_int_equal(sysctl_namespace("kernel.shmmaxx"), -1);
        assert_int_equal(sysctl_namespace("netx.a"), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(plain_paths, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(dotdot_stays_inside, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(symlinks_rerooted, tree_setup, tree_teardown),
                cmocka_unit_test(magic_links_refused),
                cmocka_unit_test_setup_teardown(mkpath_creates_inside, tree_setup, tree_teardown),
                cmocka_unit_test(sysctl_namespaces),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
