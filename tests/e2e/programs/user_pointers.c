/* Hands system calls pointers to memory the program may not use so: page 0
   (NULL), boot.asm's pages in the VM (its exception stack, its code, the page
   tables; nothing is there natively), read-only data to be filled, memory
   given back or protected, a path that runs into an unmapped page, and empty
   buffers anywhere. Prints each result, -errno for a failure (report.h): run
   natively and under the VMM, the output must be the same. */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static const char read_only[] = "read-only data\n";

/* The addresses of boot.asm's pages in the VM (vm_manager/guest_layout.hpp). */
#define EXCEPTION_STACK ((void *)0x1000)
#define BOOT_IMAGE ((void *)0x8000)
#define PAGE_TABLES ((void *)0x10000)

static long result(long value)
{
    return value == -1 ? -errno : value;
}

int main(void)
{
    /* Into a file: were boot.asm's pages copied out, the file would show it. */
    const int fd = open("file", O_RDWR | O_CREAT | O_TRUNC, 0600);
    report("write NULL", result(write(fd, NULL, 5)));
    report("write exception stack", result(write(fd, EXCEPTION_STACK, 16)));
    report("write boot image", result(write(fd, BOOT_IMAGE, 16)));
    report("write page tables", result(write(fd, PAGE_TABLES, 16)));
    report("write read-only data", result(write(fd, read_only, 15)));
    /* Nothing to copy: Linux checks only that the address is in user space. */
    report("write 0 from NULL", result(write(fd, NULL, 0)));
    report("write 0 past memory", result(write(fd, (void *)0x10000000000, 0)));
    report("write 0 at user space end", result(write(fd, (void *)0x7ffffffff000, 0)));
    report("write 0 from kernel space", result(write(fd, (void *)0xffff800000000000, 0)));
    report("open NULL", result(open(NULL, O_RDONLY)));
    report("open boot image", result(open(BOOT_IMAGE, O_RDONLY)));

    /* Calls that fill a buffer need it writable: raw calls, so that the C
       library itself does not write there. */
    report("lseek", result(lseek(fd, 0, SEEK_SET)));
    report("read into read-only data", result(read(fd, (void *)read_only, 4)));
    report("read into boot image", result(read(fd, BOOT_IMAGE, 4)));
    report("fstat into read-only data", result(syscall(SYS_fstat, fd, read_only)));
    report("clock_gettime into read-only data",
           result(syscall(SYS_clock_gettime, CLOCK_REALTIME, read_only)));
    const struct iovec into_read_only = {(void *)read_only, 4};
    report("readv into read-only data", result(readv(fd, &into_read_only, 1)));
    report("read 0 into NULL", result(read(fd, NULL, 0)));

    /* Two pages, then the second given back: a path that ends just before it
       is read, one that runs into it is not. */
    char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    report("mmap", pages == MAP_FAILED ? -errno : 0);
    report("munmap", result(munmap(pages + 4096, 4096)));
    report("write from unmapped page", result(write(fd, pages + 4096, 1)));
    pages[4093] = 'a';
    pages[4094] = 'b';
    pages[4095] = '\0';
    report("open path ending at the page's end", result(open(pages + 4093, O_RDONLY)));
    pages[4095] = 'c';
    report("open path running into an unmapped page", result(open(pages + 4093, O_RDONLY)));
    report("mprotect read", result(mprotect(pages, 4096, PROT_READ)));
    report("read into a read-only page", result(read(fd, pages, 1)));
    report("write from a read-only page", result(write(fd, pages + 4093, 2)));
    report("mprotect none", result(mprotect(pages, 4096, PROT_NONE)));
    report("write from a page without access", result(write(fd, pages, 1)));
    return 0;
}
