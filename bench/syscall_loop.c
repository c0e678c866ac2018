/* syscall_loop.c: the guest of forwarded_syscall, native_syscall and qemu_syscall.
 *
 *   syscall_loop N
 *
 * Creates the file syscall_loop.out in the current directory (the VMM lets a
 * guest open files only there), makes N write() calls of 0 bytes to it (about
 * the cheapest system call the reference VMM forwards to the host: one
 * `syscall`, one host write(2) that writes nothing), closes it and returns 0.
 * Built with musl-gcc -static like the lab program, and run unchanged natively,
 * under qemu-x86_64 and under the reference VMM. The benchmark runs it with N
 * and with 0 and divides the difference in time by N: the cost of one call,
 * with start-up and exit taken out.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    const long count = argc > 1 ? atol(argv[1]) : 0;
    const int fd = open("syscall_loop.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return 1;
    for (long i = 0; i < count; ++i) {
        if (write(fd, "", 0) != 0)
            return 1;
    }
    close(fd);
    return 0;
}
