// trace.hpp: the trace lines a VMM prints, one per handled system call.
//
// The formats are part of the lab: the grader compares a student's trace with
// the reference's line by line. They are (the statement, Step 2, lists them):
//
//   OPEN <path> <flags> <mode> - return <result>
//   WRITE <fd> <buffer> <count> - return <result>
//   CLOSE <fd> - return <result>
//   EXIT <status>
//   undefined syscall <number>
//
// Values are printed as the guest passed them: each register as a signed
// 64-bit decimal number (%lld), so that -1 is -1 and a result is a value or
// -errno; the buffer is a guest address, in hex without 0x (%llx). A path is
// escaped as strace escapes a string (\n, \t, \\, \x1b, ...), so that a
// guest's path can neither write a line of its own nor send escape sequences
// to a terminal: one call, one line. A path the VMM cannot read (the program
// may not read there: -EFAULT) has no text: it is printed as "(bad address)",
// where strace prints the address instead.
//
// Each line goes out in one write(2), unbuffered: it appears before the
// guest's next output, and a write that fails (a full disk, a closed pipe)
// stops the run with a message instead of losing the end of the trace.
//
// The lab's lines:
//   OPEN <path> <flags> <mode> - return <result>
//   WRITE <fd> <buffer address, hex> <count> - return <result>
//   CLOSE <fd> - return <result>
//   EXIT <status>
//   undefined syscall <number>
//
// The calls beyond the lab's (linux_calls.hpp) print one line in the same
// style, call():
//   <NAME> <argument> ... - return <result>
// NAME is the call's name as asm/unistd_64.h spells it, in capitals (READ,
// NEWFSTATAT, RT_SIGACTION); each argument is a number (%lld), an int (%d:
// an fd or a dirfd, of which the kernel reads 32 bits; AT_FDCWD is -100), a
// guest address (%llx, as WRITE's buffer) or a path (escaped, as OPEN's; NULL
// or "(bad address)" where the program may not read), as linux_calls.cpp's
// table says for each call; the result is a number, or an address for the
// calls that return one (BRK, MMAP, MREMAP) unless it is -errno:
//   READ 3 7fffe0 4096 - return 28
//   NEWFSTATAT -100 notes.txt 7ffe10 0 - return 0
//   MMAP 0 8192 3 34 -1 0 - return 7be000
#pragma once

#include "unique_fd.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vmm {

// One value of a call() line: how it is printed.
struct TraceValue {
    enum class Kind { kNumber, kInt, kAddress, kPath };
    Kind kind;
    uint64_t number = 0;   // kNumber, kInt, kAddress
    std::string_view path; // kPath
};

class Trace {
  public:
    // Writes to the file at `path`, created or emptied, which must be a
    // regular file; or to standard output when path is empty.
    explicit Trace(const std::string& path);

    // Each throws SystemError when the line cannot be written.
    //
    // open's path is what the VMM read at the guest's pointer, or
    // std::nullopt when it could not read it (UserMemory::c_string()'s
    // answer can be passed as it is).
    void open(std::optional<std::string_view> path, uint64_t flags, uint64_t mode, int64_t result);
    void write(uint64_t fd, uint64_t buffer, uint64_t count, int64_t result);
    void close(uint64_t fd, int64_t result);
    void exit(uint64_t status);
    void undefined(uint64_t number);
    // A call beyond the lab's: its number, arguments and result.
    void call(uint64_t number, std::span<const TraceValue> arguments, TraceValue result);

  private:
    void print(const std::string& line);

    UniqueFd file_; // the trace file, if there is one
    int fd_;        // where the lines go: file_, or standard output
    std::string where_;
};

} // namespace vmm
