#include "files.hpp"

#include "unique_fd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace runner {

namespace {

constexpr int kMaxDepth = 16;

struct Entry {
    std::string path;
    std::string kind;
    unsigned mode = 0;
    uint64_t size = 0;
    std::string hash; // files only
    std::string data; // the first bytes of a file, or a link's target
};

// FNV-1a, 64 bits: a fingerprint of contents longer than what is kept.
class Fnv1a {
  public:
    void add(const char* bytes, std::size_t count)
    {
        for (std::size_t i = 0; i < count; ++i) {
            value_ = (value_ ^ static_cast<uint8_t>(bytes[i])) * 0x100000001b3ULL;
        }
    }
    std::string hex() const
    {
        char text[17];
        std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value_));
        return text;
    }

  private:
    uint64_t value_ = 0xcbf29ce484222325ULL;
};

void read_file(int directory, const char* name, Entry& entry, std::size_t keep)
{
    // O_NOFOLLOW and O_NONBLOCK: the name was a regular file a moment ago;
    // never follow a link or wait on a FIFO that took its place.
    vmm::UniqueFd file(::openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat info;
    if (!file || ::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
        return;
    }
    Fnv1a hash;
    std::array<char, 65536> chunk;
    ssize_t got;
    while ((got = ::read(file.get(), chunk.data(), chunk.size())) > 0) {
        hash.add(chunk.data(), static_cast<std::size_t>(got));
        if (entry.data.size() < keep) {
            entry.data.append(chunk.data(),
                              std::min(static_cast<std::size_t>(got), keep - entry.data.size()));
        }
    }
    entry.hash = hash.hex();
}

// Appends the entries of `directory` (open as `fd`) and of its subdirectories.
bool walk(int fd, const std::string& prefix, int depth, const CollectLimits& limits,
          std::vector<Entry>& entries)
{
    DIR* listing = ::fdopendir(::dup(fd));
    if (listing == nullptr) {
        return true;
    }
    std::vector<std::string> names;
    while (const dirent* item = ::readdir(listing)) {
        const std::string name = item->d_name;
        if (name != "." && name != "..") {
            names.push_back(name);
        }
    }
    ::closedir(listing);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
        if (entries.size() >= limits.max_entries) {
            return false;
        }
        struct stat info;
        if (::fstatat(fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
            continue;
        }
        Entry entry{prefix + name,
                    "other",
                    static_cast<unsigned>(info.st_mode & 07777),
                    static_cast<uint64_t>(info.st_size),
                    "",
                    ""};
        if (S_ISREG(info.st_mode)) {
            entry.kind = "file";
            read_file(fd, name.c_str(), entry, limits.data_bytes);
        } else if (S_ISLNK(info.st_mode)) {
            entry.kind = "symlink", entry.mode = 0, entry.size = 0;
            std::array<char, 4096> target;
            const ssize_t length = ::readlinkat(fd, name.c_str(), target.data(), target.size());
            entry.data.assign(target.data(), length > 0 ? static_cast<std::size_t>(length) : 0);
        } else if (S_ISDIR(info.st_mode)) {
            entry.kind = "dir", entry.size = 0;
        }
        entries.push_back(entry);
        if (S_ISDIR(info.st_mode) && depth < kMaxDepth) {
            vmm::UniqueFd child(
                ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (child && !walk(child.get(), prefix + name + "/", depth + 1, limits, entries)) {
                return false;
            }
        }
    }
    return true;
}

} // namespace

void collect_files(Json& json, const std::string& directory, const CollectLimits& limits)
{
    std::vector<Entry> entries;
    bool complete = true;
    bool full = false;
    vmm::UniqueFd top(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (top) {
        complete = walk(top.get(), "", 0, limits, entries);
        struct statvfs space;
        full = ::fstatvfs(top.get(), &space) == 0 && space.f_bavail == 0;
    }
    json.key(directory).begin_object().key("entries").begin_array();
    for (const Entry& entry : entries) {
        json.begin_object()
            .key("path")
            .string(entry.path)
            .key("kind")
            .string(entry.kind)
            .key("mode")
            .number(entry.mode)
            .key("size")
            .number(static_cast<int64_t>(entry.size))
            .key("hash")
            .string(entry.hash)
            .key("data")
            .base64(entry.data)
            .end_object();
    }
    json.end_array().key("truncated").boolean(!complete).key("full").boolean(full).end_object();
}

} // namespace runner
