// guest_files_fuzzer.cpp: GuestFiles::open with arbitrary paths, flags and
// modes. Whatever the input, every file it opens must be the working
// directory or inside it, and nothing may appear outside it
// (scratch_dir.hpp).
//
// The input is a sequence of up to 16 opens, each:
//   8 bytes  flags, little-endian (all 64 bits reach GuestFiles::open)
//   8 bytes  mode, little-endian
//   1 byte   length of the path
//   ...      the path (a NUL in it ends it early, as for a guest's string)
// A truncated last record is completed with zeros.
#include "scratch_dir.hpp"

#include "guest_files.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr int kMaxOpens = 16;
constexpr unsigned kCheckOutsideEvery = 4096;

// Reads the next `length` bytes of the input, zeros past its end.
class Reader {
  public:
    Reader(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    bool done() const { return offset_ >= size_; }
    uint64_t u64() { return static_cast<uint64_t>(bytes(8)); }
    uint8_t u8() { return static_cast<uint8_t>(bytes(1)); }
    std::string text(std::size_t length)
    {
        const std::size_t available = offset_ < size_ ? size_ - offset_ : 0;
        const std::size_t taken = length < available ? length : available;
        std::string result(reinterpret_cast<const char*>(data_ + offset_), taken);
        offset_ += length;
        return result;
    }

  private:
    unsigned __int128 bytes(unsigned count)
    {
        unsigned __int128 value = 0;
        for (unsigned i = 0; i < count; ++i, ++offset_) {
            if (offset_ < size_) {
                value |= static_cast<unsigned __int128>(data_[offset_]) << (8 * i);
            }
        }
        return value;
    }
    const uint8_t* data_;
    std::size_t size_;
    std::size_t offset_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    static fuzz::ScratchDir scratch;
    static unsigned inputs = 0;

    {
        vmm::GuestFiles files(scratch.workdir());
        Reader input(data, size);
        for (int i = 0; i < kMaxOpens && !input.done(); ++i) {
            const uint64_t flags = input.u64();
            const uint64_t mode = input.u64();
            const std::string path = input.text(input.u8());
            const int64_t result = files.open(path, flags, mode);
            if (result >= 0) {
                if (result >= vmm::GuestFiles::kMaxFiles || files.host_fd(result) < 0) {
                    std::fprintf(stderr,
                                 "FINDING: open returned guest fd %lld, which is not open\n",
                                 static_cast<long long>(result));
                    std::abort();
                }
                scratch.check_inside(files.host_fd(result));
            } else if (result < -4095) {
                std::fprintf(stderr, "FINDING: open returned %lld, not a -errno\n",
                             static_cast<long long>(result));
                std::abort();
            }
        }
    } // closes every file the input opened
    scratch.clean();
    if (++inputs % kCheckOutsideEvery == 0) {
        scratch.check_outside();
    }
    return 0;
}
