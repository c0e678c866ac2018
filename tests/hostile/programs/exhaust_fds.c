/* Opens files until it may open no more, then checks that closing one lets it
   open one again. Exits with the number of files it had open at most (the
   guest's limit), or 255 on an unexpected error. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
    int count = 0, last = -1;
    for (;;) {
        int fd = open("f", O_RDONLY | O_CREAT, 0644);
        if (fd < 0) {
            if (errno != EMFILE)
                return 255;
            break;
        }
        last = fd;
        if (++count > 100000)
            return 255;
    }
    close(last);
    if (open("f", O_RDONLY) != last)
        return 255;
    return count;
}
