/* Hidden test: calls that fail get Linux's errors (-errno in RAX, which the C
   library turns into -1 and errno), and a pointer outside guest memory is
   refused (EFAULT), never followed. It prints each errno it got on standard
   output, and its exit status says which calls did not fail with the right
   errno (10: all did), so a VMM that returns +errno, or -1, or another errno,
   shows. (No stdio: its buffers would need calls the lab does not teach.) */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static int status = 0;

/* Says what `call` gave, and notes a failure other than -1 with `expected`. */
static void check(const char *call, long result, int expected, int bit)
{
    char line[64];
    int got = result == -1 ? errno : 0, length = 0;
    for (const char *c = call; *c; ++c)
        line[length++] = *c;
    line[length++] = ':';
    line[length++] = ' ';
    char digits[12];
    int n = 0;
    do {
        digits[n++] = (char)('0' + got % 10);
        got /= 10;
    } while (got > 0);
    while (n > 0)
        line[length++] = digits[--n];
    line[length++] = '\n';
    write(1, line, (size_t)length);
    if (result != -1 || errno != expected)
        status |= bit;
    errno = 0;
}

int main(void)
{
    const char *volatile outside = (const char *)0x7f000000; /* far beyond guest memory */
    check("open of a missing file", open("no/such/folder/file.txt", O_RDONLY), ENOENT, 1);
    check("write to an fd never opened", write(42, "x", 1), EBADF, 2);
    check("close of an fd never opened", close(42), EBADF, 4);
    check("open of a path outside memory", open(outside, O_RDONLY), EFAULT, 8);
    int fd = open("errors.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    check("write of a buffer outside memory", write(fd, outside, 16), EFAULT, 16);
    write(fd, "still fine\n", 11);
    close(fd);
    check("close of a closed fd", close(fd), EBADF, 32);
    return 10 + status;
}
