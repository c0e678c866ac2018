// syscall_fuzzer.cpp: handle_syscall() of the reference VMM
// (solutions/lab2/vm_manager/manager.cpp, compiled with -Dmain=vmm_main) with
// arbitrary registers, over guest memory whose contents also come from the
// input. No KVM: the Vcpu is Vcpu::without_kvm over a kvm_run of this file.
//
// The input:
//   byte 0   the program's memory: 1 + (byte % 4) pages of 4 KiB, then 4
//            pages of page tables. Bit 7 clear: the fuzzer writes the tables,
//            an identity map of the program's pages, read-write for it, and
//            of nothing else (the calls' pointers reach those pages); set:
//            the tables are the input's bytes, whatever they say (UserMemory
//            walks them)
//   byte 1   number of system calls: 1 + (byte % 8)
//   then     for each call, 7 little-endian 64-bit registers:
//            RAX, RDI, RSI, RDX, R10, R8, R9 (zeros past the end of the input)
//   the rest guest memory from guest address 0; the rest of it is zero
// The calls run in order until one ends the program (exit_group or exit).
//
// Checked, besides what AddressSanitizer and UBSan check: the handler changes
// no register but RAX and marks the registers dirty; only arch_prctl(ARCH_SET_FS)
// changes the segment registers (the FS base), and marks them dirty; open, write and close
// return a count, an fd or a -errno; every fd open or openat gives the guest leads inside
// the working directory (scratch_dir.hpp). Guest fds 0, 1 and 2 are /dev/null
// here, not the fuzzer's own standard streams; the trace goes to a file beside
// the working directory, emptied for each input. The calls beyond the lab's
// (linux_calls.hpp) run too, but nanosleep and clock_nanosleep, which would
// really sleep: they become getpid.
#include "scratch_dir.hpp"

#include "vmm.hpp"

#include <asm/prctl.h>
#include <fcntl.h>
#include <sys/syscall.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

// As in manager.cpp, which defines them.
struct Guest {
    vmm::UserMemory& memory;
    vmm::GuestFiles& files;
    vmm::Trace& trace;
    vmm::LinuxCalls& other_calls;
};
std::optional<int> handle_syscall(vmm::Vcpu& vcpu, Guest& guest);

namespace {

constexpr uint64_t kPage = 4096;
constexpr int kMaxPages = 4;
constexpr int kTablePages = 4; // a PML4, a PDPT, a page directory, a page table
constexpr uint8_t kInputTables = 0x80;
constexpr int kMaxCalls = 8;
constexpr std::size_t kCallSize = 7 * 8;
constexpr unsigned kCheckOutsideEvery = 4096;

uint64_t little_endian(const uint8_t* bytes)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i) {
        value = value << 8 | bytes[i];
    }
    return value;
}

// An identity map of the program's `pages` pages, which it may read and
// write, in the four pages at `tables`: PML4, PDPT, page directory, page table.
void write_page_tables(vmm::GuestMemory& memory, uint64_t tables, int pages)
{
    constexpr uint64_t kUserReadWrite = vmm::kPtePresent | vmm::kPteWritable | vmm::kPteUser;
    std::span<std::byte> all = memory.checked_range(tables, kTablePages * kPage, "page tables");
    std::memset(all.data(), 0, all.size());
    for (int level = 0; level < 3; ++level) {
        const uint64_t table = tables + level * kPage;
        memory.write_u64(table, (table + kPage) | kUserReadWrite, "page table");
    }
    for (int page = 0; page < pages; ++page) {
        memory.write_u64(tables + 3 * kPage + page * 8, page * kPage | kUserReadWrite,
                         "page-table entry");
    }
}

[[noreturn]] void finding(const char* what, uint64_t number, const kvm_regs& before)
{
    const std::string_view name = vmm::syscall_name(before.rax); // empty for no Linux call
    std::fprintf(stderr, "FINDING: %s (system call %llu%s%.*s, result %lld)\n", what,
                 static_cast<unsigned long long>(before.rax), name.empty() ? "" : ", ",
                 static_cast<int>(name.size()), name.data(), static_cast<long long>(number));
    std::abort();
}

