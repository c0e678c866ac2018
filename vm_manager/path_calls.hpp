// path_calls.hpp: the guest's calls on names (linux_calls.hpp): stat,
// readlink, access, chmod, utimensat on what a path names; mkdir, unlink,
// rmdir, rename, link and symlink, which make and remove names; chdir and
// getcwd.
//
// Every path leads inside --workdir only (guest_paths.hpp): the handler
// gets an O_PATH fd for what the path names, or for the directory that holds
// its last name, from the kernel's confined walk, and acts on that with the
// kernel's *at calls. The older calls (stat, unlink, mkdir, ...) are their
// *at forms with AT_FDCWD, as in the kernel. Returns what Linux returns, or -errno.
//
// The guest may not give its files away: chown succeeds when it changes
// nothing (tar -x asks for the owner a file already has), and fails with
// EPERM otherwise, as for a process without CAP_CHOWN. Files are the VMM's.
#pragma once

#include "linux_call.hpp"

#include <cstdint>

namespace vmm {

int64_t sys_stat(Call& call);       // stat(path, statbuf)
int64_t sys_lstat(Call& call);      // lstat(path, statbuf)
int64_t sys_newfstatat(Call& call); // newfstatat(dirfd, path, statbuf, flags)
int64_t sys_statx(Call& call);      // statx(dirfd, path, flags, mask, statxbuf)
int64_t sys_access(Call& call);     // access(path, mode)
int64_t sys_faccessat(Call& call);  // faccessat(dirfd, path, mode)
int64_t sys_faccessat2(Call& call); // faccessat2(dirfd, path, mode, flags)
int64_t sys_readlink(Call& call);   // readlink(path, buffer, size)
int64_t sys_readlinkat(Call& call); // readlinkat(dirfd, path, buffer, size)
int64_t sys_chmod(Call& call);      // chmod(path, mode)
int64_t sys_fchmod(Call& call);     // fchmod(fd, mode)
int64_t sys_fchmodat(Call& call);   // fchmodat(dirfd, path, mode)
int64_t sys_chown(Call& call);      // chown(path, owner, group)
int64_t sys_lchown(Call& call);     // lchown(path, owner, group)
int64_t sys_fchown(Call& call);     // fchown(fd, owner, group)
int64_t sys_fchownat(Call& call);   // fchownat(dirfd, path, owner, group, flags)
int64_t sys_utimensat(Call& call);  // utimensat(dirfd, path, times, flags)
int64_t sys_mkdir(Call& call);      // mkdir(path, mode)
int64_t sys_mkdirat(Call& call);    // mkdirat(dirfd, path, mode)
int64_t sys_unlink(Call& call);     // unlink(path)
int64_t sys_rmdir(Call& call);      // rmdir(path)
int64_t sys_unlinkat(Call& call);   // unlinkat(dirfd, path, flags)
int64_t sys_rename(Call& call);     // rename(old, new)
int64_t sys_renameat(Call& call);   // renameat(old dirfd, old, new dirfd, new)
int64_t sys_renameat2(Call& call);  // renameat2(old dirfd, old, new dirfd, new, flags)
int64_t sys_link(Call& call);       // link(old, new)
int64_t sys_linkat(Call& call);     // linkat(old dirfd, old, new dirfd, new, flags)
int64_t sys_symlink(Call& call);    // symlink(target, path)
int64_t sys_symlinkat(Call& call);  // symlinkat(target, dirfd, path)
int64_t sys_chdir(Call& call);      // chdir(path)
int64_t sys_getcwd(Call& call);     // getcwd(buffer, size)

} // namespace vmm
