// Unit tests for the trace lines: the grader compares them with the reference's, byte for byte.
#include "error.hpp"
#include "trace.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <functional>
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

TEST(TraceOpenTest, UnwritablePathThrowsSystemError)
{
    EXPECT_THROW(Trace("/nonexistent/scratchvm-unit-test/trace"), vmm::SystemError);
}

} // namespace
