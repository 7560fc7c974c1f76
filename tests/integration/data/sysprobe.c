/* sysprobe: one system call with chosen arguments, for the seccomp and
 * capability tests (built static by conftest.py's `sysprobe` fixture).
 *
 *   sysprobe call NAME [ARG...]    syscall NAME(ARG...); prints "ret=R errno=E"
 *   sysprobe trap NAME [ARG...]    the same with a SIGSYS handler that prints "sigsys nr=N"
 *   sysprobe thread NAME [ARG...]  the call in a second thread; prints "survived" after it
 *   sysprobe nr NAME               prints the number of system call NAME
 *   sysprobe ids                   prints "uid=U euid=E groups=G,G"
 *   sysprobe bind PORT             binds a TCP socket to PORT (any address); "ok" or "errno=E"
 *   sysprobe open PATH r|w         opens PATH; "ok" or "errno=E"
 *
 * ARG is a number (strtoull, base 0) or s:TEXT for a pointer to TEXT. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
        const char *name;
        long nr;
} calls[] = {
        {"getppid", SYS_getppid},
        {"getpid", SYS_getpid},
        {"getuid", SYS_getuid},
        {"personality", SYS_personality},
        {"umask", SYS_umask},
        {"mkdir", SYS_mkdir},
        {"mkdirat", SYS_mkdirat},
        {"clone3", SYS_clone3},
        {"unshare", SYS_unshare},
        {"sched_yield", SYS_sched_yield},
        {"getpriority", SYS_getpriority},
};

static long nr_of(const char *name)
{
        for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
                if (strcmp(calls[i].name, name) == 0)
                        return calls[i].nr;
        char *end;
        long n = strtol(name, &end, 0);
        if (*name && !*end)
                return n;
        fprintf(stderr, "sysprobe: unknown system call `%s`\n", name);
        exit(2);
}

static long nr;
static unsigned long args[6];

static void parse(int argc, char **argv)
{
        nr = nr_of(argv[0]);
        for (int i = 1; i < argc && i <= 6; i++)
                args[i - 1] = strncmp(argv[i], "s:", 2) == 0 ? (unsigned long)(argv[i] + 2)
                                                             : strtoull(argv[i], NULL, 0);
}

static void call(void)
{
        errno = 0;
        long r = syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
        printf("ret=%ld errno=%d\n", r, r < 0 ? errno : 0);
        fflush(stdout);
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
        (void)sig, (void)ctx;
        char buf[64];
        int n = snprintf(buf, sizeof buf, "sigsys nr=%d\n", si->si_syscall);
        (void)!write(1, buf, (size_t)n);
}

static void *thread_main(void *arg)
{
        (void)arg;
        call();
        return NULL;
}

int main(int argc, char **argv)
{
        if (argc < 2)
                return 2;
        const char *cmd = argv[1];
        if (strcmp(cmd, "ids") == 0) {
                gid_t groups[64];
                int n = getgroups(64, groups);
                printf("uid=%d euid=%d groups=", (int)getuid(), (int)geteuid());
                for (int i = 0; i < n; i++)
                        printf("%s%d", i ? "," : "", (int)groups[i]);
                printf("\n");
                return 0;
        }
        if (strcmp(cmd, "bind") == 0 && argc == 3) {
                int s = socket(AF_INET, SOCK_STREAM, 0);
                struct sockaddr_in a = {.sin_family = AF_INET,
                                        .sin_port = htons((uint16_t)atoi(argv[2])),
                                        .sin_addr = {htonl(INADDR_ANY)}};
                if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0)
                        printf("errno=%d\n", errno);
                else
                        printf("ok\n");
                return 0;
        }
        if (strcmp(cmd, "open") == 0 && argc == 4) {
                int fd = open(argv[2], argv[3][0] == 'w' ? O_WRONLY : O_RDONLY);
                if (fd < 0)
                        printf("errno=%d\n", errno);
                else
                        printf("ok\n");
                return 0;
        }
        if (argc < 3)
                return 2;
        parse(argc - 2, argv + 2);
        if (strcmp(cmd, "nr") == 0) {
                printf("%ld\n", nr);
                return 0;
        }
        if (strcmp(cmd, "call") == 0) {
                call();
        } else if (strcmp(cmd, "trap") == 0) {
                struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
                sigaction(SIGSYS, &sa, NULL);
                call();
        } else if (strcmp(cmd, "thread") == 0) {
                pthread_t t;
                if (pthread_create(&t, NULL, thread_main, NULL) != 0)
                        return 3;
                pthread_join(t, NULL);
                printf("survived\n");
        } else {
                return 2;
        }
        return 0;
}
