#include "guest_files.hpp"

#include "error.hpp"

#include <fcntl.h>

#include <cerrno>

namespace vmm {

GuestFiles::GuestFiles(const std::string& workdir)
{
    const int fd = ::open(workdir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        throw SystemError("opening the working directory " + workdir, errno);
    }
    workdir_ = UniqueFd(fd);
    for (int standard_stream = 0; standard_stream < 3; ++standard_stream) {
        entries_[standard_stream].host_fd = standard_stream;
    }
}

int64_t GuestFiles::add(UniqueFd host_file)
{
    for (int guest_fd = 0; guest_fd < kMaxFiles; ++guest_fd) {
        Entry& entry = entries_[guest_fd];
        if (entry.host_fd == -1) {
            entry.host_fd = host_file.get();
            entry.owned = std::move(host_file);
            return guest_fd;
        }
    }
    return -EMFILE; // host_file is closed as it goes out of scope
}

int GuestFiles::host_fd(uint64_t guest_fd) const
{
    return guest_fd < kMaxFiles ? entries_[guest_fd].host_fd : -1;
}

int64_t GuestFiles::close(uint64_t guest_fd)
{
    if (host_fd(guest_fd) == -1) {
        return -EBADF;
    }
    Entry& entry = entries_[guest_fd];
    entry.owned.reset();
    entry.host_fd = -1;
    return 0;
}

} // namespace vmm
