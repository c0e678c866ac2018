// Unit tests for vm_manager's command line.
#include "command_line.hpp"
#include "error.hpp"
#include "guest_layout.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <initializer_list>
#include <string>
#include <vector>

namespace {

using namespace vmm::layout;
using vmm::Options;
using vmm::UsageError;

// getopt keeps a pointer into the last argv it scanned, even after it returns: the strings
// of every parsed command line stay alive until the end of the test program, so that a
// parse_command_line that failed to reset getopt would misparse, not read freed memory.
char* lasting_string(const std::string& text)
{
    static std::deque<std::string> strings;
    return strings.emplace_back(text).data();
}

// Parses `vm_manager arguments...`.
Options parse(std::initializer_list<std::string> arguments)
{
    std::vector<char*> argv{lasting_string("vm_manager")};
    for (const std::string& argument : arguments) {
        argv.push_back(lasting_string(argument));
    }
    argv.push_back(nullptr);
    return vmm::parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
}

bool ends_with(const std::string& text, const std::string& end)
{
    return text.size() >= end.size() &&
           text.compare(text.size() - end.size(), end.size(), end) == 0;
}

TEST(CommandLineTest, Defaults)
{
    const Options options = parse({});
    EXPECT_EQ(options.memory_size, kDefaultMemorySize);
    EXPECT_EQ(options.workdir, ".");
    EXPECT_EQ(options.disk_quota, 256 * MiB);
    EXPECT_EQ(options.trace_file, "");
    EXPECT_EQ(options.ring, std::nullopt);
    EXPECT_EQ(options.max_exits, 0u);
    EXPECT_EQ(options.timeout_seconds, 0.0);
    EXPECT_FALSE(options.verbose);
    EXPECT_FALSE(options.memory_map);
    EXPECT_TRUE(options.seccomp);
    EXPECT_FALSE(options.help);
    EXPECT_TRUE(ends_with(options.boot_image, "vm_src/boot.bin")) << options.boot_image;
    ASSERT_EQ(options.arguments.size(), 1u);
    EXPECT_TRUE(ends_with(options.arguments[0], "vm_src/app")) << options.arguments[0];
}

TEST(CommandLineTest, ParsesEachOption)
{
    const Options options =
        parse({"--boot",      "my.bin",       "--mem",        "16M",          "--workdir",
               "/tmp/w",      "--disk-quota", "64M",          "--trace",      "t.txt",
               "--max-exits", "100",          "--timeout",    "2.5",          "--ring",
               "3",           "--verbose",    "--memory-map", "--no-seccomp", "--help"});
    EXPECT_EQ(options.boot_image, "my.bin");
    EXPECT_EQ(options.memory_size, 16 * MiB);
    EXPECT_EQ(options.workdir, "/tmp/w");
    EXPECT_EQ(options.disk_quota, 64 * MiB);
    EXPECT_EQ(options.trace_file, "t.txt");
    EXPECT_EQ(options.max_exits, 100u);
    EXPECT_EQ(options.timeout_seconds, 2.5);
    EXPECT_EQ(options.ring, 3);
    EXPECT_TRUE(options.verbose);
    EXPECT_TRUE(options.memory_map);
    EXPECT_FALSE(options.seccomp);
    EXPECT_TRUE(options.help);
}

TEST(CommandLineTest, AcceptsOptionEqualsValue)
{
    const Options options = parse({"--mem=4M", "--ring=0"});
    EXPECT_EQ(options.memory_size, 4 * MiB);
    EXPECT_EQ(options.ring, 0);
}

TEST(CommandLineTest, MemAcceptsSizesWithAndWithoutUnits)
{
    EXPECT_EQ(parse({"--mem", "8M"}).memory_size, 8 * MiB);
    EXPECT_EQ(parse({"--mem", "8MiB"}).memory_size, 8 * MiB);
    EXPECT_EQ(parse({"--mem", "1G"}).memory_size, 1 * GiB);
    EXPECT_EQ(parse({"--mem", "2097152"}).memory_size, 2 * MiB);
    EXPECT_EQ(parse({"--mem", "4096K"}).memory_size, 4 * MiB);
}

TEST(CommandLineTest, MemRejectsBadSizes)
{
    for (const char* size :
         {"3M", "0", "1M", "2G", "abc", "8X", "", "-8M", "99999999999999999999M"}) {
        EXPECT_THROW(parse({"--mem", size}), UsageError) << "--mem '" << size << "'";
    }
}

TEST(CommandLineTest, MemDigitsAreDecimalEvenWithALeadingZero)
{
    EXPECT_EQ(parse({"--mem", "010M"}).memory_size, 10 * MiB);
    EXPECT_EQ(parse({"--mem", "08M"}).memory_size, 8 * MiB);
}

TEST(CommandLineTest, DiskQuotaIsASizeWithOrWithoutAUnit)
{
    EXPECT_EQ(parse({"--disk-quota", "0"}).disk_quota, 0u);
    EXPECT_EQ(parse({"--disk-quota", "1000"}).disk_quota, 1000u);
    EXPECT_EQ(parse({"--disk-quota", "512K"}).disk_quota, 512 * KiB);
    EXPECT_EQ(parse({"--disk-quota", "3G"}).disk_quota, 3 * GiB);
    EXPECT_EQ(parse({"--disk-quota", "16GiB"}).disk_quota, 16 * GiB);
}

TEST(CommandLineTest, DiskQuotaRejectsWhatIsNoSize)
{
    for (const char* size :
         {"", "abc", "-1", "1.5G", "8X", "99999999999999999999", "99999999999999999G"}) {
        EXPECT_THROW(parse({"--disk-quota", size}), UsageError) << "--disk-quota '" << size << "'";
    }
}

TEST(CommandLineTest, RingIsZeroOrThreeOnly)
{
    EXPECT_EQ(parse({"--ring", "0"}).ring, 0);
    EXPECT_EQ(parse({"--ring", "3"}).ring, 3);
    for (const char* ring : {"1", "2", "03", "ring0", ""}) {
        EXPECT_THROW(parse({"--ring", ring}), UsageError) << "--ring '" << ring << "'";
    }
}

TEST(CommandLineTest, TimeoutTakesPositiveDecimalSeconds)
{
    EXPECT_EQ(parse({"--timeout", "0.5"}).timeout_seconds, 0.5);
    for (const char* timeout : {"0", "-1", "x", "1s", "", "inf", "nan"}) {
        EXPECT_THROW(parse({"--timeout", timeout}), UsageError) << "--timeout '" << timeout << "'";
    }
}

TEST(CommandLineTest, TimeoutIsWhatTheTimerCanHold)
{
    EXPECT_EQ(parse({"--timeout", "0.001"}).timeout_seconds, 0.001);
    EXPECT_EQ(parse({"--timeout", "9223372036"}).timeout_seconds, 9223372036.0);
    for (const char* timeout : {"0.0000001", "0.0009", "1e-300", "9223372037", "1e300"}) {
        EXPECT_TRUE(throws_naming(
            [&] {
                parse({"--timeout", timeout});
            },
            "from 0.001 to 9223372036"))
            << "--timeout '" << timeout << "'";
    }
}

TEST(CommandLineTest, MaxExitsRejectsNonNumbers)
{
    for (const char* count : {"abc", "5x", "-1", "", "1.5"}) {
        EXPECT_THROW(parse({"--max-exits", count}), UsageError) << "--max-exits '" << count << "'";
    }
}

TEST(CommandLineTest, MaxExitsRejectsANegativeNumberAfterASpace)
{
    EXPECT_THROW(parse({"--max-exits", " -1"}), UsageError);
}

TEST(CommandLineTest, UnknownOptionsAreUsageErrors)
{
    EXPECT_THROW(parse({"--bogus"}), UsageError);
    EXPECT_THROW(parse({"--size", "8M"}), UsageError);
    EXPECT_THROW(parse({"-x"}), UsageError);
}

TEST(CommandLineTest, MissingValueIsAUsageError)
{
    for (const char* option :
         {"--mem", "--boot", "--trace", "--ring", "--timeout", "--disk-quota"}) {
        EXPECT_THROW(parse({option}), UsageError) << option;
    }
}

TEST(CommandLineTest, UsageErrorsExitWithStatusTwo)
{
    try {
        parse({"--bogus"});
        FAIL() << "no UsageError";
    } catch (const UsageError& error) {
        EXPECT_EQ(error.exit_status(), vmm::kExitUsage);
        EXPECT_NE(std::string(error.what()).find("--bogus"), std::string::npos) << error.what();
    }
}

TEST(CommandLineTest, UnknownShortOptionMessageNamesTheOption)
{
    try {
        parse({"-xy"});
        FAIL() << "no UsageError";
    } catch (const UsageError& error) {
        EXPECT_NE(std::string(error.what()).find("-x"), std::string::npos) << error.what();
    }
}

TEST(CommandLineTest, EverythingAfterTheAppGoesToTheGuest)
{
    const Options options = parse({"--mem", "4M", "app", "--verbose", "x", "--mem", "2G"});
    EXPECT_EQ(options.arguments,
              (std::vector<std::string>{"app", "--verbose", "x", "--mem", "2G"}));
    EXPECT_FALSE(options.verbose);
    EXPECT_EQ(options.memory_size, 4 * MiB);
}

TEST(CommandLineTest, DoubleDashEndsTheOptions)
{
    EXPECT_EQ(parse({"--", "--app"}).arguments, std::vector<std::string>{"--app"});
}

TEST(CommandLineTest, ParsingAgainStartsFromAFreshState)
{
    EXPECT_EQ(parse({"--verbose", "first"}).arguments, std::vector<std::string>{"first"});
    EXPECT_EQ(parse({"second"}).arguments, std::vector<std::string>{"second"});
}

TEST(CommandLineTest, ParsingAgainAfterAnUnknownOptionClusterStartsFresh)
{
    EXPECT_THROW(parse({"-xy"}), UsageError);
    EXPECT_EQ(parse({"app"}).arguments, std::vector<std::string>{"app"});
}

} // namespace
