// vmm.hpp: the VMM engine, everything a lab's manager.cpp uses.
//
// The engine is layered; each module uses only the ones above it (a test,
// tests/kit/test_engine_map.py, checks it against the includes):
//   error.hpp                  exceptions, and vm_manager's exit statuses
//   unique_fd.hpp              RAII for fds and mappings
//   hex.hpp                    numbers in hex, for messages
//   syscall_names.hpp          the names of Linux's system calls, for messages
//   opcodes.hpp                the instructions the VMM recognizes by their bytes
//   cpu_state.hpp              the CPU's control bits and modes, by name
//   guest_layout.hpp           where things live in guest physical memory
//   host_file.hpp              reading the VMM's input files
//   guest_memory.hpp           GuestMemory: every guest address is checked here
//   kvm.hpp                    the KVM objects: Kvm, Vm, Vcpu
//   boot_image.hpp             loading boot.bin and filling in its header
//   elf_loader.hpp             loading the static program
//   page_tables.hpp            the identity page tables, with each page's access
//   user_memory.hpp            guest memory as the program may use it: its system calls' pointers
//   thread_pointer.hpp         arch_prctl(ARCH_SET_FS): FS base, and page 0 unmapped
//   initial_stack.hpp          argc, argv, envp and auxv for the program
//   memory_map.hpp             where everything went (--verbose, --memory-map)
//   write_limits.hpp           how much the guest may write: file size, disk quota
//   guest_paths.hpp            where the guest's paths lead: inside --workdir only
//   guest_files.hpp            the guest's file descriptors
//   trace.hpp                  the trace lines of handled system calls
//   program_memory.hpp         brk and mmap: the program's memory beyond its segments
//   linux_call.hpp             what a handler of the calls beyond the lab's works with
//   file_calls.hpp             those calls on open files
//   path_calls.hpp             ... on names
//   memory_calls.hpp           ... on memory (program_memory.hpp)
//   process_calls.hpp          ... on time, identity, limits, signals
//   linux_calls.hpp            the system calls beyond the lab's, for real programs
//   ring_mode.hpp              ring 3 or ring 0 for the program
//   run_control.hpp            Ctrl-C, --timeout, --max-exits
//   command_line.hpp           vm_manager's options
//   exception_report.hpp       boot.asm's report of a guest exception, and when it is believed
//   exception_return.hpp       iretq, done by the VMM
//   breakpoints.hpp            a debugger's int3s and debug registers
//   int3_hit.hpp               an int3 hit, on each KVM
//   single_step.hpp            steps over hlt, syscall and sysret
//   gdb_connection.hpp         gdb's remote protocol, on a TCP connection
//   gdb_registers.hpp          the registers as gdb reads and writes them
//   gdb_stub.hpp               --gdb
//   disassembler.hpp           instructions decoded by Capstone, for --step
//   elf_symbols.hpp            the names and boot.asm lines of addresses, for --step
//   step_narrator.hpp          --step
//   debugger.hpp               --gdb or --step, as the options say
//   confinement.hpp            the seccomp filter of the VMM itself
//   crash_report.hpp           explaining a crashed guest
//   standard_streams.hpp       fds 0-2 open, SIGPIPE and SIGXFSZ ignored, before anything
#pragma once

#include "boot_image.hpp"
#include "command_line.hpp"
#include "confinement.hpp"
#include "crash_report.hpp"
#include "debugger.hpp"
#include "elf_loader.hpp"
#include "error.hpp"
#include "exception_report.hpp"
#include "guest_files.hpp"
#include "guest_layout.hpp"
#include "guest_memory.hpp"
#include "guest_paths.hpp"
#include "host_file.hpp"
#include "initial_stack.hpp"
#include "kvm.hpp"
#include "linux_calls.hpp"
#include "memory_map.hpp"
#include "page_tables.hpp"
#include "program_memory.hpp"
#include "ring_mode.hpp"
#include "run_control.hpp"
#include "standard_streams.hpp"
#include "syscall_names.hpp"
#include "thread_pointer.hpp"
#include "trace.hpp"
#include "unique_fd.hpp"
#include "user_memory.hpp"
#include "write_limits.hpp"
