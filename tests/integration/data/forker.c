/* forker: every process forks again and again, ignoring SIGTERM, and keeps
 * trying when the pids limit refuses; children are reaped at once (SIGCHLD
 * ignored), so a killed one's pid is free for a new fork at once.  What
 * `berth stop` and `kill --all` must kill without letting one escape
 * (tests/integration/test_stop.py).  Build static. */
#include <signal.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
        struct timespec pause = {0, 1000000};
        signal(SIGTERM, SIG_IGN);
        signal(SIGCHLD, SIG_IGN);
        for (;;)
                if (fork() < 0)
                        nanosleep(&pause, NULL);
}
