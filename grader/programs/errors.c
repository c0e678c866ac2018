/* Hidden test: calls that fail get Linux's errors (-errno in RAX), and a
   pointer outside guest memory is refused (EFAULT), never followed. The exit
   status says which calls did not fail as they should (10: all did). */
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
    const char *volatile outside = (const char *)0x7f000000; /* far beyond guest memory */
    int status = 0;
    if (open("no/such/folder/file.txt", O_RDONLY) != -1) /* ENOENT */
        status |= 1;
    if (write(42, "x", 1) != -1) /* EBADF: never opened */
        status |= 2;
    if (close(42) != -1) /* EBADF */
        status |= 4;
    if (open(outside, O_RDONLY) != -1) /* EFAULT */
        status |= 8;
    int fd = open("errors.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (write(fd, outside, 16) != -1) /* EFAULT */
        status |= 16;
    write(fd, "still fine\n", 11);
    close(fd);
    if (close(fd) != -1) /* EBADF: already closed */
        status |= 32;
    return 10 + status;
}
