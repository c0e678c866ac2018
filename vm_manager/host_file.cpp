#include "host_file.hpp"

#include "error.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vmm {

std::vector<std::byte> read_host_file(const std::string& path, const char* what, uint64_t max_size,
                                      const std::string& limit)
{
    const std::string call = std::string("reading the ") + what + " " + path;
    // O_NONBLOCK: opening a FIFO waits for a writer, maybe forever, without it.
    UniqueFd file(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!file) {
        throw SystemError(call, errno, errno == ENOENT ? "Has it been built? Run make." : "");
    }
    struct stat info;
    check(::fstat(file.get(), &info), "fstat");
    if (!S_ISREG(info.st_mode)) {
        throw VmmError(call + ": not a regular file");
    }
    const auto size = static_cast<uint64_t>(info.st_size);
    if (size > max_size) {
        throw VmmError(call + ": it is " + std::to_string(size) + " bytes, more than " + limit);
    }
    std::vector<std::byte> bytes(static_cast<std::size_t>(info.st_size));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::read(file.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw SystemError(call, n < 0 ? errno : EIO);
        }
        done += static_cast<std::size_t>(n);
    }
    return bytes;
}

} // namespace vmm
