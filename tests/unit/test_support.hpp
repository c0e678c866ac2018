// test_support.hpp: helpers shared by the engine's unit tests.
#pragma once

#include "boot_image.hpp"
#include "elf_loader.hpp"
#include "error.hpp"
#include "guest_layout.hpp"

#include <elf.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string_view>

// Passes when `action` throws a VmmError whose message contains `word`.
template <typename Action>
testing::AssertionResult throws_naming(Action action, std::string_view word)
{
    try {
        action();
    } catch (const vmm::VmmError& error) {
        if (std::string_view(error.what()).find(word) != std::string_view::npos) {
            return testing::AssertionSuccess();
        }
        return testing::AssertionFailure()
               << "the message \"" << error.what() << "\" does not contain \"" << word << '"';
    }
    return testing::AssertionFailure() << "no VmmError was thrown";
}

// A file of the kit's build, found from this test binary (build/tests/unit_tests).
inline std::filesystem::path built_file(const char* relative)
{
    return std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / relative;
}

// A boot image as the VMM knows it once loaded: at 0x8000, its size, its
// syscall_entry and its exception report site (boot.asm's, about: the tests
// need addresses inside the image, not these exact ones).
inline const vmm::LoadedBootImage kLabBootImage{vmm::layout::kBootImage, 0x4e6,
                                                vmm::layout::kBootImage + 0x135,
                                                vmm::layout::kBootImage + 0x211};

// The lab program's segments as musl-gcc -static links it (readelf -l): the
// headers, .text, .rodata read-only at 0x402000, .data and .bss read-write at
// 0x403fd0; the break starts at the page after them, 0x405000.
inline vmm::LoadedProgram lab_program()
{
    return {0x40107c,
            0x400040,
            56,
            4,
            {{0x400000, 0x190, PF_R},
             {0x401000, 0xa9c, PF_R | PF_X},
             {0x402000, 0x70, PF_R},
             {0x403fd0, 0x2b0, PF_R | PF_W}}};
}
