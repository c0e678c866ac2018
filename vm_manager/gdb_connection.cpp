#include "gdb_connection.hpp"

#include "error.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>

namespace vmm {

namespace {

UniqueFd listen_on_localhost(uint16_t port)
{
    UniqueFd listener(static_cast<int>(
        check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket(AF_INET)")));
    // A port just used by an earlier run stays in TIME_WAIT for a minute:
    // SO_REUSEADDR lets this run take it again at once.
    const int on = 1;
    check(::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on),
          "setsockopt(SO_REUSEADDR)");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        const int error_number = errno;
        const std::string where = "localhost:" + std::to_string(port);
        if (error_number == EADDRINUSE) {
            throw VmmError("--gdb: " + where +
                           " is already in use (another vm_manager --gdb, or QEMU's -s?): "
                           "choose another port, e.g. --gdb " +
                           std::to_string(port == 65535 ? 1234 : port + 1));
        }
        throw SystemError("bind(" + where + ")", error_number);
    }
    check(::listen(listener.get(), 1), "listen");
    return listener;
}

// Waits until `fd` is readable; returns false when a signal interrupted the wait.
bool wait_readable(int fd)
{
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, -1) < 0) {
        if (errno == EINTR) {
            return false;
        }
        throw SystemError("poll", errno);
    }
    return true;
}

uint8_t checksum(std::string_view data)
{
    uint8_t sum = 0;
    for (char c : data) {
        sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
    }
    return sum;
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

} // namespace

GdbConnection::GdbConnection(uint16_t port, void (*interrupted)(void*), void* context)
    : interrupted_(interrupted), context_(context)
{
    const UniqueFd listener = listen_on_localhost(port);
    std::fprintf(stderr,
                 "vm_manager: waiting for gdb on localhost:%u (in gdb: target remote "
                 "localhost:%u)\n",
                 port, port);
    while (!wait_readable(listener.get())) {
        interrupted_(context_);
    }
    socket_ = UniqueFd(static_cast<int>(
        check(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC), "accept")));
    // Packets are small and answered one by one: send each at once.
    const int on = 1;
    check(::setsockopt(socket_.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on),
          "setsockopt(TCP_NODELAY)");
    std::fprintf(stderr, "vm_manager: gdb connected\n");
}

std::string GdbConnection::receive()
{
    for (;;) {
        if (std::optional<std::string> packet = take_packet()) {
            return *packet;
        }
        fill(true);
    }
}

std::optional<std::string> GdbConnection::receive_if_ready()
{
    if (std::optional<std::string> packet = take_packet()) {
        return packet;
    }
    fill(false);
    return take_packet();
}

void GdbConnection::fill(bool wait)
{
    pollfd entry{socket_.get(), POLLIN, 0};
    for (;;) {
        const int ready = ::poll(&entry, 1, wait ? -1 : 0);
        if (ready < 0 && errno == EINTR) {
            interrupted_(context_);
            continue;
        }
        check(ready, "poll(gdb)");
        if (ready == 0) {
            return; // not waiting, and nothing there
        }
        char buffer[4096];
        const ssize_t count = ::read(socket_.get(), buffer, sizeof buffer);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count <= 0) {
            throw GdbGone();
        }
        input_.append(buffer, static_cast<std::size_t>(count));
        return;
    }
}

std::optional<std::string> GdbConnection::take_packet()
{
    for (;;) {
        // gdb's acknowledgements of what we sent are skipped: over TCP a packet
        // arrives intact or not at all, so nothing is ever sent twice.
        const std::size_t start = input_.find_first_of("$\x03");
        if (start == std::string::npos) {
            input_.clear();
            return std::nullopt;
        }
        if (input_[start] == '\x03') {
            input_.erase(0, start + 1);
            return std::string("\x03");
        }
        const std::size_t hash = input_.find('#', start);
        if (hash == std::string::npos || input_.size() < hash + 3) {
            input_.erase(0, start);
            if (input_.size() > 2 * kMaxPacket) {
                input_.clear(); // no gdb sends this much without a '#': not a packet
            }
            return std::nullopt; // the rest has not arrived yet
        }
        std::string data = input_.substr(start + 1, hash - start - 1);
        const int high = hex_digit(input_[hash + 1]);
        const int low = hex_digit(input_[hash + 2]);
        input_.erase(0, hash + 3);
        const bool intact = high >= 0 && low >= 0 && checksum(data) == high * 16 + low;
        if (acknowledging_) {
            write_all(intact ? "+" : "-");
        }
        if (intact) {
            return data;
        }
    }
}

void GdbConnection::send(const std::string& data)
{
    char trailer[4];
    std::snprintf(trailer, sizeof trailer, "#%02x", checksum(data));
    write_all("$" + data + trailer);
}

void GdbConnection::write_all(const std::string& bytes)
{
    std::size_t done = 0;
    while (done < bytes.size()) {
        // SIGPIPE is ignored for the whole run (standard_streams.cpp): a closed
        // connection is EPIPE here.
        const ssize_t count = ::write(socket_.get(), bytes.data() + done, bytes.size() - done);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count <= 0) {
            throw GdbGone();
        }
        done += static_cast<std::size_t>(count);
    }
}

std::string to_hex(const void* data, std::size_t size)
{
    static const char digits[] = "0123456789abcdef";
    const auto* bytes = static_cast<const uint8_t*>(data);
    std::string text;
    text.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        text += digits[bytes[i] >> 4];
        text += digits[bytes[i] & 0xf];
    }
    return text;
}

std::string to_hex(const std::string& text)
{
    return to_hex(text.data(), text.size());
}

std::optional<std::string> from_hex(std::string_view text)
{
    if (text.size() % 2 != 0) {
        return std::nullopt;
    }
    std::string bytes;
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int high = hex_digit(text[i]);
        const int low = hex_digit(text[i + 1]);
        if (high < 0 || low < 0) {
            return std::nullopt;
        }
        bytes += static_cast<char>(high * 16 + low);
    }
    return bytes;
}

std::string unescape_binary(std::string_view data)
{
    std::string bytes;
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (data[i] == '}' && i + 1 < data.size()) {
            bytes += static_cast<char>(data[++i] ^ 0x20);
        } else {
            bytes += data[i];
        }
    }
    return bytes;
}

std::string escape_binary(std::string_view data)
{
    std::string text;
    for (char c : data) {
        if (c == '#' || c == '$' || c == '}' || c == '*') {
            text += '}';
            text += static_cast<char>(c ^ 0x20);
        } else {
            text += c;
        }
    }
    return text;
}

} // namespace vmm
