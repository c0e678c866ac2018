// manager.cpp: YOUR file for Lab 2. Look for the TODO(step 2) comments.
//
// The VMM of Lab 2: it runs a statically linked Linux program in a KVM
// micro-VM (one vCPU, a few MiB of memory, no devices, no guest OS) and
// carries out the program's system calls on the host.
//
// Read it top to bottom:
//   main()            parses the command line and reports errors
//   run_vm()          builds the machine, then runs the vCPU until the program exits
//   handle_syscall()  one system call of the program, which arrives as a
//                     KVM_EXIT_HLT (see vm_src/src/boot.asm, syscall_entry)
//   sys_open() ...    one function per system call
// The engine in vm_manager/ (see vmm.hpp) does the rest: the KVM objects,
// bounds-checked guest memory, page tables, the ELF loader, the initial stack.

#include "vmm.hpp"

#include <linux/limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>

using namespace vmm;

// What a system call handler works with.
struct Guest {
    GuestMemory& memory; // the guest's physical memory: translates guest pointers
    GuestFiles& files;   // the guest's file descriptors
    Trace& trace;        // where the trace lines go
};

int run_vm(const Options& options);
std::optional<int> handle_syscall(Vcpu& vcpu, Guest guest);
int64_t sys_open(Guest& guest, uint64_t path_address, uint64_t flags, uint64_t mode);
int64_t sys_write(Guest& guest, uint64_t fd, uint64_t buffer, uint64_t count);
int64_t sys_close(Guest& guest, uint64_t fd);

// grace: returns the result to the guest after logging it
static int64_t traced_open(Guest& guest, std::string_view path, uint64_t flags, uint64_t mode,
                           int64_t result)
{
    guest.trace.open(path, flags, mode, result);
    return result;
}

static int64_t traced_write(Guest& guest, uint64_t fd, uint64_t buffer, uint64_t count,
                            int64_t result)
{
    guest.trace.write(fd, buffer, count, result);
    return result;
}

static std::optional<int> resume_with(Vcpu& vcpu, int64_t result)
{
    vcpu.regs().rax = static_cast<uint64_t>(result);
    vcpu.mark_regs_dirty();
    return std::nullopt;
}

int main(int argc, char* argv[])
{
    try {
        const Options options = parse_command_line(argc, argv);
        if (options.help) {
            print_usage(stdout);
            return 0;
        }
        return run_vm(options);
    } catch (const VmmError& error) {
        // One message that says what happened; the exit status says what kind
        // of failure it was (see --help).
        std::fprintf(stderr, "vm_manager: %s\n", error.what());
        return error.exit_status();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "vm_manager: %s\n", error.what());
        return kExitFailed;
    }
}

