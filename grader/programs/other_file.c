/* Hidden test: another file name, other open flags and mode, and writes of
   other sizes: one byte, 100000 bytes at once (from .bss), nothing at all. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static char big[100000];

int main(void)
{
    memset(big, '.', sizeof big);
    for (unsigned i = 0; i < sizeof big; i += 1000) /* a letter every 1000 bytes */
        big[i] = (char)('a' + i / 1000 % 26);
    int fd = open("notes.txt", O_WRONLY | O_CREAT | O_TRUNC, 0640);
    write(fd, "x", 1);
    write(fd, big, sizeof big);
    write(fd, big, 0);
    write(fd, "the end\n", 8);
    close(fd);
    return 0;
}
