/* spawn_timer.c: times whole processes, for the benchmark driver (bench.py).
 *
 *   spawn_timer ROUNDS SPEC_FILE
 *
 * SPEC_FILE has one command per line, its fields separated by tabs:
 *
 *   LABEL  DIRECTORY  EXPECTED_STATUS  ARGV0  ARG1 ...
 *
 * Each round runs every command once, in file order, so that all commands see
 * the same machine conditions (interleaved, not one after the other). Round 0
 * is a warm-up (page cache, CPU frequency) and is not reported. For each run it
 * prints one line:
 *
 *   LABEL  ROUND  NANOSECONDS  MAX_RSS_KIB  STATUS
 *
 * NANOSECONDS runs from just before posix_spawn() to wait4()'s return: the
 * whole process, exec and exit included, as a shell would see it. MAX_RSS_KIB
 * is the child's peak resident set (ru_maxrss). Standard input, output and
 * error of the command are /dev/null, so that no terminal or pipe slows it.
 * Exit status 1 if a command's status differs from EXPECTED_STATUS (every run
 * is still reported; the driver says which command failed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

#define MAX_COMMANDS 64
#define MAX_ARGS 32

struct command {
    char* label;
    char* directory;
    int expected;
    char* argv[MAX_ARGS + 1];
};

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char** argv)
{
    if (argc != 3) {
        fputs("usage: spawn_timer ROUNDS SPEC_FILE\n", stderr);
        return 2;
    }
    const int rounds = atoi(argv[1]);
    FILE* spec = fopen(argv[2], "r");
    if (!spec) {
        perror(argv[2]);
        return 2;
    }
    static struct command commands[MAX_COMMANDS];
    int count = 0;
    char* line = NULL;
    size_t capacity = 0;
    while (getline(&line, &capacity, spec) > 0) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '\0')
            continue;
        if (count == MAX_COMMANDS) {
            fputs("spawn_timer: too many commands\n", stderr);
            return 2;
        }
        struct command* c = &commands[count];
        char *copy = strdup(line), *save = NULL;
        c->label = strtok_r(copy, "\t", &save);
        c->directory = strtok_r(NULL, "\t", &save);
        char* expected = strtok_r(NULL, "\t", &save);
        int n = 0;
        for (char* arg; n < MAX_ARGS && (arg = strtok_r(NULL, "\t", &save));)
            c->argv[n++] = arg;
        if (!c->label || !c->directory || !expected || n == 0) {
            fprintf(stderr, "spawn_timer: bad line: %s\n", line);
            return 2;
        }
        c->expected = atoi(expected);
        c->argv[n] = NULL;
        ++count;
    }
    fclose(spec);

    /* The children's standard streams: all /dev/null. */
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (int fd = 0; fd < 3; ++fd)
        posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY,
                                         0);

    int failed = 0;
    for (int round = 0; round <= rounds; ++round) {
        for (int i = 0; i < count; ++i) {
            struct command* c = &commands[i];
            /* chdir here rather than in the child: posix_spawn_file_actions_addchdir_np
             * exists only in newer C libraries, and the cost is outside the timing. */
            if (chdir(c->directory) != 0) {
                perror(c->directory);
                return 2;
            }
            pid_t pid;
            struct rusage usage;
            int status;
            const long long start = now_ns();
            int error = posix_spawn(&pid, c->argv[0], &actions, NULL, c->argv, environ);
            if (error != 0) {
                fprintf(stderr, "spawn_timer: %s: %s\n", c->argv[0], strerror(error));
                return 2;
            }
            while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
            }
            const long long elapsed = now_ns() - start;
            const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            if (code != c->expected) {
                fprintf(stderr, "spawn_timer: %s exited with %d, not %d\n", c->label, code,
                        c->expected);
                failed = 1;
            }
            if (round > 0)
                printf("%s\t%d\t%lld\t%ld\t%d\n", c->label, round, elapsed, usage.ru_maxrss, code);
        }
    }
    return failed;
}
