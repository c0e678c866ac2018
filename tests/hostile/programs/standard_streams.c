/* Writes a byte to each of its standard streams. The test starts the VMM with
   them closed: they must then be /dev/null, not the VMM's /dev/kvm, VM or
   vCPU. Exits with the number of writes that failed. */
#include <unistd.h>

int main(void)
{
    int failed = 0;
    for (int fd = 0; fd < 3; fd++)
        failed += write(fd, "x", 1) != 1;
    return failed;
}
