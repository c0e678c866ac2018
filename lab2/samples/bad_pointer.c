/* Sample: pointers a VMM must refuse, not follow. A write whose buffer starts
   inside guest memory and runs past its end (8 MiB, the VMM's default), and an
   open whose path lies far outside it: both fail with EFAULT, in the VM as
   natively, where nothing is mapped at these addresses. The program goes on,
   and exits with 0 when both calls failed as they should. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* 8 bytes before the end of guest memory, and 1 GiB, far past it. volatile:
   the compiler must pass these addresses to the calls as they are. */
static const char *volatile across_the_end = (const char *)0x7ffff8;
static const char *volatile far_away = (const char *)0x40000000;

int main(void)
{
    int status = 0;
    int fd = open("pointers.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (write(fd, across_the_end, 16) != -1 || errno != EFAULT)
        status |= 1;
    if (open(far_away, O_RDONLY) != -1 || errno != EFAULT)
        status |= 2;
    write(fd, "still running\n", 14);
    close(fd);
    return status;
}
