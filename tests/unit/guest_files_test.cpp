// Unit tests for the guest's file-descriptor table.
#include "error.hpp"
#include "guest_files.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <tuple>

namespace {

using vmm::GuestFiles;
using vmm::UniqueFd;

// A fresh host fd the test can hand to the table.
UniqueFd open_host_file()
{
    const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    EXPECT_GE(fd, 0) << "open /dev/null";
    return UniqueFd(fd);
}

bool host_fd_is_open(int fd)
{
    return ::fcntl(fd, F_GETFD) != -1;
}

class GuestFilesTest : public testing::Test {
  protected:
    GuestFiles files{testing::TempDir()};
};

TEST_F(GuestFilesTest, StandardStreamsMapToTheHostsOwn)
{
    EXPECT_EQ(files.host_fd(0), 0);
    EXPECT_EQ(files.host_fd(1), 1);
    EXPECT_EQ(files.host_fd(2), 2);
}

TEST_F(GuestFilesTest, AddGivesTheLowestFreeNumber)
{
    EXPECT_EQ(files.add(open_host_file()), 3);
    EXPECT_EQ(files.add(open_host_file()), 4);
    EXPECT_EQ(files.close(3), 0);
    EXPECT_EQ(files.add(open_host_file()), 3);
    EXPECT_EQ(files.add(open_host_file()), 5);
}

TEST_F(GuestFilesTest, AddReusesAFreedStandardNumber)
{
    EXPECT_EQ(files.close(1), 0);
    EXPECT_EQ(files.add(open_host_file()), 1);
    EXPECT_EQ(files.add(open_host_file()), 3);
}

TEST_F(GuestFilesTest, AddedFdMapsToItsHostFd)
{
    UniqueFd host = open_host_file();
    const int host_number = host.get();
    const int64_t guest = files.add(std::move(host));
    EXPECT_EQ(files.host_fd(guest), host_number);
}

TEST_F(GuestFilesTest, HostFdOfAnUnknownNumberIsMinusOne)
{
    EXPECT_EQ(files.host_fd(3), -1);
    EXPECT_EQ(files.host_fd(GuestFiles::kMaxFiles - 1), -1);
    EXPECT_EQ(files.host_fd(GuestFiles::kMaxFiles), -1);
    EXPECT_EQ(files.host_fd(uint64_t{1} << 32), -1) << "truncated to guest fd 0";
    EXPECT_EQ(files.host_fd((uint64_t{1} << 32) | 1), -1) << "truncated to guest fd 1";
    EXPECT_EQ(files.host_fd(UINT64_MAX), -1) << "-1 as a signed number";
}

TEST_F(GuestFilesTest, CloseOfAFreeFdIsEbadf)
{
    EXPECT_EQ(files.close(3), -EBADF);
    EXPECT_EQ(files.close(GuestFiles::kMaxFiles), -EBADF);
    EXPECT_EQ(files.close(UINT64_MAX), -EBADF);
    EXPECT_EQ(files.add(open_host_file()), 3);
    EXPECT_EQ(files.close(3), 0);
    EXPECT_EQ(files.close(3), -EBADF) << "closed twice";
}

TEST_F(GuestFilesTest, FullTableRefusesWithEmfileAndClosesTheRefusedFd)
{
    for (int64_t expected = 3; expected < GuestFiles::kMaxFiles; ++expected) {
        ASSERT_EQ(files.add(open_host_file()), expected);
    }
    UniqueFd refused = open_host_file();
    const int refused_number = refused.get();
    ASSERT_TRUE(host_fd_is_open(refused_number));
    EXPECT_EQ(files.add(std::move(refused)), -EMFILE);
    EXPECT_FALSE(host_fd_is_open(refused_number)) << "the refused host fd leaked";
}

TEST_F(GuestFilesTest, ClosingGuestStdoutKeepsHostStdoutOpen)
{
    EXPECT_EQ(files.close(1), 0);
    EXPECT_EQ(files.host_fd(1), -1);
    EXPECT_TRUE(host_fd_is_open(1));
}

TEST_F(GuestFilesTest, ClosingAnOwnedFdClosesItsHostFd)
{
    UniqueFd host = open_host_file();
    const int host_number = host.get();
    const int64_t guest = files.add(std::move(host));
    ASSERT_TRUE(host_fd_is_open(host_number));
    EXPECT_EQ(files.close(guest), 0);
    EXPECT_FALSE(host_fd_is_open(host_number));
}

TEST(OpenForTest, SaysWhatTheHostFileWasOpenedFor)
{
    for (const auto& [flags, reading, writing] :
         {std::tuple{O_RDONLY, true, false}, std::tuple{O_WRONLY, false, true},
          std::tuple{O_RDWR, true, true}, std::tuple{O_PATH, false, false}}) {
        const UniqueFd file(::open("/dev/null", flags | O_CLOEXEC));
        ASSERT_TRUE(file) << flags;
        EXPECT_EQ(vmm::open_for_reading(file.get()), reading) << flags;
        EXPECT_EQ(vmm::open_for_writing(file.get()), writing) << flags;
    }
    EXPECT_FALSE(vmm::open_for_reading(-1));
    EXPECT_FALSE(vmm::open_for_writing(-1));
}

TEST(GuestFilesLifetimeTest, DestroyingTheTableClosesOwnedFds)
{
    int host_number = -1;
    {
        GuestFiles files(testing::TempDir());
        UniqueFd host = open_host_file();
        host_number = host.get();
        files.add(std::move(host));
    }
    EXPECT_FALSE(host_fd_is_open(host_number));
}

TEST(GuestFilesLifetimeTest, NonexistentWorkdirThrowsSystemError)
{
    EXPECT_THROW(GuestFiles("/nonexistent/scratchvm-unit-test"), vmm::SystemError);
}

// GuestFiles::open: a guest's path resolves inside the working directory only.
class GuestFilesOpenTest : public testing::Test {
  protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/guest-files-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        outside_ = pattern;
        workdir_ = outside_ + "/work";
        ASSERT_EQ(::mkdir(workdir_.c_str(), 0755), 0);
        ASSERT_EQ(::symlink((outside_ + "/secret").c_str(), (workdir_ + "/link-out").c_str()), 0);
        files_ = std::make_unique<GuestFiles>(workdir_);
    }
    void TearDown() override
    {
        files_.reset();
        std::filesystem::remove_all(outside_);
    }
    bool exists(const std::string& path) const { return std::filesystem::exists(path); }

