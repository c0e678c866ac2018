// file_calls.hpp: the guest's calls on open files, beyond the lab's open,
// write and close (linux_calls.hpp): reading, writing at an offset and from
// several buffers, seeking, fstat, ioctl, fcntl, dup, getdents64.
//
// Each forwards the call to the host fd behind the guest's fd (guest_files.hpp),
// with guest buffers translated and checked by GuestMemory: a host call reads
// or writes guest memory directly, never anything else. The structures the
// host writes (struct stat, directory entries) have the same layout for the
// guest, which speaks the same Linux x86-64 ABI. Returns what Linux returns, or -errno.
#pragma once

#include "linux_call.hpp"

#include <cstdint>

namespace vmm {

int64_t sys_read(Call& call);       // read(fd, buffer, count)
int64_t sys_pread64(Call& call);    // pread64(fd, buffer, count, offset)
int64_t sys_readv(Call& call);      // readv(fd, iov, iovcnt)
int64_t sys_writev(Call& call);     // writev(fd, iov, iovcnt)
int64_t sys_pwrite64(Call& call);   // pwrite64(fd, buffer, count, offset)
int64_t sys_lseek(Call& call);      // lseek(fd, offset, whence)
int64_t sys_ftruncate(Call& call);  // ftruncate(fd, length)
int64_t sys_openat(Call& call);     // openat(dirfd, path, flags, mode)
int64_t sys_fstat(Call& call);      // fstat(fd, statbuf)
int64_t sys_getdents64(Call& call); // getdents64(fd, dirent, count)
int64_t sys_ioctl(Call& call);      // ioctl(fd, request, argument): TCGETS and TIOCGWINSZ
int64_t sys_fcntl(Call& call);      // fcntl(fd, command, argument)
int64_t sys_dup(Call& call);        // dup(fd)
int64_t sys_dup2(Call& call);       // dup2(fd, new_fd)
int64_t sys_dup3(Call& call);       // dup3(fd, new_fd, flags)

} // namespace vmm