bool same_except_rax(kvm_regs a, kvm_regs b)
{
    a.rax = b.rax = 0;
    return std::memcmp(&a, &b, sizeof a) == 0;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    static fuzz::ScratchDir scratch;
    static const int dev_null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    static vmm::GuestMemory* memories[kMaxPages] = {};
    static kvm_run run;
    static unsigned inputs = 0;
    if (dev_null < 0) {
        std::abort();
    }

    // The header and the calls.
    uint8_t header[2] = {0, 0};
    std::memcpy(header, data, size < 2 ? size : 2);
    const int pages = 1 + header[0] % kMaxPages;
    const int calls = 1 + header[1] % kMaxCalls;
    std::size_t offset = 2;
    uint8_t registers[kMaxCalls][kCallSize] = {};
    for (int call = 0; call < calls; ++call, offset += kCallSize) {
        if (offset < size) {
            std::memcpy(registers[call], data + offset,
                        size - offset < kCallSize ? size - offset : kCallSize);
        }
    }

    // Guest memory: one of each size, made once; zeroed, then the input's bytes at 0.
    vmm::GuestMemory*& memory = memories[pages - 1];
    if (memory == nullptr) {
        memory = new vmm::GuestMemory((pages + kTablePages) * kPage); // kept for the process's life
    }
    std::span<std::byte> bytes = *memory->range(0, memory->size());
    std::memset(bytes.data(), 0, bytes.size());
    if (offset < size) {
        std::memcpy(bytes.data(), data + offset,
                    size - offset < bytes.size() ? size - offset : bytes.size());
    }
    const uint64_t tables = pages * kPage;
    if ((header[0] & kInputTables) == 0) {
        write_page_tables(*memory, tables, pages);
    }

    {
        // Fresh guest fds and trace for each input; fds 0, 1 and 2 are /dev/null.
        vmm::GuestFiles files(scratch.workdir());
        vmm::Trace trace(scratch.trace_file());
        // No program is loaded and guest memory is a few pages: brk and mmap
        // have nothing to give, every other call of the module runs.
        const vmm::LoadedProgram program{};
        std::memset(&run, 0, sizeof run);
        vmm::Vcpu vcpu = vmm::Vcpu::without_kvm(run);
        vcpu.sregs().cr3 = tables;
        vmm::UserMemory user_memory(*memory, vcpu);
        vmm::LinuxCalls other_calls(*memory, user_memory, files, trace,
                                    {vmm::layout::kStartupPml4, vmm::layout::kPageTables}, program);
        Guest guest{user_memory, files, trace, other_calls};
        for (int fd = 0; fd < 3; ++fd) {
            files.close(fd);
            if (files.add(vmm::UniqueFd(::fcntl(dev_null, F_DUPFD_CLOEXEC, 0))) != fd) {
                std::abort();
            }
        }

        for (int call = 0; call < calls; ++call) {
            kvm_regs& regs = vcpu.regs();
            regs = kvm_regs{};
            const uint8_t* in = registers[call];
            regs.rax = little_endian(in);
            regs.rdi = little_endian(in + 8);
            regs.rsi = little_endian(in + 16);
            regs.rdx = little_endian(in + 24);
            regs.r10 = little_endian(in + 32);
            regs.r8 = little_endian(in + 40);
            regs.r9 = little_endian(in + 48);
            regs.rip = 0x8000 + call; // something to see changed, were it changed
            if (regs.rax == SYS_nanosleep || regs.rax == SYS_clock_nanosleep) {
                regs.rax = SYS_getpid; // the VMM really sleeps: an input must not hang the fuzzer
            }
            const kvm_regs before = regs;
            const kvm_sregs sregs_before = vcpu.sregs();
            run.kvm_dirty_regs = 0;

            const std::optional<int> exit_status = handle_syscall(vcpu, guest);

            if (exit_status) {
                if ((before.rax != SYS_exit && before.rax != SYS_exit_group) ||
                    *exit_status != static_cast<int>(before.rdi & 0xff)) {
                    finding("the program ended, but not by exit or exit_group", *exit_status,
                            before);
                }
                break;
            }
            const auto result = static_cast<int64_t>(regs.rax);
            if (!same_except_rax(regs, before)) {
                finding("a register other than RAX changed", result, before);
            }
            if ((run.kvm_dirty_regs & KVM_SYNC_X86_REGS) == 0) {
                finding("the result was not marked for KVM to load", result, before);
            }
            const bool sets_fs = before.rax == SYS_arch_prctl && before.rdi == ARCH_SET_FS;
            if (sets_fs && result == 0 &&
                (vcpu.sregs().fs.base != before.rsi ||
                 (run.kvm_dirty_regs & KVM_SYNC_X86_SREGS) == 0)) {
                finding("arch_prctl(ARCH_SET_FS) did not set the FS base", result, before);
            }
            if (!(sets_fs && result == 0) &&
                std::memcmp(&sregs_before, &vcpu.sregs(), sizeof sregs_before) != 0) {
                finding("a segment or control register changed", result, before);
            }
            if ((before.rax == SYS_open || before.rax == SYS_write || before.rax == SYS_close) &&
                result < -4095) {
                finding("not a -errno", result, before);
            }
            if ((before.rax == SYS_open || before.rax == SYS_openat) && result >= 0) {
                // The only way into the guest's table: check where the new fd leads.
                if (result >= vmm::GuestFiles::kMaxFiles || files.host_fd(result) < 0) {
                    finding("open gave a guest fd that is not open", result, before);
                }
                scratch.check_inside(files.host_fd(result));
            }
            if (before.rax == SYS_write && result >= 0 &&
                static_cast<uint64_t>(result) > before.rdx) {
                finding("write wrote more than asked", result, before);
            }
        }
    } // closes every file the guest opened
    scratch.clean();
    if (++inputs % kCheckOutsideEvery == 0) {
        scratch.check_outside();
    }
    return 0;
}