    std::string outside_;
    std::string workdir_;
    std::unique_ptr<GuestFiles> files_;
};

TEST_F(GuestFilesOpenTest, CreatesARelativePathInTheWorkingDirectory)
{
    EXPECT_EQ(files_->open("made", O_WRONLY | O_CREAT, 0600), 3);
    EXPECT_TRUE(exists(workdir_ + "/made"));
    EXPECT_EQ(std::filesystem::status(workdir_ + "/made").permissions() &
                  std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(GuestFilesOpenTest, RefusesEveryWayOutOfTheWorkingDirectory)
{
    for (const char* path : {"../escaped", "/tmp/escaped-by-guest", "link-out", "./../work/../x"}) {
        EXPECT_EQ(files_->open(path, O_WRONLY | O_CREAT, 0644), -EXDEV) << path;
    }
    EXPECT_FALSE(exists(outside_ + "/escaped"));
    EXPECT_FALSE(exists(outside_ + "/secret"));
    EXPECT_FALSE(exists(outside_ + "/x"));
    EXPECT_FALSE(exists("/tmp/escaped-by-guest"));
}

TEST_F(GuestFilesOpenTest, IgnoresUnknownFlagBitsAndTheModeWithoutCreate)
{
    ASSERT_EQ(files_->open("plain", O_WRONLY | O_CREAT, 0644), 3);
    // open(2) ignores bits it does not know, and the mode unless it creates.
    EXPECT_EQ(files_->open("plain", O_RDONLY | (uint64_t{1} << 40), 07777777), 4);
}

TEST_F(GuestFilesOpenTest, ReportsAMissingFileAsENOENT)
{
    EXPECT_EQ(files_->open("missing", O_RDONLY, 0), -ENOENT);
}

} // namespace

namespace {

mode_t host_mode(const GuestFiles& files, int64_t guest_fd)
{
    struct stat info {};
    EXPECT_EQ(::fstat(files.host_fd(guest_fd), &info), 0);
    return info.st_mode;
}

mode_t current_umask()
{
    const mode_t mask = ::umask(0);
    ::umask(mask);
    return mask;
}

TEST_F(GuestFilesOpenTest, CreatedFilesGetPermissionBitsOnly)
{
    const int64_t fd = files_->open("set-uid", O_WRONLY | O_CREAT, 06755);
    ASSERT_EQ(fd, 3);
    EXPECT_EQ(host_mode(*files_, fd) & 07777, 0755 & ~current_umask())
        << "set-uid and set-gid bits of the guest's choosing";
}

TEST_F(GuestFilesOpenTest, UnnamedTemporaryFilesGetPermissionBitsOnly)
{
    const int64_t fd = files_->open(".", O_TMPFILE | O_RDWR, 07777);
    if (fd == -EOPNOTSUPP) {
        GTEST_SKIP() << "this file system has no O_TMPFILE";
    }
    ASSERT_EQ(fd, 3);
    EXPECT_EQ(host_mode(*files_, fd) & 07000, 0u);
}

TEST_F(GuestFilesOpenTest, OPathWithMuslsLargeFileFlagOpensAsOnLinux)
{
    constexpr uint64_t kLinuxLargeFile = 0100000;
    const int64_t fd = files_->open(".", O_PATH | kLinuxLargeFile | O_RDWR | O_CREAT, 0644);
    ASSERT_EQ(fd, 3) << "open(\".\", O_PATH) gives an fd on Linux, whatever else is set";
    EXPECT_TRUE(::fcntl(files_->host_fd(fd), F_GETFL) & O_PATH);
}

TEST(GuestFilesMountTest, PathsNeverCrossAMountPointUnderTheWorkingDirectory)
{
    // /proc is a mount of its own under /: through it, a guest would reach
    // the VMM's /proc/self/mem.
    GuestFiles files("/");
    EXPECT_EQ(files.open("proc/self/comm", O_WRONLY, 0), -EXDEV);
    EXPECT_EQ(files.open("proc/self/mem", O_RDWR, 0), -EXDEV);
}

TEST_F(GuestFilesOpenTest, DotDotIsWalkedAgainWhenAHostRenameRacesWithIt)
{
    // Any rename on the host while openat2 walks ".." makes the kernel answer
    // EAGAIN (it cannot prove the walk stayed beneath the working directory).
    ASSERT_EQ(::mkdir((workdir_ + "/sub").c_str(), 0755), 0);
    ASSERT_GE(files_->open("file", O_WRONLY | O_CREAT, 0644), 0);
    const std::string a = outside_ + "/a", b = outside_ + "/b";
    ASSERT_EQ(::mkdir(a.c_str(), 0755), 0);
    std::atomic<bool> done = false;
    std::thread renamer([&] {
        while (!done) {
            ::rename(a.c_str(), b.c_str());
            ::rename(b.c_str(), a.c_str());
        }
    });
    int eagain = 0;
    for (int i = 0; i < 20000; ++i) {
        const int64_t fd = files_->open("sub/../file", O_RDONLY, 0);
        eagain += fd == -EAGAIN;
        if (fd >= 0) {
            files_->close(fd);
        }
    }
    done = true;
    renamer.join();
    EXPECT_EQ(eagain, 0) << "opens that failed with EAGAIN";
}

} // namespace

// GuestFiles::write: write(2) on the host fd, within the guest's write limits.
namespace {

std::span<const std::byte> bytes_of(const std::string& text)
{
    return std::as_bytes(std::span(text.data(), text.size()));
}

class GuestFilesWriteTest : public GuestFilesOpenTest {
  protected:
    // A fresh table with a quota of `quota` bytes, and a file opened in it.
    int64_t open_with_quota(uint64_t quota, uint64_t flags = O_WRONLY | O_CREAT | O_TRUNC)
    {
        files_ = std::make_unique<GuestFiles>(workdir_, quota);
        return files_->open("out", flags, 0644);
    }
    uint64_t size_of_out() const { return std::filesystem::file_size(workdir_ + "/out"); }
};

TEST_F(GuestFilesWriteTest, WritesWhatItIsGiven)
{
    const int64_t fd = open_with_quota(vmm::kDefaultDiskQuota);
    EXPECT_EQ(files_->write(fd, bytes_of("hello\n")), 6);
    EXPECT_EQ(size_of_out(), 6u);
}

TEST_F(GuestFilesWriteTest, UnknownFdIsEbadf)
{
    EXPECT_EQ(files_->write(3, bytes_of("x")), -EBADF);
    EXPECT_EQ(files_->write(UINT64_MAX, bytes_of("x")), -EBADF);
}

TEST_F(GuestFilesWriteTest, PastTheFileSizeLimitWritesAreCutThenFailWithEfbig)
{
    const int64_t fd = open_with_quota(UINT64_MAX);
    ASSERT_EQ(::lseek(files_->host_fd(fd), vmm::kMaxGuestFileSize - 2, SEEK_SET),
              static_cast<off_t>(vmm::kMaxGuestFileSize - 2));
    EXPECT_EQ(files_->write(fd, bytes_of("abcd")), 2);
    EXPECT_EQ(files_->write(fd, bytes_of("cd")), -EFBIG);
    EXPECT_EQ(size_of_out(), vmm::kMaxGuestFileSize);
}

TEST_F(GuestFilesWriteTest, PastTheQuotaWritesAreCutThenFailWithEdquot)
{
    const int64_t fd = open_with_quota(10);
    EXPECT_EQ(files_->write(fd, bytes_of("0123456")), 7);
    EXPECT_EQ(files_->write(fd, bytes_of("789abc")), 3);
    EXPECT_EQ(files_->write(fd, bytes_of("d")), -EDQUOT);
    EXPECT_EQ(size_of_out(), 10u);
    // What a file already holds may be written again.
    ASSERT_EQ(::lseek(files_->host_fd(fd), 0, SEEK_SET), 0);
    EXPECT_EQ(files_->write(fd, bytes_of("ABC")), 3);
}

TEST_F(GuestFilesWriteTest, QuotaCoversEveryFileOfTheRun)
{
    const int64_t first = open_with_quota(10);
    const int64_t second = files_->open("other", O_WRONLY | O_CREAT, 0644);
    EXPECT_EQ(files_->write(first, bytes_of("012345")), 6);
    EXPECT_EQ(files_->write(second, bytes_of("012345")), 4);
}

TEST_F(GuestFilesWriteTest, AppendedBytesAreChargedWhereverTheFilePositionIs)
{
    {
        const int64_t fd = open_with_quota(10);
        ASSERT_EQ(files_->write(fd, bytes_of("01234567")), 8);
    }
    const int64_t fd = open_with_quota(10, O_WRONLY | O_APPEND);
    ASSERT_EQ(::lseek(files_->host_fd(fd), 0, SEEK_CUR), 0);
    EXPECT_EQ(files_->write(fd, bytes_of("0123456789ab")), 10);
    EXPECT_EQ(files_->write(fd, bytes_of("c")), -EDQUOT);
    EXPECT_EQ(size_of_out(), 18u);
}

TEST_F(GuestFilesWriteTest, AHoleLeftBeforeTheBytesIsCharged)
{
    const int64_t fd = open_with_quota(100);
    ASSERT_EQ(::lseek(files_->host_fd(fd), 1000, SEEK_SET), 1000);
    EXPECT_EQ(files_->write(fd, bytes_of("x")), -EDQUOT);
    EXPECT_EQ(size_of_out(), 0u);
}

TEST_F(GuestFilesWriteTest, AFileOpenForReadingOnlyIsEbadfEvenPastTheLimits)
{
    ASSERT_EQ(open_with_quota(0), 3);
    const int64_t read_only = files_->open("out", O_RDONLY, 0);
    ASSERT_EQ(::lseek(files_->host_fd(read_only), vmm::kMaxGuestFileSize, SEEK_SET),
              static_cast<off_t>(vmm::kMaxGuestFileSize));
    EXPECT_EQ(files_->write(read_only, bytes_of("x")), -EBADF);
}

TEST_F(GuestFilesWriteTest, PipesAreNotChargedToTheQuota)
{
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd read_end(pipe_fds[0]);
    files_ = std::make_unique<GuestFiles>(workdir_, 0);
    const int64_t fd = files_->add(UniqueFd(pipe_fds[1]));
    EXPECT_EQ(files_->write(fd, bytes_of("through")), 7);
}

} // namespace

// --- dup, FD_CLOEXEC, writev and pwrite, *at paths -----------------------------

namespace {

TEST_F(GuestFilesWriteTest, DupSharesTheOpenFileUnderTheLowestFreeNumber)
{
    const int64_t fd = open_with_quota(vmm::kDefaultDiskQuota);
    EXPECT_EQ(files_->duplicate(fd, 0, false), 4);
    EXPECT_EQ(files_->write(4, bytes_of("ab")), 2);
    EXPECT_EQ(files_->write(fd, bytes_of("cd")), 2) << "the file position is shared";
    EXPECT_EQ(size_of_out(), 4u);
    EXPECT_EQ(files_->duplicate(fd, 10, true), 10);
    EXPECT_EQ(files_->close_on_exec(10), 1);
    EXPECT_EQ(files_->close_on_exec(4), 0);
    EXPECT_EQ(files_->duplicate(9, 0, false), -EBADF);
    EXPECT_EQ(files_->duplicate(fd, GuestFiles::kMaxFiles, false), -EINVAL);
}

TEST_F(GuestFilesWriteTest, Dup2ReplacesAStandardStreamWithoutClosingTheHosts)
{
    const int64_t fd = open_with_quota(vmm::kDefaultDiskQuota);
    EXPECT_EQ(files_->duplicate_to(fd, 1, false), 1);
    EXPECT_NE(files_->host_fd(1), 1);
    EXPECT_TRUE(host_fd_is_open(1)) << "the VMM's own stdout";
    EXPECT_EQ(files_->write(1, bytes_of("to the file")), 11);
    EXPECT_EQ(size_of_out(), 11u);
    EXPECT_EQ(files_->duplicate_to(fd, fd, false), fd) << "dup2(fd, fd) does nothing";
    EXPECT_EQ(files_->duplicate_to(fd, GuestFiles::kMaxFiles, false), -EBADF);
    EXPECT_EQ(files_->duplicate_to(40, 5, false), -EBADF);
}

TEST_F(GuestFilesWriteTest, CloseOnExecIsKeptPerFd)
{
    EXPECT_EQ(files_->open("made", O_WRONLY | O_CREAT | O_CLOEXEC, 0600), 3);
    EXPECT_EQ(files_->close_on_exec(3), 1);
    EXPECT_EQ(files_->set_close_on_exec(3, false), 0);
    EXPECT_EQ(files_->close_on_exec(3), 0);
    EXPECT_EQ(files_->close_on_exec(7), -EBADF);
    EXPECT_EQ(files_->set_close_on_exec(7, true), -EBADF);
}

TEST_F(GuestFilesWriteTest, PiecesAndOffsetsKeepTheLimits)
{
    const int64_t fd = open_with_quota(5);
    const std::string a = "abc", b = "defg";
    const iovec pieces[] = {{const_cast<char*>(a.data()), a.size()},
                            {const_cast<char*>(b.data()), b.size()}};
    EXPECT_EQ(files_->write(fd, pieces, std::nullopt), 5) << "cut at the quota";
    EXPECT_EQ(files_->write(fd, pieces, uint64_t{0}), 5) << "over bytes already there: free";
    EXPECT_EQ(files_->write(fd, pieces, uint64_t{7}), -EDQUOT);
    EXPECT_EQ(::lseek(files_->host_fd(fd), 0, SEEK_CUR), 5) << "pwrite leaves the position";
    std::ifstream out(workdir_ + "/out");
    std::string text;
    std::getline(out, text);
    EXPECT_EQ(text, "abcde");
}

TEST_F(GuestFilesOpenTest, OpenAtIsRelativeToTheGuestsDirectoryFdAndStaysBeneathIt)
{
    ASSERT_EQ(::mkdir((workdir_ + "/sub").c_str(), 0755), 0);
    const int64_t directory = files_->open("sub", O_RDONLY | O_DIRECTORY, 0);
    ASSERT_EQ(directory, 3);
    EXPECT_EQ(files_->open_at(directory, "in-sub", O_WRONLY | O_CREAT, 0644), 4);
    EXPECT_TRUE(exists(workdir_ + "/sub/in-sub"));
    EXPECT_EQ(files_->open_at(directory, "../climbed", O_WRONLY | O_CREAT, 0644), -EXDEV);
    EXPECT_EQ(files_->open_at(9, "x", O_RDONLY, 0), -EBADF);
    EXPECT_EQ(
        files_->open_at(static_cast<uint32_t>(AT_FDCWD), "made-here", O_WRONLY | O_CREAT, 0644), 5);
    EXPECT_TRUE(exists(workdir_ + "/made-here"));
}

TEST_F(GuestFilesOpenTest, OpenFollowsTheGuestsWorkingDirectory)
{
    ASSERT_EQ(::mkdir((workdir_ + "/sub").c_str(), 0755), 0);
    EXPECT_EQ(files_->paths().change_directory("sub"), 0);
    EXPECT_EQ(files_->open("there", O_WRONLY | O_CREAT, 0644), 3);
    EXPECT_TRUE(exists(workdir_ + "/sub/there"));
    EXPECT_EQ(files_->open("../back", O_WRONLY | O_CREAT, 0644), 4) << ".. stays inside";
    EXPECT_TRUE(exists(workdir_ + "/back"));
    EXPECT_EQ(files_->open("../../out", O_WRONLY | O_CREAT, 0644), -EXDEV);
}

} // namespace

namespace {

TEST_F(GuestFilesOpenTest, OnlyTheFilesOpenedInsideAreTheGuestsOwn)
{
    EXPECT_EQ(files_->own_file(1), -EPERM) << "the VMM's stdout";
    EXPECT_EQ(files_->own_file(7), -EBADF);
    const int64_t fd = files_->open("mine", O_WRONLY | O_CREAT, 0644);
    EXPECT_EQ(files_->own_file(fd), files_->host_fd(fd));
    const int64_t copy = files_->duplicate(fd, 0, false);
    EXPECT_EQ(files_->own_file(copy), files_->host_fd(copy)) << "a dup too";
    EXPECT_EQ(files_->own_file(files_->duplicate(0, 0, false)), -EPERM) << "stdin's dup is not";
    EXPECT_EQ(files_->own_file(files_->add(open_host_file())), -EPERM) << "what the caller adds";
}

TEST_F(GuestFilesOpenTest, APathStartsOnlyFromTheGuestsOwnDirectories)
{
    const GuestFiles::PathStart cwd = files_->directory(static_cast<uint32_t>(AT_FDCWD));
    EXPECT_EQ(cwd.fd, vmm::kWorkingDirectory);
    EXPECT_TRUE(cwd.own);
    const GuestFiles::PathStart in = files_->directory(0);
    EXPECT_EQ(in.fd, 0);
    EXPECT_FALSE(in.own) << "stdin may be a directory outside";
    EXPECT_EQ(files_->directory(9).error, -EBADF);
    EXPECT_EQ(files_->open_at(0, "x", O_RDONLY, 0), -EXDEV);
}

} // namespace
