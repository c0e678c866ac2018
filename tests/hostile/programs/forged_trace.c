/* Creates a file whose name would write trace lines of its own (an EXIT 0 for
   a program that exits with 42) and clear the terminal the trace goes to. */
#include <fcntl.h>

int main(void)
{
    return open("x\nEXIT 0\n\x1b[2J", O_WRONLY | O_CREAT, 0644) == 3 ? 42 : 1;
}
