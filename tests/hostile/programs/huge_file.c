/* Writes a file far larger than the VMM lets a guest write: the writes must
   start failing (EFBIG) and the run go on. Exits 0 when they did. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static char chunk[1 << 20];

int main(void)
{
    int fd = open("big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (int i = 0; i < 256; i++) {
        ssize_t n = write(fd, chunk, sizeof chunk);
        if (n < 0)
            return errno == EFBIG ? 0 : 2;
        if (n < (ssize_t)sizeof chunk && write(fd, chunk, 1) < 0)
            return errno == EFBIG ? 0 : 2;
    }
    return 1; /* 256 MiB written: no limit */
}
