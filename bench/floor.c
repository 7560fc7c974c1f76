/*
 * floor.c - the cost no runtime can avoid, for `make bench`.
 *
 * It does only the kernel work of starting a container with the namespaces
 * the benchmark's config.json asks for: no config parsing, no state, no
 * cgroups, no /dev, no capabilities, no seccomp.
 *
 *   floor run ROOTFS [CMD [ARG...]]   clone into new namespaces, make the
 *                                     mounts private, bind ROOTFS onto
 *                                     itself, pivot_root into it, mount
 *                                     /proc, exec CMD (default /bin/true),
 *                                     wait.  Exits with the container's
 *                                     status.  With $FLOOR_PIDFILE, the
 *                                     container's pid is written there.
 *   floor exec PID [CMD [ARG...]]     join PID's namespaces (one setns on a
 *                                     pidfd), fork, exec CMD, wait.
 *
 * $FLOOR_NS: the namespaces, as a comma list of config.json types (pid,
 * network, ipc, uts, mount, cgroup); default: all six.
 *
 * Build: gcc -O2 -o floor floor.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static char *default_cmd[] = {"/bin/true", NULL};

struct child_args {
        const char *rootfs;
        char **argv;
        int sync_fd;  /* read end: EOF once the parent wrote the pid file */
        int sync_wfd; /* write end, closed in the child */
};

static void die(const char *what)
{
        fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
        _exit(127);
}

static int ns_flags(void)
{
        static const struct {
                const char *name;
                int flag;
        } map[] = {
                {"pid", CLONE_NEWPID}, {"network", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC},
                {"uts", CLONE_NEWUTS}, {"mount", CLONE_NEWNS},    {"cgroup", CLONE_NEWCGROUP},
        };
        const char *env = getenv("FLOOR_NS");
        char *list, *tok, *save;
        int flags = 0;
        size_t i;

        if (!env)
                env = "pid,network,ipc,uts,mount,cgroup";
        list = strdup(env);
        for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
                        if (!strcmp(tok, map[i].name))
                                flags |= map[i].flag;
        }
        free(list);
        return flags;
}

static int container_main(void *p)
{
        struct child_args *a = p;
        char c;

        if (a->sync_fd >= 0) {
                close(a->sync_wfd);
                if (read(a->sync_fd, &c, 1) < 0)
                        die("sync read");
                close(a->sync_fd);
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                die("make / private");
        if (mount(a->rootfs, a->rootfs, NULL, MS_BIND, NULL) < 0)
                die("bind rootfs");
        if (chdir(a->rootfs) < 0)
                die("chdir rootfs");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                die("pivot_root");
        if (umount2(".", MNT_DETACH) < 0)
                die("umount old root");
        if (chdir("/") < 0)
                die("chdir /");
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                die("mount proc");
        execv(a->argv[0], a->argv);
        die("execv");
        return 127;
}

static int wait_status(pid_t pid)
{
        int st;

        while (waitpid(pid, &st, __WALL) < 0) {
                if (errno != EINTR)
                        die("waitpid");
        }
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
        return 1;
}

static int do_run(const char *rootfs, char **argv)
{
        static char stack[256 * 1024] __attribute__((aligned(16)));
        struct child_args a = {.rootfs = rootfs, .argv = argv, .sync_fd = -1, .sync_wfd = -1};
        const char *pidfile = getenv("FLOOR_PIDFILE");
        int pfd[2] = {-1, -1};
        pid_t pid;

        if (pidfile && *pidfile) {
                if (pipe2(pfd, O_CLOEXEC) < 0)
                        die("pipe");
                a.sync_fd = pfd[0];
                a.sync_wfd = pfd[1];
        }
        pid = clone(container_main, stack + sizeof(stack), ns_flags() | SIGCHLD, &a);
        if (pid < 0)
                die("clone");
        if (pidfile && *pidfile) {
                FILE *f = fopen(pidfile, "w");
                if (!f)
                        die("pidfile");
                fprintf(f, "%d\n", (int)pid);
                fclose(f);
                close(pfd[0]);
                close(pfd[1]);
        }
        return wait_status(pid);
}

static int do_exec(pid_t target, char **argv)
{
        int pidfd = (int)syscall(SYS_pidfd_open, target, 0);
        pid_t pid;

        /* Linux >= 5.8: every namespace at once through the pidfd */
        if (pidfd < 0)
                die("pidfd_open");
        if (setns(pidfd, ns_flags()) < 0)
                die("setns");
        close(pidfd);
        pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                if (chdir("/") < 0)
                        die("chdir /");
                execv(argv[0], argv);
                die("execv");
        }
        return wait_status(pid);
}

int main(int argc, char **argv)
{
        char **cmd;

        if (argc < 3) {
                fprintf(stderr, "usage: floor run ROOTFS [CMD...] | floor exec PID [CMD...]\n");
                return 2;
        }
        cmd = argc > 3 ? argv + 3 : default_cmd;
        if (strcmp(argv[1], "run") == 0)
                return do_run(argv[2], cmd);
        if (strcmp(argv[1], "exec") == 0)
                return do_exec((pid_t)atoi(argv[2]), cmd);
        fprintf(stderr, "floor: unknown mode %s\n", argv[1]);
        return 2;
}
