/* The program of Lab 2, run inside the micro-VM. */
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
    int fd = open("./ay_caramba", O_RDWR | O_CREAT, 0777);
    write(fd, "Hello World !!!\n", 16);
    write(fd, "Bye Bye !!!\n", 12);
    close(fd);
    return 0;
}
