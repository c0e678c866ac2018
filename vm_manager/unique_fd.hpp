// unique_fd.hpp: RAII owners for a file descriptor and for a memory mapping.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <utility>

namespace vmm {

// Owns one file descriptor and closes it when destroyed.
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept
    {
        if (this != &other) {
            reset(std::exchange(other.fd_, -1));
        }
        return *this;
    }
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    void reset(int fd = -1)
    {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }
    // Gives the fd up, open: it is no longer closed here.
    int release() { return std::exchange(fd_, -1); }

  private:
    int fd_ = -1;
};

// Owns one mmap()ed region and unmaps it when destroyed.
class Mapping {
  public:
    Mapping() = default;
    Mapping(void* address, std::size_t size) : address_(address), size_(size) {}
    Mapping(Mapping&& other) noexcept
        : address_(std::exchange(other.address_, nullptr)), size_(std::exchange(other.size_, 0))
    {
    }
    Mapping& operator=(Mapping&& other) noexcept
    {
        if (this != &other) {
            unmap();
            address_ = std::exchange(other.address_, nullptr);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }
    ~Mapping() { unmap(); }

    void* get() const { return address_; }
    std::size_t size() const { return size_; }

  private:
    void unmap()
    {
        if (address_ != nullptr) {
            ::munmap(address_, size_);
        }
    }
    void* address_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace vmm
