// Unit tests for the trace lines: the grader compares them with the reference's, byte for byte.
#include "error.hpp"
#include "test_support.hpp"
#include "trace.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>

namespace {

using vmm::Trace;

constexpr uint64_t kAllOnes = UINT64_MAX; // a register holding -1

class TraceTest : public testing::Test {
  protected:
    void SetUp() override
    {
        std::string pattern = testing::TempDir() + "trace_test_XXXXXX";
        const int fd = ::mkstemp(pattern.data());
        ASSERT_GE(fd, 0) << "mkstemp " << pattern;
        ::close(fd);
        path = pattern;
    }
    void TearDown() override
    {
        if (!path.empty()) {
            ::unlink(path.c_str());
        }
    }

    std::string file_contents() const
    {
        std::ifstream file(path);
        std::ostringstream text;
        text << file.rdbuf();
        return text.str();
    }
    // What `calls` writes through a Trace that is then destroyed.
    std::string traced(const std::function<void(Trace&)>& calls)
    {
        {
            Trace trace(path);
            calls(trace);
        }
        return file_contents();
    }

    std::string path;
};

TEST_F(TraceTest, OpenLine)
{
    EXPECT_EQ(traced([](Trace& t) { t.open("./ay_caramba", 32834, 511, 3); }),
              "OPEN ./ay_caramba 32834 511 - return 3\n");
}

TEST_F(TraceTest, OpenPrintsExactlyThePathGiven)
{
    const std::string_view path("./ay_caramba-and-more", 12); // not NUL-terminated there
    EXPECT_EQ(traced([&](Trace& t) { t.open(path, 0, 0, 3); }),
              "OPEN ./ay_caramba 0 0 - return 3\n");
}

TEST_F(TraceTest, OpenOfAPathTheVmmCannotReadSaysBadAddress)
{
    // sys_open passes GuestMemory::c_string()'s answer: nullopt for a pointer
    // outside guest memory. strace shows the address; the trace has no text.
    EXPECT_EQ(traced([](Trace& t) { t.open(std::nullopt, 0, 0, -14); }),
              "OPEN (bad address) 0 0 - return -14\n");
    const std::optional<std::string_view> read = "./ay_caramba";
    EXPECT_EQ(traced([&](Trace& t) { t.open(read, 32834, 511, 3); }),
              "OPEN ./ay_caramba 32834 511 - return 3\n");
}

TEST_F(TraceTest, WriteLinePrintsTheBufferInHex)
{
    EXPECT_EQ(traced([](Trace& t) { t.write(3, 0xa07e, 16, 16); }),
              "WRITE 3 a07e 16 - return 16\n");
}

TEST_F(TraceTest, CloseLine)
{
    EXPECT_EQ(traced([](Trace& t) { t.close(3, 0); }), "CLOSE 3 - return 0\n");
}

TEST_F(TraceTest, ExitLine)
{
    EXPECT_EQ(traced([](Trace& t) { t.exit(0); }), "EXIT 0\n");
    EXPECT_EQ(traced([](Trace& t) { t.exit(42); }), "EXIT 42\n");
}

TEST_F(TraceTest, UndefinedSyscallLine)
{
    EXPECT_EQ(traced([](Trace& t) { t.undefined(158); }), "undefined syscall 158\n");
}

TEST_F(TraceTest, OtherCallsPrintTheirNameInCapitalsThenTheirArgumentsAsTheyAre)
{
    using Kind = vmm::TraceValue::Kind;
    const vmm::TraceValue read[] = {
        {Kind::kInt, 3, {}}, {Kind::kAddress, 0x7fffe0, {}}, {Kind::kNumber, 4096, {}}};
    const vmm::TraceValue stat[] = {{Kind::kInt, 0xffffff9c, {}},
                                    {Kind::kPath, 0, "notes\ntxt"},
                                    {Kind::kAddress, 0x7ffe10, {}},
                                    {Kind::kNumber, UINT64_MAX, {}}};
    EXPECT_EQ(traced([&](Trace& t) {
                  t.call(SYS_read, read, {Kind::kNumber, 28, {}});
                  t.call(SYS_newfstatat, stat, {Kind::kNumber, static_cast<uint64_t>(-2), {}});
                  t.call(SYS_getpid, {}, {Kind::kNumber, 1, {}});
              }),
              "READ 3 7fffe0 4096 - return 28\n"
              "NEWFSTATAT -100 notes\\ntxt 7ffe10 -1 - return -2\n"
              "GETPID - return 1\n");
}

TEST_F(TraceTest, AnAddressResultIsHexUnlessItIsAnError)
{
    using Kind = vmm::TraceValue::Kind;
    const vmm::TraceValue brk[] = {{Kind::kAddress, 0, {}}};
    EXPECT_EQ(traced([&](Trace& t) {
                  t.call(SYS_brk, brk, {Kind::kAddress, 0x5ec000, {}});
                  t.call(SYS_mmap, {}, {Kind::kAddress, static_cast<uint64_t>(-12), {}});
                  t.call(SYS_mmap, {}, {Kind::kAddress, static_cast<uint64_t>(-4096), {}});
              }),
              "BRK 0 - return 5ec000\nMMAP - return -12\nMMAP - return fffffffffffff000\n");
}

TEST_F(TraceTest, NegativeResultsPrintAsNegative)
{
    EXPECT_EQ(traced([](Trace& t) {
                  t.open("missing", 0, 0, -2);
                  t.write(9, 0x1000, 4, -9);
                  t.close(9, -9);
              }),
              "OPEN missing 0 0 - return -2\n"
              "WRITE 9 1000 4 - return -9\n"
              "CLOSE 9 - return -9\n");
}

TEST_F(TraceTest, AllOnesRegistersPrintAsMinusOneButInHexForTheBuffer)
{
    EXPECT_EQ(traced([](Trace& t) {
                  t.open("f", kAllOnes, kAllOnes, -1);
                  t.write(kAllOnes, kAllOnes, kAllOnes, -14);
                  t.close(kAllOnes, -9);
                  t.exit(kAllOnes);
                  t.undefined(kAllOnes);
              }),
              "OPEN f -1 -1 - return -1\n"
              "WRITE -1 ffffffffffffffff -1 - return -14\n"
              "CLOSE -1 - return -9\n"
              "EXIT -1\n"
              "undefined syscall -1\n");
}

TEST_F(TraceTest, FileIsCompleteOnceTheTraceIsDestroyed)
{
    std::string expected;
    const std::string contents = traced([&](Trace& t) {
        for (int i = 0; i < 1000; ++i) {
            t.undefined(i);
            expected += "undefined syscall " + std::to_string(i) + "\n";
        }
    });
    EXPECT_EQ(contents, expected);
}

TEST_F(TraceTest, ReplacesAnExistingFile)
{
    traced([](Trace& t) { t.exit(1); });
    EXPECT_EQ(traced([](Trace& t) { t.exit(2); }), "EXIT 2\n");
}

TEST_F(TraceTest, PathsAreEscapedAsStraceEscapesThem)
{
    // A path that would forge a line and clear the terminal.
    const std::string path = "a\nEXIT 0\x1b[2J\\b\t\"\xc3\xa9\r\v\f\x7f";
    EXPECT_EQ(traced([&](Trace& t) { t.open(path, 0, 0, 3); }),
              "OPEN a\\nEXIT 0\\x1b[2J\\\\b\\t\"\\xc3\\xa9\\r\\v\\f\\x7f 0 0 - return 3\n");
}

TEST_F(TraceTest, PathWithANulByteStaysOnItsLine)
{
    EXPECT_EQ(traced([](Trace& t) { t.open(std::string_view("a\0b", 3), 0, 0, -2); }),
              "OPEN a\\x00b 0 0 - return -2\n");
}

TEST_F(TraceTest, EachLineIsWrittenAtOnce)
{
    Trace trace(path);
    trace.exit(1);
    EXPECT_EQ(file_contents(), "EXIT 1\n") << "the line waited in a buffer";
}

TEST(TraceOpenTest, UnwritablePathThrowsSystemError)
{
    EXPECT_THROW(Trace("/nonexistent/scratchvm-unit-test/trace"), vmm::SystemError);
}

TEST(TraceOpenTest, AFifoIsRefusedWithoutWaitingForAReader)
{
    const std::string fifo = testing::TempDir() + "trace_test_fifo";
    ::unlink(fifo.c_str());
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_TRUE(throws_naming([&] { Trace trace(fifo); }, "not a regular file"));
    const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(reader, 0);
    EXPECT_TRUE(throws_naming([&] { Trace trace(fifo); }, "not a regular file")) << "with a reader";
    ::close(reader);
    ::unlink(fifo.c_str());
}

TEST(TraceOpenTest, ADeviceIsRefused)
{
    EXPECT_TRUE(throws_naming([] { Trace trace("/dev/null"); }, "not a regular file"));
}

TEST(TraceWriteTest, AFailedWriteThrowsNamingWhereTheTraceWent)
{
    // Standard output on /dev/full, where every write fails with ENOSPC.
    const int saved = ::dup(STDOUT_FILENO);
    const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(full, 0);
    ::fflush(stdout);
    ::dup2(full, STDOUT_FILENO);
    std::string message;
    try {
        Trace trace("");
        trace.exit(0);
    } catch (const vmm::SystemError& error) {
        message = error.what();
    }
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
    ::close(full);
    EXPECT_NE(message.find("writing the trace to standard output failed: No space left on "
                           "device"),
              std::string::npos)
        << message;
}

} // namespace