// Builds the machine and runs it. Returns the program's exit status.
int run_vm(const Options& options)
{
    // 1. Open KVM and create an empty virtual machine.
    Kvm kvm;
    Vm vm = kvm.create_vm();

    // 2. Guest physical memory: a host buffer that KVM maps at guest address 0.
    GuestMemory memory(options.memory_size);
    vm.map_memory(memory);

    // 3. Fill it: the boot code, identity page tables, the program, its stack.
    const LoadedBootImage boot = load_boot_image_file(memory, options.boot_image);
    const uint64_t page_tables = build_identity_page_tables(memory);
    const LoadedProgram program = load_elf_file(memory, options.arguments[0]);
    const uint64_t stack = build_initial_stack(memory, memory.size(), program,
                                               {options.arguments, {}, host_random_bytes()});

    // 4. Tell boot.asm where the program starts and in which ring it runs.
    const RingChoice ring = choose_ring(options.ring);
    write_boot_parameters(memory, boot.address,
                          {program.entry, stack, page_tables, ring.ring == 3});
    const MemoryMapInputs map{memory.size(), boot.address, boot.size, program, stack};
    if (options.memory_map) {
        print_memory_map(stdout, map);
        return 0;
    }
    if (options.verbose) {
        std::fprintf(stderr, "vm_manager: %s\n", ring.reason.c_str());
        print_memory_map(stderr, map);
    }

    // 5. One vCPU, with the CPU features KVM supports (SSE, ...), starting in
    //    16-bit real mode at the first byte of the boot image.
    Vcpu vcpu = vm.create_vcpu();
    vcpu.set_cpuid(*kvm.supported_cpuid());
    vcpu.start_in_real_mode(boot.address);

    // 6. What the system calls need: the guest's files and the trace.
    GuestFiles files(options.workdir);
    Trace trace(options.trace_file);

    // 7. What may stop the run (Ctrl-C, --timeout, --max-exits). Then, since
    //    from here on the VMM needs only a few system calls, forbid the others:
    //    a bug in a handler cannot become an arbitrary host call.
    RunControl control(vcpu, {options.max_exits, options.timeout_seconds});
    confine_vmm(options.seccomp);

    // 8. Run. KVM_RUN returns at each VM exit: handle it, then go round again.
    for (;;) {
        vcpu.run();
        control.after_exit(vcpu); // counts exits; stops on Ctrl-C, --timeout, --max-exits
        switch (vcpu.exit_reason()) {
        case KVM_EXIT_HLT:
            // The guest executed `hlt`. Only boot.asm's syscall entry does that,
            // so each KVM_EXIT_HLT is one system call of the program.
            if (const auto exit_status = handle_syscall(vcpu, {memory, files, trace})) {
                return exit_status.value();
            }
            break;
        case KVM_EXIT_INTR:
            break; // a signal interrupted KVM_RUN, and it was not a reason to stop
        default:
            throw GuestCrash(vcpu, memory, ring, options.verbose);
        }
    }
}

// One system call. Returns the program's exit status if the call ended it.
std::optional<int> handle_syscall(Vcpu& vcpu, Guest guest)
{
    const kvm_regs& regs = vcpu.regs();
    switch (regs.rax) {
    case SYS_open:
        return resume_with(vcpu, sys_open(guest, regs.rdi, regs.rsi, regs.rdx));
    case SYS_write:
        return resume_with(vcpu, sys_write(guest, regs.rdi, regs.rsi, regs.rdx));
    case SYS_close:
        return resume_with(vcpu, sys_close(guest, regs.rdi));
    case SYS_arch_prctl:
    case SYS_exit_group:
        return resume_with(vcpu, 0);
    case SYS_set_tid_address:
        return resume_with(vcpu, 1);
    case SYS_exit:
        guest.trace.exit(regs.rdi);
        return static_cast<int>(regs.rdi & 0xff);
    }
    guest.trace.undefined(regs.rax);
    return resume_with(vcpu, -ENOSYS);
}

// open(path, flags, mode): returns the new guest fd, or -errno.
int64_t sys_open(Guest& guest, uint64_t path_address, uint64_t flags, uint64_t mode)
{
    const auto path = guest.memory.c_string(path_address, PATH_MAX);
    if (!path) {
        return traced_open(guest, "(bad address)", flags, mode, -EFAULT);
    }
    if (path->length() >= PATH_MAX) {
        return traced_open(guest, *path, flags, mode, -ENAMETOOLONG);
    }
    return traced_open(guest, *path, flags, mode, guest.files.open(std::string{*path}, flags, mode));
}

// write(fd, buffer, count): returns the number of bytes written, or -errno.
int64_t sys_write(Guest& guest, uint64_t fd, uint64_t buffer, uint64_t count)
{
    const int host_fd = guest.files.host_fd(fd);
    if (host_fd < 0) {
        return traced_write(guest, fd, buffer, count, -EBADF);
    }
    const auto bytes = guest.memory.range(buffer, count);
    if (!bytes) {
        return traced_write(guest, fd, buffer, count, -EFAULT);
    }
    const ssize_t written = ::write(host_fd, bytes->data(), bytes->size());
    if (written < 0) {
        return traced_write(guest, fd, buffer, count, -errno);
    }
    return traced_write(guest, fd, buffer, count, written);
}

// close(fd): returns 0, or -errno.
int64_t sys_close(Guest& guest, uint64_t fd)
{
    const int64_t result = guest.files.close(fd);
    guest.trace.close(fd, result);
    return result;
}
