/* Tries to create files outside its working directory: through "..", an
   absolute path, and a symlink the test put in the working directory. Exits
   with the number of opens that succeeded. */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int opened = 0;
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            write(fd, "escaped\n", 8);
            close(fd);
            opened++;
        }
    }
    return opened;
}
