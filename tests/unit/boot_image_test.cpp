// Unit tests for loading the boot image and filling in its header.
#include "boot_image.hpp"
#include "error.hpp"
#include "guest_layout.hpp"
#include "host_file.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace vmm::layout;
using vmm::BootHeader;
using vmm::GuestMemory;

constexpr uint64_t kMemorySize = 2 * MiB;

// A synthetic boot image: a valid header for `load_address`, then bytes 0x11, 0x12, ...
std::vector<std::byte> make_image(uint64_t load_address, std::size_t size = 256)
{
    std::vector<std::byte> image(size);
    for (std::size_t i = sizeof(BootHeader); i < size; ++i) {
        image[i] = static_cast<std::byte>(0x11 + i);
    }
    BootHeader header{};
    header.jump[0] = 0xeb;
    std::memcpy(header.signature, "SCRATCHV", sizeof header.signature);
    header.load_address = load_address;
    header.syscall_entry = load_address + sizeof header;
    header.exception_report = load_address + sizeof header + 1;
    std::memcpy(image.data(), &header, std::min(size, sizeof header));
    return image;
}

class BootImageTest : public testing::Test {
  protected:
    testing::AssertionResult refuses(const std::vector<std::byte>& image, std::string_view word)
    {
        return throws_naming([&] { vmm::load_boot_image(memory, image); }, word);
    }
    bool guest_holds(uint64_t address, const std::vector<std::byte>& bytes)
    {
        const auto target = memory.range(address, bytes.size());
        return target && std::memcmp(target->data(), bytes.data(), bytes.size()) == 0;
    }

    GuestMemory memory{kMemorySize};
};

TEST_F(BootImageTest, RejectsAnImageSmallerThanTheHeader)
{
    EXPECT_TRUE(refuses(make_image(kBootImage, sizeof(BootHeader) - 1), "too small"));
    EXPECT_TRUE(refuses({}, "too small"));
}

TEST_F(BootImageTest, RejectsAnImageWithoutTheSignature)
{
    std::vector<std::byte> image = make_image(kBootImage);
    image[offsetof(BootHeader, signature) + 7] = std::byte{'X'}; // "SCRATCHX"
    EXPECT_TRUE(refuses(image, "SCRATCHV"));
}

TEST_F(BootImageTest, RejectsALoadAddressLeavingNoRoomForTheExceptionStack)
{
    EXPECT_TRUE(refuses(make_image(kBootImageLowest - 8), "must lie between"));
    EXPECT_TRUE(refuses(make_image(0), "must lie between"));
}

TEST_F(BootImageTest, RejectsAnImageEndingPastTheBootArea)
{
    EXPECT_TRUE(refuses(make_image(kBootImageEnd - 255), "must lie between"));
    EXPECT_TRUE(refuses(make_image(kBootImageEnd), "must lie between"));
    EXPECT_TRUE(refuses(make_image(UINT64_MAX - 16), "must lie between"));
}

TEST_F(BootImageTest, RejectsASyscallEntryOutsideTheImage)
{
    std::vector<std::byte> image = make_image(kBootImage);
    for (uint64_t entry : {uint64_t{0}, kBootImage, kBootImage + image.size(), UINT64_MAX}) {
        std::memcpy(image.data() + offsetof(BootHeader, syscall_entry), &entry, sizeof entry);
        EXPECT_TRUE(refuses(image, "system-call entry point")) << entry;
    }
}

TEST_F(BootImageTest, RejectsAnExceptionReportOutsideTheImage)
{
    std::vector<std::byte> image = make_image(kBootImage);
    for (uint64_t report : {uint64_t{0}, kBootImage, kBootImage + image.size(), UINT64_MAX}) {
        std::memcpy(image.data() + offsetof(BootHeader, exception_report), &report, sizeof report);
        EXPECT_TRUE(refuses(image, "exception report")) << report;
    }
}

