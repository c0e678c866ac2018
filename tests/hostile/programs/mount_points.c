/* Opens /proc files through the procfs the test mounts in its working
   directory: renaming the VMM (comm), writing its memory (mem). Each open
   must fail with EXDEV; exits with the number that did not. Then opens "."
   with O_PATH, which Linux allows (exit status 10 if that fails). */
#include <errno.h>
#include <fcntl.h>

int main(void)
{
    int crossed = 0;
    if (open("proc/self/comm", O_WRONLY) != -1 || errno != EXDEV)
        crossed++;
    if (open("proc/self/mem", O_RDWR) != -1 || errno != EXDEV)
        crossed++;
    if (open(".", O_PATH) < 0)
        return 10;
    return crossed;
}
