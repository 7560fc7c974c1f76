/* Unit tests: the fallbacks of pidfd.c, taken for real.  main() first
 * installs a seccomp filter that answers clone3, pidfd_open and
 * pidfd_send_signal with ENOSYS, as valgrind 3.19 or an older kernel would. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "pidfd.h"

#define AUDIT_ARCH_X86_64 0xC000003EU

static int refuse_new_calls(void)
{
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 435 /* clone3 */, 3, 0),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 434 /* pidfd_open */, 2, 0),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 424 /* pidfd_send_signal */, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        };
        struct sock_fprog prog = {.len = ARRAY_SIZE(f), .filter = f};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -1;
        return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

static void on_usr1(int sig)
{
        (void)sig;
}

static sighandler_t handler_of(int sig)
{
        struct sigaction sa;
        sigaction(sig, NULL, &sa);
        return sa.sa_handler;
}

static int exit_status(pid_t pid)
{
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

/* clone(2) for clone3: a pidfd through CLONE_PIDFD, and CLONE_CLEAR_SIGHAND
 * done by the child: handled signals back to default, ignored ones kept. */
static void clone_fallback(void **state)
{
        (void)state;
        signal(SIGUSR1, on_usr1);
        signal(SIGUSR2, SIG_IGN);
        int pidfd = -1;
        struct berth_clone_args args = {.flags = CLONE_PIDFD | CLONE_CLEAR_SIGHAND,
                                        .pidfd = (uint64_t)(uintptr_t)&pidfd,
                                        .exit_signal = SIGCHLD};
        long pid = pidfd_clone(&args);
        if (pid == 0)
                _exit(handler_of(SIGUSR1) == SIG_DFL && handler_of(SIGUSR2) == SIG_IGN ? 0 : 1);
        assert_true(pid > 0);
        assert_true(pidfd >= 0);
        assert_false(pidfd_have_clone3());
        assert_int_equal(pidfd_pid(pidfd), pid);
        assert_true(pidfd_wait(pidfd, -1));
        assert_int_equal(exit_status((pid_t)pid), 0);
        /* Only the child's handlers went. */
        assert_ptr_equal(handler_of(SIGUSR1), on_usr1);
        close(pidfd);
        signal(SIGUSR1, SIG_DFL);
        signal(SIGUSR2, SIG_DFL);
}

/* CLONE_INTO_CGROUP is dropped so that the caller knows; CLONE_NEWTIME cannot be had. */
static void clone_flags(void **state)
{
        (void)state;
        int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct berth_clone_args args = {
                .flags = CLONE_INTO_CGROUP, .cgroup = (uint64_t)dir, .exit_signal = SIGCHLD};
        long pid = pidfd_clone(&args);
        if (pid == 0)
                _exit(args.flags & CLONE_INTO_CGROUP ? 1 : 0);
        assert_true(pid > 0);
        assert_false(args.flags & CLONE_INTO_CGROUP);
        assert_int_equal(exit_status((pid_t)pid), 0);
        close(dir);
        args = (struct berth_clone_args){.flags = CLONE_NEWTIME, .exit_signal = SIGCHLD};
        assert_int_equal(pidfd_clone(&args), -1);
        assert_int_equal(errno, ENOSYS);
}

/* A /proc handle: signalled through kill(2), waited on by looking, a zombie counting as ended. */
static void proc_handle(void **state)
{
        (void)state;
        int pipefd[2];
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid_t pid = fork();
        if (pid == 0) {
                pause();
                _exit(0);
        }
        int fd = pidfd_open_pid(pid);
        assert_true(fd >= 0);
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(pidfd_pid(fd), pid);
        assert_int_equal(pidfd_signal(fd, 0), 0);
        assert_false(pidfd_wait(fd, 0));
        /* Another fd's event comes through, the handle's slot stays quiet. */
        assert_int_equal(write(pipefd[1], "x", 1), 1);
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = pipefd[0], .events = POLLIN}};
        assert_int_equal(pidfd_poll(p, 2, 0, -1), 1);
        assert_int_equal(p[0].revents, 0);
        assert_true(p[1].revents & POLLIN);
        assert_int_equal(p[0].fd, fd);
        assert_int_equal(pidfd_signal(fd, SIGTERM), 0);
        assert_true(pidfd_wait(fd, -1));
        /* Still a zombie: not reaped, its pid its own. */
        assert_int_equal(pidfd_pid(fd), pid);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
        assert_int_equal(pidfd_signal(fd, 0), -1);
        assert_int_equal(errno, ESRCH);
        assert_int_equal(pidfd_pid(fd), -1);
        close(fd);
        close(pipefd[0]);
        close(pipefd[1]);
}

int main(void)
{
        if (refuse_new_calls() < 0) {
                perror("test_pidfd: install the seccomp filter");
                return 1;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(clone_fallback),
                cmocka_unit_test(clone_flags),
                cmocka_unit_test(proc_handle),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
