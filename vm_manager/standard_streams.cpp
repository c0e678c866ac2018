#include "standard_streams.hpp"

#include "error.hpp"

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
            const int opened = ::open("/dev/null", O_RDWR);
            if (opened != fd) {
                throw SystemError("opening /dev/null as fd " + std::to_string(fd),
                                  opened < 0 ? errno : EBADF);
            }
        }
    }
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGXFSZ, SIG_IGN);
    // Line-buffered, also into a pipe: what a VMM prints with printf()
    // appears before the output of the guest's next write to the same place.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
}

} // namespace vmm
