/* Calls whose fd and buffer are both wrong: Linux checks the file first
   (vfs_write, vfs_read), so an fd that is not open, or not open for that
   use, is EBADF whatever the buffer; only then a bad buffer is EFAULT.
   Prints each result, -errno for a failure (report.h): run natively and under
   the VMM, the output must be the same. */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

static const char read_only[] = "read-only data";

#define KERNEL_SPACE ((void *)0xffff800000000000)

static long result(long value)
{
    return value == -1 ? -errno : value;
}

int main(void)
{
    const int read_fd = open("file", O_RDONLY | O_CREAT, 0600);
    const int write_fd = open("file", O_WRONLY);
    const int path_fd = open(".", O_PATH);
    const struct iovec bad = {NULL, 5};
    report("write", result(write(write_fd, "0123456789", 10)));

    report("write read-only fd from NULL", result(write(read_fd, NULL, 5)));
    report("write read-only fd 0 from kernel space", result(write(read_fd, KERNEL_SPACE, 0)));
    report("write O_PATH fd from NULL", result(write(path_fd, NULL, 5)));
    report("write no fd from NULL", result(write(99, NULL, 5)));
    report("writev read-only fd from NULL", result(writev(read_fd, NULL, 1)));
    report("pwrite read-only fd from NULL", result(pwrite(read_fd, NULL, 5, 0)));
    report("read write-only fd into NULL", result(read(write_fd, NULL, 5)));
    report("read write-only fd into read-only data", result(read(write_fd, (void *)read_only, 4)));
    report("read O_PATH fd into NULL", result(read(path_fd, NULL, 5)));
    report("readv write-only fd into NULL", result(readv(write_fd, &bad, 1)));
    report("pread write-only fd into NULL", result(pread(write_fd, NULL, 5, 0)));

    /* Then the buffer, on an fd open for the call. */
    report("write 0 from kernel space", result(write(write_fd, KERNEL_SPACE, 0)));
    report("write from NULL", result(write(write_fd, NULL, 5)));
    report("read into NULL", result(read(read_fd, NULL, 5)));
    report("read 0 into kernel space", result(read(read_fd, KERNEL_SPACE, 0)));
    return 0;
}
