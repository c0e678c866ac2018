// Unit tests for where the guest's paths lead: inside --workdir only, from
// its working directory or one of its directory fds.
#include "error.hpp"
#include "guest_paths.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

using vmm::GuestPaths;
using vmm::kWorkingDirectory;

class GuestPathsTest : public testing::Test {
  protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/guest-paths-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        outside_ = pattern;
        workdir_ = outside_ + "/work";
        ASSERT_EQ(::mkdir(workdir_.c_str(), 0755), 0);
        ASSERT_EQ(::mkdir((workdir_ + "/sub").c_str(), 0755), 0);
        ASSERT_EQ(::mkdir((workdir_ + "/sub/deeper").c_str(), 0755), 0);
        ASSERT_EQ(::symlink("sub/deeper", (workdir_ + "/link-in").c_str()), 0);
        ASSERT_EQ(::symlink(outside_.c_str(), (workdir_ + "/link-out").c_str()), 0);
        paths_ = std::make_unique<GuestPaths>(workdir_);
    }
    void TearDown() override
    {
        paths_.reset();
        std::filesystem::remove_all(outside_);
    }
    // What the O_PATH fd look_up() gives is: "directory", "symlink", "file", or -errno.
    std::string kind_of(const std::string& path, bool follow)
    {
        const int64_t fd = paths_->look_up(kWorkingDirectory, path, follow);
        if (fd < 0) {
            return std::to_string(fd);
        }
        struct stat info;
        EXPECT_EQ(::fstat(static_cast<int>(fd), &info), 0);
        ::close(static_cast<int>(fd));
        return S_ISDIR(info.st_mode) ? "directory" : S_ISLNK(info.st_mode) ? "symlink" : "file";
    }

    std::string outside_;
    std::string workdir_;
    std::unique_ptr<GuestPaths> paths_;
};

TEST_F(GuestPathsTest, LookUpFollowsALastSymlinkOnlyWhenAskedAndOnlyInside)
{
    EXPECT_EQ(kind_of("link-in", true), "directory");
    EXPECT_EQ(kind_of("link-in", false), "symlink");
    EXPECT_EQ(kind_of("link-out", true), std::to_string(-EXDEV));
    EXPECT_EQ(kind_of("link-out", false), "symlink") << "the link itself is inside";
    EXPECT_EQ(kind_of("..", true), std::to_string(-EXDEV));
    EXPECT_EQ(kind_of("/etc/passwd", true), std::to_string(-EXDEV));
    EXPECT_EQ(kind_of("", true), std::to_string(-ENOENT));
    EXPECT_EQ(kind_of("missing", true), std::to_string(-ENOENT));
}

TEST_F(GuestPathsTest, ParentOfSplitsTheLastName)
{
    GuestPaths::Parent parent = paths_->parent_of(kWorkingDirectory, "sub/deeper/new");
    ASSERT_EQ(parent.error, 0);
    EXPECT_EQ(parent.name, "new");
    EXPECT_EQ(::mkdirat(parent.directory.get(), parent.name.c_str(), 0755), 0);
    EXPECT_TRUE(std::filesystem::is_directory(workdir_ + "/sub/deeper/new"));

    parent = paths_->parent_of(kWorkingDirectory, "plain");
    EXPECT_EQ(parent.error, 0);
    EXPECT_EQ(parent.name, "plain");
    parent = paths_->parent_of(kWorkingDirectory, "sub/deeper/");
    EXPECT_EQ(parent.error, 0);
    EXPECT_EQ(parent.name, "deeper/") << "the kernel decides what a trailing slash means";
    EXPECT_EQ(paths_->parent_of(kWorkingDirectory, "").error, -ENOENT);
    EXPECT_EQ(paths_->parent_of(kWorkingDirectory, "/").error, -EXDEV);
    EXPECT_EQ(paths_->parent_of(kWorkingDirectory, "/etc/x").error, -EXDEV);
    EXPECT_EQ(paths_->parent_of(kWorkingDirectory, "../x").error, -EXDEV);
    EXPECT_EQ(paths_->parent_of(kWorkingDirectory, "link-out/x").error, -EXDEV);
    EXPECT_EQ(paths_->parent_of(kWorkingDirectory, "missing/x").error, -ENOENT);
}

TEST_F(GuestPathsTest, TheWorkingDirectoryMovesInsideOnly)
{
    EXPECT_EQ(paths_->working_directory(), std::filesystem::canonical(workdir_).string());
    EXPECT_EQ(paths_->change_directory("sub/./deeper"), 0);
    EXPECT_EQ(paths_->working_directory(),
              std::filesystem::canonical(workdir_).string() + "/sub/deeper");
    EXPECT_EQ(paths_->change_directory("../.."), 0);
    EXPECT_EQ(paths_->working_directory(), std::filesystem::canonical(workdir_).string());
    EXPECT_EQ(paths_->change_directory(".."), -EXDEV);
    EXPECT_EQ(paths_->change_directory("link-out"), -EXDEV);
    EXPECT_EQ(paths_->change_directory("missing"), -ENOENT);
    EXPECT_EQ(::close(::creat((workdir_ + "/file").c_str(), 0644)), 0);
    EXPECT_EQ(paths_->change_directory("file"), -ENOTDIR);
    EXPECT_EQ(paths_->change_directory(""), -ENOENT);
    EXPECT_EQ(paths_->working_directory(), std::filesystem::canonical(workdir_).string())
        << "unchanged by the failures";
}

TEST_F(GuestPathsTest, TheWorkingDirectoryIsWhereSymlinksLeadAsOnLinux)
{
    EXPECT_EQ(paths_->change_directory("link-in"), 0);
    EXPECT_EQ(paths_->working_directory(),
              std::filesystem::canonical(workdir_).string() + "/sub/deeper");
    const int64_t fd = paths_->look_up(kWorkingDirectory, "../deeper", true);
    EXPECT_GE(fd, 0) << "link-in/..: sub, as the kernel walks it";
    ::close(static_cast<int>(fd));
    EXPECT_EQ(paths_->change_directory(".."), 0);
    EXPECT_EQ(paths_->working_directory(), std::filesystem::canonical(workdir_).string() + "/sub");
}

TEST_F(GuestPathsTest, APathFromADirectoryFdStaysBeneathIt)
{
    const int sub = ::open((workdir_ + "/sub").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(sub, 0);
    const int64_t fd = paths_->look_up(sub, "deeper", true);
    EXPECT_GE(fd, 0);
    ::close(static_cast<int>(fd));
    EXPECT_EQ(paths_->look_up(sub, "../link-in", true), -EXDEV);
    ::close(sub);
}

TEST(GuestPathsSetUpTest, AMissingWorkdirThrows)
{
    EXPECT_THROW(GuestPaths("/nonexistent/scratchvm-unit-test"), vmm::SystemError);
}

} // namespace
