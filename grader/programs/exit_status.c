/* Hidden test: an exit status other than 0, and a file opened for appending
   with mode 0600. */
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
    int fd = open("status.log", O_WRONLY | O_CREAT | O_APPEND, 0600);
    write(fd, "exiting with 42\n", 16);
    close(fd);
    return 42;
}
