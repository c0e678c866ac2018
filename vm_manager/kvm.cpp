#include "kvm.hpp"

#include "error.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

namespace vmm {

namespace {

// What to do when /dev/kvm cannot be opened, by errno.
std::string open_kvm_hint(int error_number)
{
    switch (error_number) {
    case ENOENT:
        return "There is no /dev/kvm: this machine has no KVM. Enable virtualization (VT-x or "
               "AMD-V) in the firmware settings and load the kvm_intel or kvm_amd module, or use "
               "a machine that has it.";
    case EACCES:
    case EPERM:
        return "You may not use /dev/kvm: add yourself to the kvm group "
               "(sudo usermod -aG kvm $USER), then log out and in again.";
    default:
        return "";
    }
}

// KVM_GET_SUPPORTED_CPUID and KVM_SET_CPUID2 encode sizeof(struct kvm_cpuid2)
// in their numbers. Compiled as C++, linux/kvm.h gets that size wrong (its
// flexible-array macro adds an empty struct, one byte in C++), and KVM rejects
// the call with EINVAL. These are the numbers a C compiler computes.
struct CpuidHeader {
    uint32_t nent;
    uint32_t padding;
};
constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, CpuidHeader);
constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, CpuidHeader);

} // namespace

Kvm::Kvm()
{
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        const int error_number = errno;
        throw SystemError("open(/dev/kvm)", error_number, open_kvm_hint(error_number));
    }
    fd_ = UniqueFd(fd);

    // API version 12 has been the only one since Linux 2.6.22.
    if (check(::ioctl(fd_.get(), KVM_GET_API_VERSION, 0), "ioctl(KVM_GET_API_VERSION)") !=
        KVM_API_VERSION) {
        throw VmmError("/dev/kvm speaks an unknown KVM API version");
    }
    // Registers travel in kvm_run at every exit instead of through extra ioctls.
    constexpr long kSyncedRegisters = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    if ((check(::ioctl(fd_.get(), KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS),
               "ioctl(KVM_CHECK_EXTENSION)") &
         kSyncedRegisters) != kSyncedRegisters) {
        throw VmmError("this KVM lacks KVM_CAP_SYNC_REGS (Linux 4.16 or newer has it)");
    }
}

Vm Kvm::create_vm()
{
    const int run_size = static_cast<int>(
        check(::ioctl(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, 0), "ioctl(KVM_GET_VCPU_MMAP_SIZE)"));
    const int vm_fd =
        static_cast<int>(check(::ioctl(fd_.get(), KVM_CREATE_VM, 0), "ioctl(KVM_CREATE_VM)"));
    return Vm(UniqueFd(vm_fd), static_cast<std::size_t>(run_size));
}

std::unique_ptr<CpuidTable> Kvm::supported_cpuid() const
{
    auto table = std::make_unique<CpuidTable>();
    table->nent = CpuidTable::kMaxEntries;
    check(::ioctl(fd_.get(), kGetSupportedCpuid, table.get()), "ioctl(KVM_GET_SUPPORTED_CPUID)");
    return table;
}

Vm::Vm(UniqueFd fd, std::size_t vcpu_run_size) : fd_(std::move(fd)), vcpu_run_size_(vcpu_run_size)
{
    // Intel VT-x without "unrestricted guest" emulates real mode with a TSS of
    // three pages that KVM keeps in guest physical address space: put it where
    // no guest memory is (just below 4 GiB, where a PC's BIOS would be).
    check(::ioctl(fd_.get(), KVM_SET_TSS_ADDR, 0xfffbd000UL), "ioctl(KVM_SET_TSS_ADDR)");
}

void Vm::map_memory(GuestMemory& memory)
{
    kvm_userspace_memory_region region{};
    region.slot = 0;
    region.guest_phys_addr = 0;
    region.memory_size = memory.size();
    region.userspace_addr = reinterpret_cast<uint64_t>(memory.host_base());
    check(::ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region),
          "ioctl(KVM_SET_USER_MEMORY_REGION)");
}

Vcpu Vm::create_vcpu()
{
    const int vcpu_fd =
        static_cast<int>(check(::ioctl(fd_.get(), KVM_CREATE_VCPU, 0), "ioctl(KVM_CREATE_VCPU)"));
    return Vcpu(UniqueFd(vcpu_fd), vcpu_run_size_);
}

