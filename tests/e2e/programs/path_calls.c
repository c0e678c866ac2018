/* The calls on names beyond the lab's, each result printed (report.h): run
   natively and under the VMM in a directory of the same path, the two reports
   and the files left must match. */
#define _GNU_SOURCE
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

/* renameat2's flag (linux/fs.h, which musl's headers do not reach). */
#define RENAME_NOREPLACE 1

static long result(long value)
{
    return value < 0 ? -errno : value;
}

static void report_stat(const char *what, int dir, const char *path, int flags)
{
    struct stat info;
    long done = result(fstatat(dir, path, &info, flags));
    report(what, done);
    if (done == 0) {
        report("  mode", info.st_mode);
        report("  size", S_ISLNK(info.st_mode) || S_ISREG(info.st_mode) ? info.st_size : -1);
        report("  links", S_ISDIR(info.st_mode) ? -1 : (long)info.st_nlink);
        report("  mtime", info.st_mtime < 1000000000 ? info.st_mtime : -1);
    }
}

int main(void)
{
    report("umask", umask(022));
    report("mkdir", result(mkdir("tree", 0750)));
    report("mkdir-again", result(mkdir("tree", 0750)));
    report("mkdirat", result(mkdirat(AT_FDCWD, "tree/branch", 0700)));
    report("mkdir-missing", result(mkdir("nowhere/leaf", 0755)));
    int file = open("tree/branch/leaf.txt", O_WRONLY | O_CREAT, 0600);
    report("write", write(file, "leaf\n", 5));
    close(file);

    int tree = open("tree", O_RDONLY | O_DIRECTORY);
    report("openat-dir", tree >= 0);
    report("symlinkat", result(symlinkat("branch/leaf.txt", tree, "shortcut")));
    report("symlink", result(symlink("tree/shortcut", "top-link")));
    report("link", result(link("tree/branch/leaf.txt", "hard.txt")));
    report("linkat", result(linkat(tree, "branch/leaf.txt", AT_FDCWD, "hard2.txt", 0)));
    report("linkat-follow", result(linkat(AT_FDCWD, "top-link", AT_FDCWD, "hard3.txt",
                                          AT_SYMLINK_FOLLOW)));

    char target[64] = {0};
    report("readlink", result(readlink("top-link", target, sizeof target)));
    say(target);
    say("\n");
    report("readlinkat", result(readlinkat(tree, "shortcut", target, sizeof target)));
    report("readlink-file", result(readlink("hard.txt", target, sizeof target)));

    report_stat("stat-follow", AT_FDCWD, "top-link", 0);
    report_stat("stat-nofollow", AT_FDCWD, "top-link", AT_SYMLINK_NOFOLLOW);
    report_stat("stat-dirfd", tree, "branch", 0);
    report_stat("stat-empty-path", tree, "", AT_EMPTY_PATH);
    report_stat("stat-missing", AT_FDCWD, "missing", 0);
    /* musl has no statx(): the call itself, and the kernel's struct statx
       read where linux/stat.h puts its fields (stx_nlink at 16, stx_size at 40). */
    unsigned char extended[256];
    report("statx", result(syscall(SYS_statx, AT_FDCWD, "hard.txt", 0, 0x200 | 0x4, extended)));
    uint32_t links;
    uint64_t size;
    memcpy(&links, extended + 16, sizeof links);
    memcpy(&size, extended + 40, sizeof size);
    report("  statx-size", (long)size);
    report("  statx-links", links);

    report("access-r", result(access("hard.txt", R_OK)));
    report("access-x", result(access("tree", X_OK)));
    report("access-missing", result(access("missing", F_OK)));
    report("faccessat", result(faccessat(tree, "shortcut", F_OK, AT_SYMLINK_NOFOLLOW)));

    report("chmod", result(chmod("hard.txt", 0640)));
    report("fchmodat", result(fchmodat(tree, "branch", 0755, 0)));
    int again = open("hard2.txt", O_RDONLY);
    report("fchmod", result(fchmod(again, 0604)));
    close(again);
    struct timespec times[2] = {{12345, 0}, {67890, 0}};
    report("utimensat", result(utimensat(AT_FDCWD, "hard.txt", times, 0)));
    report("utimensat-nofollow", result(utimensat(AT_FDCWD, "top-link", times,
                                                  AT_SYMLINK_NOFOLLOW)));
    report_stat("stat-utimes", AT_FDCWD, "hard.txt", 0);
    report("chown-same", result(chown("hard.txt", -1, -1)));

    report("rename", result(rename("hard3.txt", "tree/renamed.txt")));
    report("renameat", result(renameat(tree, "renamed.txt", AT_FDCWD, "back.txt")));
    report("renameat2-noreplace", result(syscall(SYS_renameat2, AT_FDCWD, "back.txt", AT_FDCWD,
                                                 "hard.txt", RENAME_NOREPLACE)));
    report("unlink", result(unlink("back.txt")));
    report("unlink-dir", result(unlink("tree")));
    report("unlinkat", result(unlinkat(tree, "shortcut", 0)));
    report("rmdir-full", result(rmdir("tree")));
    report("mkdir-gone", result(mkdir("gone", 0755)));
    report("rmdir", result(rmdir("gone")));
    report("unlinkat-removedir", result(unlinkat(AT_FDCWD, "missing", AT_REMOVEDIR)));

    char here[512];
    report("chdir", result(chdir("tree/branch")));
    report("getcwd", result(syscall(SYS_getcwd, here, sizeof here)));
    say(here);
    say("\n");
    report("open-relative", result(open("leaf.txt", O_RDONLY)) >= 0);
    report("chdir-up", result(chdir("../..")));
    report("getcwd-small", result(syscall(SYS_getcwd, here, 2)));
    report("chdir-file", result(chdir("hard.txt")));
    report("chdir-missing", result(chdir("missing")));
    return 0;
}
