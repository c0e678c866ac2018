/* The calls about time, identity, limits and signals, each result printed
   (report.h) where it does not depend on the process (its pid, the time):
   run natively and under the VMM, the two reports must match. */
#define _GNU_SOURCE
#include "report.h"

#include <errno.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>

static long result(long value)
{
    return value < 0 ? -errno : value;
}

static void handler(int signal)
{
    (void)signal;
}

int main(void)
{
    struct utsname names;
    report("uname", result(uname(&names)));
    say(names.sysname);
    say(" ");
    say(names.machine);
    say("\n");

    report("getpid-is-gettid", getpid() == syscall(SYS_gettid));
    report("getppid-differs", getppid() != getpid());
    report("getuid", getuid());
    report("geteuid", geteuid());
    report("getgid", getgid());
    report("getegid", getegid());

    struct timespec before, after, nap = {0, 20 * 1000 * 1000};
    report("clock_gettime", result(clock_gettime(CLOCK_MONOTONIC, &before)));
    report("nanosleep", result(nanosleep(&nap, 0)));
    report("clock_nanosleep", result(clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, 0)));
    clock_gettime(CLOCK_MONOTONIC, &after);
    long slept = (after.tv_sec - before.tv_sec) * 1000 + (after.tv_nsec - before.tv_nsec) / 1000000;
    report("slept-40ms", slept >= 40);
    struct timeval now;
    report("gettimeofday", result(gettimeofday(&now, 0)));
    time_t seconds;
    report("time", time(&seconds) == seconds && seconds > 1700000000);
    report("clock-bad", result(clock_gettime(12345, &before)));

    unsigned char random[16];
    report("getrandom", result(getrandom(random, sizeof random, 0)));
    report("getrandom-bad-flags", result(getrandom(random, sizeof random, 0x1000)));

    report("umask", umask(027));
    report("umask-again", umask(022));

    struct rlimit limit;
    report("getrlimit", result(getrlimit(RLIMIT_NOFILE, &limit)));
    report("  soft-at-most-hard", limit.rlim_cur <= limit.rlim_max);
    report("getrlimit-bad", result(syscall(SYS_prlimit64, 0, 999, 0, &limit)));

    struct sigaction action = {0}, old;
    action.sa_handler = handler;
    report("sigaction", result(sigaction(SIGUSR1, &action, 0)));
    report("sigaction-read", result(sigaction(SIGUSR1, 0, &old)));
    report("  same-handler", old.sa_handler == handler);
    report("sigaction-kill", result(sigaction(SIGKILL, &action, 0)));
    report("sigaction-bad", result(syscall(SYS_rt_sigaction, 65, 0, 0, 8)));
    sigset_t set, previous;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    report("sigprocmask", result(sigprocmask(SIG_BLOCK, &set, 0)));
    report("sigprocmask-read", result(sigprocmask(SIG_BLOCK, 0, &previous)));
    report("  blocked", sigismember(&previous, SIGUSR2));
    report("sigprocmask-bad", result(syscall(SYS_rt_sigprocmask, 7, &set, 0, 8)));
    static char alternate[16384];
    stack_t stack = {.ss_sp = alternate, .ss_size = sizeof alternate}, old_stack;
    report("sigaltstack", result(sigaltstack(&stack, 0)));
    report("sigaltstack-read", result(sigaltstack(0, &old_stack)));
    report("  same-size", old_stack.ss_size == sizeof alternate);
    stack.ss_size = 100;
    report("sigaltstack-small", result(sigaltstack(&stack, 0)));
    return 0;
}
