// test_support.hpp: helpers shared by the engine's unit tests.
#pragma once

#include "error.hpp"

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
