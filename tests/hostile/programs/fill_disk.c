/* Fills one file after another, 1 MiB at a time, until a write fails. Exits
   with the number of MiB written when the failure was EDQUOT (a full disk
   quota), 255 for another failure, 254 when it never failed. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static char chunk[1 << 20];

int main(void)
{
    char name[] = "f0";
    int written = 0;
    for (int file = 0; file < 8; file++) {
        name[1] = (char)('0' + file);
        int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        for (int i = 0; i < 64; i++) {
            ssize_t n = write(fd, chunk, sizeof chunk);
            if (n < 0)
                return errno == EDQUOT ? written : 255;
            if (n == (ssize_t)sizeof chunk)
                written++;
        }
        close(fd);
    }
    return 254;
}
