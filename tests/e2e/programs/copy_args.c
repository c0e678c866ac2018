/* Someone else's program: only open, write, close and exit. It writes each of
   its arguments to the file named by the first, echoes them on standard output,
   and exits with the number of arguments. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 100;
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return 101;
    for (int i = 2; i < argc; i++) {
        write(fd, argv[i], strlen(argv[i]));
        write(fd, "\n", 1);
        write(1, argv[i], strlen(argv[i]));
        write(1, "\n", 1);
    }
    if (close(fd) != 0)
        return 102;
    if (close(fd) == 0) /* a second close must fail with EBADF, as on Linux */
        return 103;
    if (write(42, "x", 1) != -1) /* so must a write to an fd that was never opened */
        return 104;
    return argc;
}
