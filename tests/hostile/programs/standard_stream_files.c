/* The standard streams are the VMM's: the test makes stdin a directory
   outside the working directory and stdout a file outside it. Tries to
   change those files or reach past them; exits with the number of calls
   that did not fail. Reading and writing them, and fstat, must work. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int succeeded;

static void must_fail(long result)
{
    if (result >= 0) {
        succeeded++;
    }
}

int main(void)
{
    struct timespec times[2] = {{1, 0}, {1, 0}};
    struct stat info;
    must_fail(fchmod(1, 0777));
    must_fail(fchmod(0, 0777));
    must_fail(futimens(1, times));
    must_fail(utimensat(1, "", times, AT_EMPTY_PATH));
    must_fail(ftruncate(1, 0));
    must_fail(openat(0, "precious", O_RDONLY));
    must_fail(openat(0, "made-outside", O_WRONLY | O_CREAT, 0644));
    must_fail(fstatat(0, "precious", &info, 0));
    must_fail(mkdirat(0, "made-outside", 0755));
    must_fail(linkat(1, "", AT_FDCWD, "linked", AT_EMPTY_PATH));
    must_fail(syscall(SYS_fchmodat, 0, "precious", 0777));
    int copy = dup(0);
    must_fail(openat(copy, "precious", O_RDONLY));
    must_fail(fchmod(copy, 0777));
    /* What the guest may do with them: write, and ask what they are. */
    if (fstatat(1, "", &info, AT_EMPTY_PATH) != 0 || !S_ISREG(info.st_mode) ||
        write(1, "written\n", 8) != 8 || fchown(1, -1, -1) != 0) {
        return 100;
    }
    return succeeded;
}
