// linux_calls.hpp: the system calls beyond the lab's, so that real programs
// run: musl's and glibc's standard I/O, Debian's busybox-static.
//
// The lab's manager.cpp handles open, write, close, the exits and the C
// library's start-up; the reference's handle_syscall() hands every other call
// here (its `default:`). This is what a syscall-forwarding monitor is made of
// (qemu's linux-user, Blink, gVisor): one handler per call, grouped by family,
//   file_calls.hpp      on open files: read, readv, pread64, lseek, fstat, ioctl, fcntl, dup, ...
//   path_calls.hpp      on names: stat, mkdir, unlink, rename, link, symlink, chdir, getcwd, ...
//   memory_calls.hpp    brk, mmap, munmap, mprotect, mremap (program_memory.hpp)
//   process_calls.hpp   time, identity, limits, signals
// each checking every guest pointer (UserMemory) and every path
// (guest_paths.hpp) as the lab's calls do, and tracing one line per call
// (trace.hpp, Trace::call). The table in linux_calls.cpp lists them all.
#pragma once

#include "elf_loader.hpp"
#include "guest_files.hpp"
#include "guest_memory.hpp"
#include "kvm.hpp"
#include "linux_call.hpp"
#include "page_tables.hpp"
#include "program_memory.hpp"
#include "trace.hpp"
#include "user_memory.hpp"

#include <cstdint>
#include <optional>

namespace vmm {

class LinuxCalls {
  public:
    // The machine as run_vm() built it: the program's memory beyond its
    // segments is handed out from guest memory (ProgramMemory); the calls'
    // pointers are checked against what the program may use (UserMemory).
    LinuxCalls(GuestMemory& memory, UserMemory& user_memory, GuestFiles& files, Trace& trace,
               const PageTables& tables, const LoadedProgram& program);

    // Carries out the system call in the vCPU's registers, if it is one of
    // this module's, and prints its trace line: its result (for RAX), or
    // nothing when the call is none of them (the caller's "undefined").
    std::optional<int64_t> handle(Vcpu& vcpu);

  private:
    UserMemory& memory_;
    GuestFiles& files_;
    Trace& trace_;
    ProgramMemory program_memory_;
    SignalState signals_;
};

} // namespace vmm
