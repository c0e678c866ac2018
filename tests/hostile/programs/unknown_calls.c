/* Makes thousands of system calls the VMM does not know: each must return
   ENOSYS and the run go on. */
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(void)
{
    for (long i = 0; i < 5000; i++) {
        long number = 1000 + i % 1000; /* numbers Linux x86-64 does not use */
        if (syscall(number, i, i, i) != -1 || errno != ENOSYS)
            return 1;
    }
    return 0;
}
