// guest_paths.hpp: where the guest's paths lead, always inside --workdir.
//
// The guest's file system is the working directory (--workdir) and what is
// under it: the kernel resolves every path with openat2(2) and refuses any
// step out of it, however it is spelled ("..", an absolute path, a symbolic
// link that leads out, a mount point inside it, /proc's magic links): EXDEV.
// An absolute path is refused unless it names something inside by
// --workdir's own host path, the one getcwd() gives (realpath() of it).
//
// A path is relative to the guest's own working directory, which chdir()
// moves (AT_FDCWD in the *at calls), or to one of its directory fds. The
// working directory is kept as its path from --workdir, with no symbolic link
// in it (as the kernel keeps a directory, not a path), and every relative
// path is walked from --workdir through it: "..", up to --workdir itself, is
// the kernel's. A path relative to a directory fd may not climb out of that
// directory (EXDEV).
//
// The calls that act on a name without opening the file (stat, readlink,
// chmod, utimensat, ...) get an O_PATH fd for it (look_up()); those that make
// or remove a name (mkdir, unlink, rename, link, symlink) get an O_PATH fd for
// the directory that holds it, and the name (parent_of()). The kernel's *at
// calls then act on that, and on nothing that was not found inside.
#pragma once

#include "unique_fd.hpp"

#include <fcntl.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace vmm {

// The mode of a file the guest creates: its permission bits only, never
// set-uid, set-gid or sticky. A set-uid file of the guest's making, created
// by a VMM run as root, would run as root for whoever executes it.
constexpr uint32_t guest_file_mode(uint64_t mode)
{
    return static_cast<uint32_t>(mode & 0777);
}

// The *at calls' "relative to the working directory" (AT_FDCWD): a `dir_fd`
// below is this, or a host fd of a directory of the guest's.
inline constexpr int kWorkingDirectory = AT_FDCWD;

class GuestPaths {
  public:
    // Opens `workdir`; the guest's working directory starts there.
    explicit GuestPaths(const std::string& workdir);

    // open(2) of `path` for the guest, but only inside: a new host fd, or
    // -errno. A file it creates gets guest_file_mode(mode).
    int64_t open(int dir_fd, std::string_view path, uint64_t flags, uint64_t mode);

    // An O_PATH fd for what `path` names, following a last symbolic link when
    // `follow` (the kernel follows it, inside only): a new host fd, or -errno.
    int64_t look_up(int dir_fd, std::string_view path, bool follow);

    // The directory that holds the last name of `path` (an O_PATH fd) and
    // that name, as the calls that make or remove names need them. A trailing
    // slash stays with the name ("dir/" for "a/dir/"): the kernel says what
    // it means for each call. `error` is 0, or -errno and nothing else is set.
    struct Parent {
        UniqueFd directory;
        std::string name;
        int64_t error = 0;
    };
    Parent parent_of(int dir_fd, std::string_view path);

    // chdir(path): 0, or -errno (ENOTDIR, ENOENT, EXDEV, ...).
    int64_t change_directory(std::string_view path);

    // getcwd(): the host's absolute path of the guest's working directory.
    std::string working_directory() const;

  private:
    // Where `path` starts from, for openat2: the host directory fd and the
    // path from there.
    struct Start {
        int dir_fd;
        std::string path;
    };
    Start start_of(int dir_fd, std::string_view path) const;

    // How often an openat2 walks a path again when a host rename raced with it.
    static constexpr int kResolveAttempts = 100;
    // How many symbolic links a walk may follow, as Linux's MAXSYMLINKS.
    static constexpr int kMaxSymlinks = 40;

    UniqueFd workdir_;
    std::string workdir_path_; // its absolute path on the host, for getcwd()
    std::string cwd_;          // the guest's working directory from workdir_, no symlink in it
};

} // namespace vmm
