/* Writes to its standard output, which the test makes a pipe whose reader has
   gone: the write must fail with EPIPE, and the program go on. */
#include <errno.h>
#include <unistd.h>

int main(void)
{
    if (write(1, "x", 1) != -1)
        return 1;
    return errno == EPIPE ? 0 : 2;
}
