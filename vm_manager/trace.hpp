// trace.hpp: the trace lines the reference VMM prints, one per handled system call.
//
// The formats are part of the lab: the grader compares a student's trace with
// the reference's line by line. Values are printed as the guest passed them,
// registers as signed 64-bit numbers (%lld), buffer addresses in hex (%llx).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace vmm {

class Trace {
  public:
    // Writes to the file at `path`, or to standard output when path is empty.
    explicit Trace(const std::string& path);

    void open(std::string_view path, uint64_t flags, uint64_t mode, int64_t result);
    void write(uint64_t fd, uint64_t buffer, uint64_t count, int64_t result);
    void close(uint64_t fd, int64_t result);
    void exit(uint64_t status);
    void undefined(uint64_t number);

  private:
    struct CloseFile {
        void operator()(std::FILE* file) const { std::fclose(file); }
    };
    std::unique_ptr<std::FILE, CloseFile> file_;
    std::FILE* out_;
};

} // namespace vmm
