#include "trace.hpp"

#include "error.hpp"
#include "syscall_names.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdarg>
#include <cstdio>

namespace vmm {

namespace {

// printf for the numbers of a line: they fit in a few dozen characters.
[[gnu::format(printf, 1, 2)]] std::string format(const char* pattern, ...)
{
    char text[128];
    va_list arguments;
    va_start(arguments, pattern);
    std::vsnprintf(text, sizeof text, pattern, arguments);
    va_end(arguments);
    return text;
}

long long as_signed(uint64_t value)
{
    return static_cast<long long>(value);
}
unsigned long long as_unsigned(uint64_t value)
{
    return value;
}

// A string as strace shows it, without the quotes: printable ASCII as it is,
// a backslash doubled, tab, newline, vertical tab, form feed and carriage
// return as \t \n \v \f \r, and every other byte as \xHH.
std::string escaped(std::string_view text)
{
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\v':
            out += "\\v";
            break;
        case '\f':
            out += "\\f";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            out += byte >= 0x20 && byte < 0x7f ? std::string(1, c) : format("\\x%02x", byte);
        }
    }
    return out;
}

// What OPEN shows for a path the VMM could not read.
constexpr std::string_view kBadAddress = "(bad address)";

} // namespace

Trace::Trace(const std::string& path) : fd_(STDOUT_FILENO), where_("standard output")
{
    if (path.empty()) {
        return;
    }
    // Opened without blocking: opening a FIFO for writing would otherwise
    // wait for a reader, maybe forever (without one it fails with ENXIO).
    UniqueFd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0666));
    const int open_error = errno;
    struct stat info;
    if (file) {
        check(::fstat(file.get(), &info), "fstat of the trace file");
    }
    if (file ? !S_ISREG(info.st_mode) : open_error == ENXIO) {
        throw VmmError("the trace file " + path +
                       " is not a regular file: give --trace the name of a file");
    }
    if (!file) {
        throw SystemError("opening the trace file " + path, open_error);
    }
    // Emptied only now that it is known to be a file of its own.
    check(::ftruncate(file.get(), 0), "ftruncate of the trace file");
    file_ = std::move(file);
    fd_ = file_.get();
    where_ = "the trace file " + path;
}

void Trace::print(const std::string& line)
{
    std::string_view rest = line;
    while (!rest.empty()) {
        const ssize_t written = ::write(fd_, rest.data(), rest.size());
        if (written < 0 && errno == EINTR) {
            continue; // a signal (the --timeout timer) came first: write the rest
        }
        if (written <= 0) {
            throw SystemError("writing the trace to " + where_, written < 0 ? errno : EIO,
                              "The run stops here: the rest of its trace would be lost.");
        }
        rest.remove_prefix(static_cast<std::size_t>(written));
    }
}

void Trace::open(std::optional<std::string_view> path, uint64_t flags, uint64_t mode,
                 int64_t result)
{
    // No text to show for a path the VMM could not read: say why instead.
    print(
        "OPEN " + (path ? escaped(*path) : std::string(kBadAddress)) +
        format(" %lld %lld - return %lld\n", as_signed(flags), as_signed(mode), as_signed(result)));
}

void Trace::write(uint64_t fd, uint64_t buffer, uint64_t count, int64_t result)
{
    print(format("WRITE %lld %llx %lld - return %lld\n", as_signed(fd), as_unsigned(buffer),
                 as_signed(count), as_signed(result)));
}

void Trace::close(uint64_t fd, int64_t result)
{
    print(format("CLOSE %lld - return %lld\n", as_signed(fd), as_signed(result)));
}

void Trace::exit(uint64_t status)
{
    print(format("EXIT %lld\n", as_signed(status)));
}

void Trace::undefined(uint64_t number)
{
    print(format("undefined syscall %lld\n", as_signed(number)));
}

void Trace::call(uint64_t number, std::span<const TraceValue> arguments, TraceValue result)
{
    std::string line;
    for (const char c : syscall_name(number)) {
        line += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    auto text = [](const TraceValue& value) {
        switch (value.kind) {
        case TraceValue::Kind::kAddress:
            return format("%llx", as_unsigned(value.number));
        case TraceValue::Kind::kPath:
            return escaped(value.path);
        case TraceValue::Kind::kInt:
            return format("%d", static_cast<int32_t>(value.number));
        case TraceValue::Kind::kNumber:
            break;
        }
        return format("%lld", as_signed(value.number));
    };
    for (const TraceValue& argument : arguments) {
        line += " " + text(argument);
    }
    // A call that returns an address may also return -errno (-4095 to -1, the
    // kernel's IS_ERR_VALUE): that is a number.
    if (result.kind == TraceValue::Kind::kAddress &&
        result.number >= static_cast<uint64_t>(-4095)) {
        result.kind = TraceValue::Kind::kNumber;
    }
    print(line + " - return " + text(result) + "\n");
}

} // namespace vmm