Vcpu::Vcpu(UniqueFd fd, std::size_t run_size) : fd_(std::move(fd))
{
    void* run = ::mmap(nullptr, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
    if (run == MAP_FAILED) {
        throw SystemError("mmap of the vCPU's kvm_run", errno);
    }
    run_mapping_ = Mapping(run, run_size);
    run_ = static_cast<kvm_run*>(run);
    // Ask KVM to copy the general-purpose, segment and control registers into
    // kvm_run at every exit.
    run_->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
}

void Vcpu::run()
{
    do {
        if (debugger_ != nullptr) {
            debugger_->before_run(*this);
        }
        if (::ioctl(fd_.get(), KVM_RUN, 0) != 0) {
            if (errno != EINTR) {
                throw SystemError("ioctl(KVM_RUN)", errno);
            }
            // A signal arrived (Ctrl-C, --timeout, gdb): the VMM decides what to do with it.
            run_->exit_reason = KVM_EXIT_INTR;
        }
    } while (debugger_ != nullptr && debugger_->after_exit(*this));
}

void Vcpu::flush_dirty_regs()
{
    if (run_->kvm_dirty_regs & KVM_SYNC_X86_REGS) {
        check(::ioctl(fd_.get(), KVM_SET_REGS, &run_->s.regs.regs), "ioctl(KVM_SET_REGS)");
        run_->kvm_dirty_regs &= ~static_cast<uint64_t>(KVM_SYNC_X86_REGS);
    }
    if (run_->kvm_dirty_regs & KVM_SYNC_X86_SREGS) {
        check(::ioctl(fd_.get(), KVM_SET_SREGS, &run_->s.regs.sregs), "ioctl(KVM_SET_SREGS)");
        run_->kvm_dirty_regs &= ~static_cast<uint64_t>(KVM_SYNC_X86_SREGS);
    }
}

void Vcpu::set_guest_debug(const kvm_guest_debug& debug)
{
    // KVM single-steps by setting RFLAGS.TF, but only while RIP is still where
    // it was at KVM_SET_GUEST_DEBUG ("singlestep_rip"). Registers changed in
    // kvm_run would reach KVM only at the next KVM_RUN, after that: a new RIP
    // set by a debugger would run freely instead of one step. Load them first.
    flush_dirty_regs();
    check(::ioctl(fd_.get(), KVM_SET_GUEST_DEBUG, &debug), "ioctl(KVM_SET_GUEST_DEBUG)");
}

void Vcpu::set_cpuid(const CpuidTable& table)
{
    check(::ioctl(fd_.get(), kSetCpuid2, &table), "ioctl(KVM_SET_CPUID2)");
}

void Vcpu::start_in_real_mode(uint64_t address)
{
    // A new vCPU is in the state of a CPU after reset: real mode, executing at
    // CS:IP = F000:FFF0 with a CS base of FFFF0000 (Intel SDM vol. 3A, 9.1.4).
    // Keep the mode, but start at 0000:address. (Before the first KVM_RUN,
    // kvm_run holds no registers yet: ask for them.)
    kvm_sregs sregs;
    check(::ioctl(fd_.get(), KVM_GET_SREGS, &sregs), "ioctl(KVM_GET_SREGS)");
    for (kvm_segment* segment :
         {&sregs.cs, &sregs.ds, &sregs.es, &sregs.fs, &sregs.gs, &sregs.ss}) {
        segment->selector = 0;
        segment->base = 0;
    }
    check(::ioctl(fd_.get(), KVM_SET_SREGS, &sregs), "ioctl(KVM_SET_SREGS)");

    kvm_regs registers{};
    registers.rip = address;
    registers.rflags = 0x2; // bit 1 is reserved and always 1; IF = 0
    check(::ioctl(fd_.get(), KVM_SET_REGS, &registers), "ioctl(KVM_SET_REGS)");
    // regs() holds the registers as of the last exit; before the first one,
    // as of now (a debugger reads them before the first instruction).
    run_->s.regs.regs = registers;
}

std::string exit_reason_name(uint32_t reason)
{
    switch (reason) {
    case KVM_EXIT_UNKNOWN:
        return "KVM_EXIT_UNKNOWN";
    case KVM_EXIT_EXCEPTION:
        return "KVM_EXIT_EXCEPTION";
    case KVM_EXIT_IO:
        return "KVM_EXIT_IO";
    case KVM_EXIT_DEBUG:
        return "KVM_EXIT_DEBUG";
    case KVM_EXIT_HLT:
        return "KVM_EXIT_HLT";
    case KVM_EXIT_MMIO:
        return "KVM_EXIT_MMIO";
    case KVM_EXIT_SHUTDOWN:
        return "KVM_EXIT_SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY:
        return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_INTR:
        return "KVM_EXIT_INTR";
    case KVM_EXIT_INTERNAL_ERROR:
        return "KVM_EXIT_INTERNAL_ERROR";
    case KVM_EXIT_SYSTEM_EVENT:
        return "KVM_EXIT_SYSTEM_EVENT";
    default:
        return "exit reason " + std::to_string(reason);
    }
}

} // namespace vmm
