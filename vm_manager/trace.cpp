#include "trace.hpp"

#include "error.hpp"

namespace vmm {

namespace {
long long as_signed(uint64_t value)
{
    return static_cast<long long>(value);
}
unsigned long long as_unsigned(uint64_t value)
{
    return value;
}
} // namespace

Trace::Trace(const std::string& path) : out_(stdout)
{
    if (!path.empty()) {
        file_.reset(std::fopen(path.c_str(), "we"));
        if (!file_) {
            throw SystemError("opening the trace file " + path, errno);
        }
        out_ = file_.get();
    } else {
        // Line-buffered, so that each line appears before the output of the
        // guest's next write to the same terminal or pipe.
        std::setvbuf(stdout, nullptr, _IOLBF, 0);
    }
}

void Trace::open(std::string_view path, uint64_t flags, uint64_t mode, int64_t result)
{
    std::fprintf(out_, "OPEN %.*s %lld %lld - return %lld\n", static_cast<int>(path.size()),
                 path.data(), as_signed(flags), as_signed(mode), as_signed(result));
}

void Trace::write(uint64_t fd, uint64_t buffer, uint64_t count, int64_t result)
{
    std::fprintf(out_, "WRITE %lld %llx %lld - return %lld\n", as_signed(fd), as_unsigned(buffer),
                 as_signed(count), as_signed(result));
}

void Trace::close(uint64_t fd, int64_t result)
{
    std::fprintf(out_, "CLOSE %lld - return %lld\n", as_signed(fd), as_signed(result));
}

void Trace::exit(uint64_t status)
{
    std::fprintf(out_, "EXIT %lld\n", as_signed(status));
}

void Trace::undefined(uint64_t number)
{
    std::fprintf(out_, "undefined syscall %lld\n", as_signed(number));
}

} // namespace vmm
