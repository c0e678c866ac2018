// arguments: "from argv.txt" "some words, and more"
/* Hidden test: the file name and the text come from the command line, so they
   are on the stack, not in the program's data; the text also goes to standard
   output (fd 1). Exits with argc. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3)
        return 100;
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    size_t length = strlen(argv[2]);
    write(fd, argv[2], length);
    write(1, argv[2], length);
    write(1, "\n", 1);
    close(fd);
    return argc;
}
