/* The memory calls, each result checked and printed (report.h): brk, mmap
   (anonymous and of a file), munmap, mprotect, mremap. Addresses differ from
   Linux's, so the report says what was found there, not where. With an
   argument, it then touches memory it no longer may: "unmapped" a page it
   unmapped, "read-only" a page it made read-only; that must fault. */
#define _GNU_SOURCE
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static long result(long value)
{
    return value < 0 ? -errno : value;
}

static int all(const unsigned char *bytes, long length, unsigned char value)
{
    for (long i = 0; i < length; i++) {
        if (bytes[i] != value) {
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    /* The break: where it starts, growing and shrinking. */
    char *start = (char *)syscall(SYS_brk, 0);
    char *grown = (char *)syscall(SYS_brk, start + 10000);
    report("brk-grows", grown == start + 10000);
    report("brk-zeroed", all((unsigned char *)start, 10000, 0));
    start[9999] = 1;
    report("brk-shrinks", (char *)syscall(SYS_brk, start + 4096) == start + 4096);
    report("brk-below-start", (char *)syscall(SYS_brk, start - 4096) == start + 4096);

    /* Anonymous memory: zeroed, writable, given back. */
    unsigned char *pages = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                -1, 0);
    report("mmap", pages != MAP_FAILED);
    report("mmap-aligned", ((unsigned long)pages & 4095) == 0);
    report("mmap-zeroed", all(pages, 3 * 4096, 0));
    for (int i = 0; i < 3 * 4096; i++) {
        pages[i] = (unsigned char)i;
    }
    report("mprotect", result(mprotect(pages, 4096, PROT_READ)));
    report("still-readable", pages[10]);
    report("munmap-middle", result(munmap(pages + 4096, 4096)));
    report("mmap-bad-length", result((long)mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
                                                -1, 0)));
    report("munmap-unaligned", result(munmap(pages + 1, 4096)));
    report("mprotect-unmapped", result(mprotect(pages + 4096, 4096, PROT_READ)));

    /* mremap: grown, and moved with its bytes when it must. */
    unsigned char *moving = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                 -1, 0);
    moving[100] = 42;
    unsigned char *moved = mremap(moving, 4096, 64 * 4096, MREMAP_MAYMOVE);
    report("mremap", moved != MAP_FAILED);
    report("mremap-kept", moved[100]);
    report("mremap-zeroed", all(moved + 4096, 63 * 4096, 0));
    moved[64 * 4096 - 1] = 1;
    report("mremap-shrink", mremap(moved, 64 * 4096, 4096, 0) == moved);

    /* A file, mapped privately: its bytes, then zeros to the page's end. */
    int file = open("mapped.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(file, "mapped file bytes\n", 18);
    char *view = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, file, 0);
    report("mmap-file", view != MAP_FAILED);
    write(1, view, 18);
    report("mmap-file-zeros", all((unsigned char *)view + 18, 4096 - 18, 0));
    view[0] = 'M'; /* private: the file does not change */
    char first;
    pread(file, &first, 1, 0);
    report("file-unchanged", first == 'm');
    report("mmap-offset", result((long)mmap(0, 4096, PROT_READ, MAP_PRIVATE, file, 1)));
    report("mmap-bad-fd", result((long)mmap(0, 4096, PROT_READ, MAP_PRIVATE, 40, 0)));
    close(file);

    /* Fixed placement. */
    unsigned char *fixed = mmap(pages + 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
                                MAP_FIXED, -1, 0);
    report("mmap-fixed", fixed == pages + 4096);
    report("mmap-fixed-noreplace", result((long)mmap(pages, 4096, PROT_READ, MAP_PRIVATE |
                                                     MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
                                                     0)));

    if (argc > 1 && argv[1][0] == 'u') {
        say("touching an unmapped page\n");
        munmap(fixed, 4096);
        return fixed[0];
    }
    if (argc > 1 && argv[1][0] == 'r') {
        say("writing to a read-only page\n");
        pages[0] = 1;
        return 3;
    }
    return 0;
}
