// scratch_dir.hpp: the fuzz targets' working directory for guest files, and
// the checks that nothing the guest opens or creates lies outside it.
//
// Each fuzzing process makes its own directory tree, removed at exit:
//
//   ROOT/                      mkdtemp() in $TMPDIR, else /dev/shm, else /tmp
//   ROOT/outside/precious      a file the guest must never reach
//   ROOT/trace                 the trace of the syscall target's handler
//   ROOT/work/                 the guest's working directory (GuestFiles' workdir)
//   ROOT/work/sub/             a directory the guest may create files in
//   ROOT/work/file             an empty file
//   ROOT/work/link-out         -> ../outside/precious   (symlinks that lead out)
//   ROOT/work/dir-out          -> ../outside
//   ROOT/work/abs-out          -> /
//
// After each input a target calls check_inside() on the host fd of every file
// the guest has open, and clean(), which removes what the input created and
// empties ROOT/work/file again, so that millions of inputs can run.
// check_outside() looks at ROOT and ROOT/outside; the targets call it every
// few thousand inputs and at exit.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>

namespace fuzz {

class ScratchDir {
  public:
    ScratchDir()
    {
        std::string base;
        if (const char* tmpdir = std::getenv("TMPDIR"); tmpdir != nullptr && *tmpdir != '\0') {
            base = tmpdir;
        } else {
            base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"; // tmpfs is faster
        }
        std::string pattern = base + "/scratchvm-fuzz-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) {
            fail("mkdtemp in " + base);
        }
        char resolved[PATH_MAX];
        if (::realpath(pattern.c_str(), resolved) == nullptr) {
            fail("realpath " + pattern);
        }
        root_ = resolved; // /proc/self/fd shows resolved paths
        workdir_ = root_ + "/work";
        must(::mkdir((root_ + "/outside").c_str(), 0700), "mkdir outside");
        write_file(root_ + "/outside/precious", kPrecious);
        must(::mkdir(workdir_.c_str(), 0700), "mkdir work");
        must(::mkdir((workdir_ + "/sub").c_str(), 0700), "mkdir work/sub");
        write_file(workdir_ + "/file", "");
        must(::symlink("../outside/precious", (workdir_ + "/link-out").c_str()), "symlink");
        must(::symlink("../outside", (workdir_ + "/dir-out").c_str()), "symlink");
        must(::symlink("/", (workdir_ + "/abs-out").c_str()), "symlink");
        struct stat precious;
        must(::stat((root_ + "/outside/precious").c_str(), &precious), "stat precious");
        precious_mtime_ = precious.st_mtim;
    }
    ~ScratchDir()
    {
        check_outside();
        ::nftw(
            root_.c_str(),
            [](const char* path, const struct stat*, int type, FTW*) {
                return type == FTW_DP ? ::rmdir(path) : ::unlink(path);
            },
            16, FTW_DEPTH | FTW_PHYS);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    const std::string& workdir() const { return workdir_; }
    std::string trace_file() const { return root_ + "/trace"; }

    // Aborts unless host fd `fd` is the working directory or something in it.
    void check_inside(int fd) const
    {
        char link[64];
        std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        char target[PATH_MAX + 1];
        const ssize_t length = ::readlink(link, target, PATH_MAX);
        if (length < 0) {
            fail(std::string("readlink ") + link);
        }
        const std::string path(target, static_cast<std::size_t>(length));
        if (path != workdir_ && path.compare(0, workdir_.size() + 1, workdir_ + "/") != 0) {
            std::fprintf(stderr, "FINDING: the guest opened %s, outside %s\n", path.c_str(),
                         workdir_.c_str());
            std::abort();
        }
    }

    // Removes what an input created and empties ROOT/work/file.
    void clean() const
    {
        remove_entries(workdir_, {".", "..", "sub", "file", "link-out", "dir-out", "abs-out"});
        remove_entries(workdir_ + "/sub", {".", ".."});
        struct stat file;
        if (::lstat((workdir_ + "/file").c_str(), &file) != 0 || !S_ISREG(file.st_mode)) {
            fail("work/file is gone or replaced");
        }
        if (file.st_size != 0) {
            must(::truncate((workdir_ + "/file").c_str(), 0), "truncate work/file");
        }
    }

    // Aborts if anything but the trace appeared in ROOT or ROOT/outside, or
    // precious changed.
    void check_outside() const
    {
        expect_entries(root_, {".", "..", "outside", "work", "trace"});
        expect_entries(root_ + "/outside", {".", "..", "precious"});
        struct stat precious;
        must(::stat((root_ + "/outside/precious").c_str(), &precious), "stat precious");
        if (precious.st_size != static_cast<off_t>(std::strlen(kPrecious)) ||
            precious.st_mtim.tv_sec != precious_mtime_.tv_sec ||
            precious.st_mtim.tv_nsec != precious_mtime_.tv_nsec) {
            std::fprintf(stderr, "FINDING: %s/outside/precious changed\n", root_.c_str());
            std::abort();
        }
    }

  private:
    static constexpr const char* kPrecious = "do not touch\n";

    [[noreturn]] static void fail(const std::string& what)
    {
        std::fprintf(stderr, "scratch directory: %s: %s\n", what.c_str(), std::strerror(errno));
        std::abort();
    }
    static void must(int result, const char* what)
    {
        if (result != 0) {
            fail(what);
        }
    }
    static void write_file(const std::string& path, const char* text)
    {
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 ||
            ::write(fd, text, std::strlen(text)) != static_cast<ssize_t>(std::strlen(text))) {
            fail("creating " + path);
        }
        ::close(fd);
    }
    // Calls `each` for every entry name of `directory`.
    template <typename Each> static void for_each_entry(const std::string& directory, Each each)
    {
        DIR* listing = ::opendir(directory.c_str());
        if (listing == nullptr) {
            fail("opendir " + directory);
        }
        while (const dirent* entry = ::readdir(listing)) {
            each(::dirfd(listing), std::string(entry->d_name));
        }
        ::closedir(listing);
    }
    static bool listed(const std::string& name, std::initializer_list<const char*> names)
    {
        for (const char* listed_name : names) {
            if (name == listed_name) {
                return true;
            }
        }
        return false;
    }
    static void remove_entries(const std::string& directory,
                               std::initializer_list<const char*> keep)
    {
        for_each_entry(directory, [&](int fd, const std::string& name) {
            if (!listed(name, keep) && ::unlinkat(fd, name.c_str(), 0) != 0) {
                fail("removing " + directory + "/" + name);
            }
        });
    }
    static void expect_entries(const std::string& directory,
                               std::initializer_list<const char*> only)
    {
        for_each_entry(directory, [&](int, const std::string& name) {
            if (!listed(name, only)) {
                std::fprintf(stderr, "FINDING: %s/%s appeared, outside the working directory\n",
                             directory.c_str(), name.c_str());
                std::abort();
            }
        });
    }

    std::string root_;
    std::string workdir_;
    timespec precious_mtime_{};
};

} // namespace fuzz
