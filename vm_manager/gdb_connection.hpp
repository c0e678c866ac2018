// gdb_connection.hpp: one TCP connection to gdb, carrying the GDB remote
// serial protocol's packets (gdb manual, appendix "Remote Protocol").
//
// Each packet is "$" data "#" two hex digits of checksum; the receiver
// answers "+" (received) or "-" (send it again) until both sides agree to
// stop acknowledging (QStartNoAckMode). A lone byte 0x03 is gdb's Ctrl-C.
//
// After accept() the connection needs only read, write and poll on its fd.
#pragma once

#include "unique_fd.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace vmm {

// The largest packet the stub takes from gdb (qSupported's PacketSize, in hex
// there): gdb sizes its memory reads and writes to fit.
inline constexpr std::size_t kMaxPacket = 0x4000;

// gdb closed the connection, or it broke.
class GdbGone : public std::exception {
  public:
    const char* what() const noexcept override { return "gdb disconnected"; }
};

class GdbConnection {
  public:
    // Listens on localhost:port only (a debugger can read and write all of
    // the guest), says so on standard error and waits for gdb to connect.
    // `interrupted` is called when a signal interrupts the wait.
    GdbConnection(uint16_t port, void (*interrupted)(void* context), void* context);

    int fd() const { return socket_.get(); }

    // What gdb sent next: a packet's data, or "\x03" for Ctrl-C. Waits for it;
    // `interrupted` is called for each signal meanwhile. Throws GdbGone.
    std::string receive();
    // The same, without waiting: nothing when no whole packet has arrived.
    std::optional<std::string> receive_if_ready();

    void send(const std::string& data);
    void stop_acknowledging() { acknowledging_ = false; }

  private:
    std::optional<std::string> take_packet();
    // Reads what has arrived; waits for something first if `wait`.
    void fill(bool wait);
    void write_all(const std::string& bytes);

    UniqueFd socket_;
    std::string input_;
    bool acknowledging_ = true;
    void (*interrupted_)(void*);
    void* context_;
};

// Packet data is ASCII; memory and register values travel as hex digits.
std::string to_hex(const void* data, std::size_t size);
std::string to_hex(const std::string& text);
// Nothing when `text` is not an even number of hex digits.
std::optional<std::string> from_hex(std::string_view text);
// The "X" packet's binary data: "}" escapes "#", "$", "}" and "*" (XOR 0x20).
std::string unescape_binary(std::string_view data);
std::string escape_binary(std::string_view data);

} // namespace vmm
