/* Creates a file with the set-uid and set-gid bits, as a program would that
   hopes someone runs it as root: the VMM must give it permission bits only. */
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
    int fd = open("f", O_WRONLY | O_CREAT, 06755);
    if (fd < 0)
        return 1;
    return write(fd, "#!/bin/sh\nid\n", 13) == 13 ? 0 : 2;
}
