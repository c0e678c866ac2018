/* Closes every fd number it can name, including ones that might belong to the
   VMM, then checks that writing to stdout fails and that the VMM still runs it. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
    for (int fd = 0; fd < 4096; fd++)
        close(fd);
    if (write(1, "x", 1) != -1 || errno != EBADF)
        return 1;
    int fd = open("still-works", O_WRONLY | O_CREAT, 0644);
    if (fd != 0) /* the lowest free number, as on Linux */
        return 2;
    return write(fd, "ok\n", 3) == 3 ? 0 : 3;
}