TEST_F(BootImageTest, AcceptsAnImageFillingTheBootAreaExactly)
{
    EXPECT_EQ(vmm::load_boot_image(memory, make_image(kBootImageLowest)).address, kBootImageLowest);
    EXPECT_EQ(vmm::load_boot_image(memory, make_image(kBootImageEnd - 256)).address,
              kBootImageEnd - 256);
}

TEST_F(BootImageTest, CopiesAGoodImageToItsLoadAddress)
{
    const std::vector<std::byte> image = make_image(kBootImage);
    EXPECT_EQ(vmm::load_boot_image(memory, image).address, kBootImage);
    EXPECT_TRUE(guest_holds(kBootImage, image));
    EXPECT_TRUE(guest_holds(kBootImage - 16, std::vector<std::byte>(16)));
    EXPECT_TRUE(guest_holds(kBootImage + image.size(), std::vector<std::byte>(16)));
}

TEST_F(BootImageTest, WriteBootParametersFillsEachHeaderField)
{
    const std::vector<std::byte> image = make_image(kBootImage);
    vmm::load_boot_image(memory, image);
    vmm::write_boot_parameters(memory, kBootImage, {0x40107c, 0x7fffb0, 0x1000, true});
    auto field = [&](std::size_t offset) { return memory.read_u64(kBootImage + offset, "field"); };
    EXPECT_EQ(field(offsetof(BootHeader, program_entry)), 0x40107cu);
    EXPECT_EQ(field(offsetof(BootHeader, program_stack)), 0x7fffb0u);
    EXPECT_EQ(field(offsetof(BootHeader, page_tables)), 0x1000u);
    EXPECT_EQ(field(offsetof(BootHeader, user_mode)), 1u);
    const auto filled = image.begin() + offsetof(BootHeader, program_entry);
    const auto code = image.begin() + sizeof(BootHeader);
    EXPECT_TRUE(guest_holds(kBootImage, {image.begin(), filled})) << "jump, signature, address";
    EXPECT_TRUE(guest_holds(kBootImage + sizeof(BootHeader), {code, image.end()})) << "the code";
}

TEST_F(BootImageTest, WriteBootParametersWritesZeroForRingZero)
{
    vmm::load_boot_image(memory, make_image(kBootImage));
    vmm::write_boot_parameters(memory, kBootImage, {1, 2, 3, true});
    vmm::write_boot_parameters(memory, kBootImage, {1, 2, 3, false});
    EXPECT_EQ(memory.read_u64(kBootImage + offsetof(BootHeader, user_mode), "user_mode"), 0u);
}

TEST(BootImageDriftTest, RealBootBinMatchesBootHeader)
{
    const std::filesystem::path path = built_file("vm_src/boot.bin");
    ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run make all";
    const std::vector<std::byte> image = vmm::read_host_file(path, "boot image", 1 << 20, "1 MiB");
    ASSERT_GE(image.size(), sizeof(BootHeader));
    EXPECT_EQ(offsetof(BootHeader, signature), 8u);
    EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(image.data()) + 8, 8), "SCRATCHV");
    BootHeader header;
    std::memcpy(&header, image.data(), sizeof header);
    EXPECT_EQ(header.load_address, kBootImage);

    GuestMemory memory(kMemorySize);
    const vmm::LoadedBootImage loaded = vmm::load_boot_image_file(memory, path);
    EXPECT_EQ(loaded.address, kBootImage);
    EXPECT_EQ(loaded.size, image.size());
    // syscall_entry is `hlt` (0xf4), what every system call of the program executes;
    // exception_report is `out 0xe0, al` (0xe6 0xe0), how boot.asm reports an exception.
    EXPECT_EQ(image.at(loaded.syscall_entry - kBootImage), std::byte{0xf4});
    EXPECT_EQ(image.at(loaded.exception_report - kBootImage), std::byte{0xe6});
    EXPECT_EQ(image.at(loaded.exception_report + 1 - kBootImage), std::byte{kExceptionPort});
}

} // namespace
