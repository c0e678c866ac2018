/* The calls on open files beyond the lab's, each result printed (report.h):
   run natively and under the VMM, the two reports and files must match. */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>

static long result(long value)
{
    return value < 0 ? -errno : value;
}

int main(void)
{
    int fd = open("data.txt", O_RDWR | O_CREAT | O_TRUNC, 0640);
    report("open", fd);
    report("write", write(fd, "0123456789", 10));

    struct iovec pieces[] = {{"abc", 3}, {"", 0}, {"defgh", 5}};
    report("writev", result(writev(fd, pieces, 3)));
    report("pwrite", result(pwrite(fd, "XY", 2, 4)));
    report("lseek-end", result(lseek(fd, 0, SEEK_END)));
    report("lseek-set", result(lseek(fd, 2, SEEK_SET)));

    char buffer[32] = {0};
    report("read", result(read(fd, buffer, 5)));
    say(buffer);
    say("\n");
    char first[4] = {0}, second[8] = {0};
    struct iovec into[] = {{first, 3}, {second, 7}};
    report("readv", result(readv(fd, into, 2)));
    say(first);
    say("|");
    say(second);
    say("\n");
    report("pread", result(pread(fd, buffer, 4, 12)));
    buffer[4] = 0;
    say(buffer);
    say("\n");

    struct stat info;
    report("fstat", result(fstat(fd, &info)));
    report("size", info.st_size);
    report("mode", info.st_mode & 07777);
    report("regular", S_ISREG(info.st_mode));
    report("ftruncate", result(ftruncate(fd, 4)));
    report("fstat-after", result(fstat(fd, &info)));
    report("size-after", info.st_size);

    /* Not a terminal: what stdio's isatty() asks. */
    struct termios terminal;
    report("tcgets", result(ioctl(fd, TCGETS, &terminal)));
    struct winsize size;
    report("tiocgwinsz", result(ioctl(fd, TIOCGWINSZ, &size)));

    report("fcntl-getfd", result(fcntl(fd, F_GETFD)));
    report("fcntl-setfd", result(fcntl(fd, F_SETFD, FD_CLOEXEC)));
    report("fcntl-getfd-again", result(fcntl(fd, F_GETFD)));
    report("fcntl-getfl", result(fcntl(fd, F_GETFL)) & O_ACCMODE);
    report("fcntl-setfl", result(fcntl(fd, F_SETFL, O_APPEND)));
    report("fcntl-append", (result(fcntl(fd, F_GETFL)) & O_APPEND) != 0);
    report("fcntl-dupfd", result(fcntl(fd, F_DUPFD, 30)));
    report("fcntl-dupfd-cloexec", result(fcntl(fd, F_DUPFD_CLOEXEC, 0)));
    report("dup", result(dup(fd)));
    report("dup2", result(dup2(fd, 20)));
    report("dup2-same", result(dup2(fd, fd)));
    report("dup3", result(dup3(fd, 21, O_CLOEXEC)));
    report("dup3-same", result(dup3(fd, fd, 0)));
    report("dup-bad", result(dup(50)));
    report("write-dup", result(write(20, "-appended", 9)));

    /* stdout itself, moved to a file and back. */
    int saved = dup(1);
    int out = open("stdout.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    say("this goes to stdout.txt\n");
    dup2(saved, 1);
    report("stdout-back", result(close(out)));

    int directory = open(".", O_RDONLY | O_DIRECTORY);
    char entries[1024];
    long got = result(syscall(SYS_getdents64, directory, entries, sizeof entries));
    report("getdents64-some", got > 0);
    report("getdents64-end", result(syscall(SYS_getdents64, directory, entries, sizeof entries)));
    report("openat", result(openat(directory, "data.txt", O_RDONLY)));
    report("close", result(close(fd)));
    report("read-closed", result(read(fd, buffer, 1)));
    return 0;
}
