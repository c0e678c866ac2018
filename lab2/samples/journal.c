/* Sample: another file name, other open flags and mode, writes of other sizes.
   Creates (or empties) journal.txt, write-only, with mode 0600, then writes one
   byte, 2 KiB of text in one call, nothing at all, and a last line. */
#include <fcntl.h>
#include <unistd.h>

/* 64 bytes, 32 times over: 2048 bytes in the program's read-only data. */
#define LINE "Each VM exit is one system call of the program, carried out.   \n"
#define EIGHT_LINES LINE LINE LINE LINE LINE LINE LINE LINE
static const char page[] = EIGHT_LINES EIGHT_LINES EIGHT_LINES EIGHT_LINES;

int main(void)
{
    int fd = open("journal.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    write(fd, "#", 1);
    write(fd, page, sizeof page - 1); /* the whole page, without its final NUL */
    write(fd, page, 0);               /* nothing: returns 0 */
    write(fd, "-- end of journal\n", 18);
    close(fd);
    return 0;
}
