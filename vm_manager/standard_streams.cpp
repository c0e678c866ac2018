#include "standard_streams.hpp"

#include "error.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <string>

namespace vmm {

void secure_standard_streams()
{
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
        if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            // The lowest free number is this one: open() gives it to /dev/null.
            // Held until it is known to be that one, so that no other leaks.
            UniqueFd opened(::open("/dev/null", O_RDWR));
            const int open_error = errno;
            if (opened.get() != fd) {
                throw SystemError("opening /dev/null as fd " + std::to_string(fd),
                                  opened ? EBADF : open_error);
            }
            opened.release(); // it is standard stream `fd` now, open for the whole run
        }
    }
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGXFSZ, SIG_IGN);
    // Line-buffered, also into a pipe: what a VMM prints with printf()
    // appears before the output of the guest's next write to the same place.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
}

} // namespace vmm
