/* Sample: two files open at once, written in turn, and a write to a file that
   was closed already (EBADF, for the program; the run goes on). */
#include <fcntl.h>
#include <unistd.h>

/* Linux gives each new file the lowest free descriptor: 3, then 4. */
int main(void)
{
    int events = open("events.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int copy = open("copy.log", O_RDWR | O_CREAT | O_TRUNC, 0664);
    write(events, "start\n", 6);
    write(copy, "start\n", 6);
    write(events, "working\n", 8);
    close(events);
    write(events, "too late\n", 9); /* closed: fails with EBADF */
    write(copy, "done\n", 5);
    close(copy);
    return 0;
}
