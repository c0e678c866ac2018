/* Tries every call beyond the lab's that takes a path, a directory fd or a
   guest address to reach outside its working directory or outside guest
   memory: "..", absolute paths, the symlinks the test put in the working
   directory (link-out to a file outside, dir-out to the directory outside),
   a directory fd, chdir, hard links through a symlink, a file mapped then
   written back. Exits with the number of calls that did not fail. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static int succeeded;

static void must_fail(long result)
{
    if (result >= 0) {
        succeeded++;
    }
}

int main(void)
{
    struct stat info;
    char buffer[256];
    struct timespec times[2] = {{1, 0}, {1, 0}};

    must_fail(mkdir("../made-outside", 0755));
    must_fail(mkdir("dir-out/made-outside", 0755));
    must_fail(mkdir("/tmp/made-outside-by-guest", 0755));
    must_fail(rmdir(".."));
    must_fail(unlink("dir-out/precious"));
    must_fail(unlink("../precious"));
    must_fail(rename("link-out", "../moved"));
    must_fail(rename("dir-out/precious", "stolen"));
    must_fail(link("dir-out/precious", "stolen"));
    must_fail(linkat(AT_FDCWD, "link-out", AT_FDCWD, "stolen", AT_SYMLINK_FOLLOW));
    must_fail(symlink("x", "dir-out/planted"));
    must_fail(chmod("link-out", 0777));
    must_fail(chmod("dir-out/precious", 0777));
    must_fail(chown("link-out", 0, 0));
    must_fail(utimensat(AT_FDCWD, "link-out", times, 0));
    must_fail(truncate("link-out", 0));
    must_fail(stat("link-out", &info));
    must_fail(stat("/etc/passwd", &info));
    must_fail(lstat("dir-out/precious", &info));
    must_fail(access("../precious", F_OK));
    must_fail(readlink("dir-out/link", buffer, sizeof buffer));
    must_fail(chdir(".."));
    must_fail(chdir("dir-out"));
    must_fail(chdir("/"));
    must_fail(openat(AT_FDCWD, "dir-out/precious", O_RDONLY));
    int here = open(".", O_RDONLY | O_DIRECTORY);
    must_fail(openat(here, "../precious", O_RDONLY));
    must_fail(fstatat(here, "../precious", &info, 0));
    must_fail(unlinkat(here, "../precious", 0));
    must_fail(mkdirat(here, "../made-outside", 0755));
    must_fail(renameat(here, "link-out", here, "../moved"));
    must_fail(syscall(SYS_statx, here, "../precious", 0, 0x7ff, buffer));

    /* Inside, then up and out. */
    if (mkdir("inner", 0755) == 0 && chdir("inner") == 0) {
        must_fail(open("../../precious", O_RDONLY));
        must_fail(chdir("../.."));
        chdir("..");
    }

    /* Guest memory only: the boot code, the page tables, past the end. */
    must_fail((long)mmap((void *)0x8000, 4096, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == (long)MAP_FAILED ? -1 : 0);
    must_fail((long)mmap((void *)0x10000, 4096, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == (long)MAP_FAILED ? -1 : 0);
    must_fail((long)mmap((void *)0x40000000, 4096, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == (long)MAP_FAILED ? -1 : 0);
    must_fail(mprotect((void *)0x8000, 4096, PROT_READ | PROT_WRITE | PROT_EXEC));
    must_fail(mprotect((void *)0x10000, 4096, PROT_READ | PROT_WRITE));
    must_fail(syscall(SYS_mremap, 0x8000, 4096, 8192, 0, 0) == -1 ? -1 : 0);
    must_fail(read(0, (void *)0x40000000, 16));
    must_fail(syscall(SYS_getcwd, (void *)0x40000000, 256));
    struct iovec wild = {(void *)0x40000000, 16};
    must_fail(writev(1, &wild, 1));
    must_fail(syscall(SYS_fstat, 1, (void *)0x40000000));
    must_fail(syscall(SYS_uname, (void *)0x40000000));
    must_fail(syscall(SYS_clock_gettime, 0, (void *)0x40000000));
    /* Unmapping boot.asm's pages changes nothing: the next call still
       reaches the VMM, which answers pid 1. */
    munmap((void *)0, 0x100000);
    if (getpid() != 1) {
        succeeded++;
    }
    return succeeded;
}
