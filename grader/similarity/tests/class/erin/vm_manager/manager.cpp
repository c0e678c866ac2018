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

// What the guest gets back from a host call that failed: -errno, as from a kernel.
static int64_t negative_errno()
{
    return -static_cast<int64_t>(errno);
}

// Writes all of `bytes` to a host file, even if write() stores fewer bytes at once.
// Returns the number of bytes written, or -errno if nothing could be written.
static int64_t write_all(int host_fd, std::span<const std::byte> bytes)
{
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t now = ::write(host_fd, bytes.data() + done, bytes.size() - done);
        if (now < 0) {
            if (errno == EINTR)
                continue;
            return done > 0 ? static_cast<int64_t>(done) : negative_errno();
        }
        if (now == 0)
            break;
        done += static_cast<size_t>(now);
    }
    return static_cast<int64_t>(done);
}

// The guest's registers that carry the arguments of a system call, by position.
struct SyscallArguments {
    uint64_t first, second, third;
};

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
            // Every hlt is one of the program's system calls (see syscall_entry).
            {
                const std::optional<int> finished = handle_syscall(vcpu, {memory, files, trace});
                if (finished.has_value()) {
                    return finished.value();
                }
            }
            break; // resume the vCPU after the `hlt`
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
    kvm_regs& regs = vcpu.regs();
    const uint64_t call_number = regs.rax;
    const SyscallArguments arguments{regs.rdi, regs.rsi, regs.rdx};
    int64_t result_for_guest = -ENOSYS;

    switch (call_number) {
    case SYS_open:
        result_for_guest = sys_open(guest, arguments.first, arguments.second, arguments.third);
        break;
    case SYS_write:
        result_for_guest = sys_write(guest, arguments.first, arguments.second, arguments.third);
        break;
    case SYS_close:
        result_for_guest = sys_close(guest, arguments.first);
        break;
    case SYS_exit: {
        // The end of the program: its status is the first argument.
        guest.trace.exit(arguments.first);
        const int status = static_cast<int>(arguments.first & 0xff);
        return status;
    }
    case SYS_exit_group:
        // musl's _Exit: we let it come back, musl then calls exit.
        result_for_guest = 0;
        break;
    case SYS_arch_prctl:
        // ARCH_SET_FS: our program has no thread-local variables.
        result_for_guest = 0;
        break;
    case SYS_set_tid_address:
        result_for_guest = 1; // the thread id of the only thread
        break;
    default:
        guest.trace.undefined(call_number);
        break;
    }

    regs.rax = static_cast<uint64_t>(result_for_guest);
    vcpu.mark_regs_dirty(); // KVM loads the new RAX when the vCPU resumes
    return std::nullopt;
}

// open(path, flags, mode): returns the new guest fd, or -errno.
int64_t sys_open(Guest& guest, uint64_t path_address, uint64_t flags, uint64_t mode)
{
    const std::optional<std::string_view> guest_path =
        guest.memory.c_string(path_address, PATH_MAX);
    if (!guest_path.has_value()) {
        // The path is not inside guest memory: Linux says EFAULT.
        guest.trace.open("(bad address)", flags, mode, -EFAULT);
        return -EFAULT;
    }
    if (guest_path->size() == PATH_MAX) {
        guest.trace.open(*guest_path, flags, mode, -ENAMETOOLONG);
        return -ENAMETOOLONG;
    }
    const std::string host_path(*guest_path);
    const int64_t guest_fd = guest.files.open(host_path, flags, mode);
    guest.trace.open(host_path, flags, mode, guest_fd);
    return guest_fd;
}

// write(fd, buffer, count): returns the number of bytes written, or -errno.
int64_t sys_write(Guest& guest, uint64_t fd, uint64_t buffer, uint64_t count)
{
    int64_t bytes_written;
    const int host_file = guest.files.host_fd(fd);
    const std::optional<std::span<std::byte>> guest_bytes = guest.memory.range(buffer, count);
    if (host_file < 0) {
        bytes_written = -EBADF;
    } else if (!guest_bytes.has_value()) {
        bytes_written = -EFAULT;
    } else {
        bytes_written = write_all(host_file, *guest_bytes);
    }
    guest.trace.write(fd, buffer, count, bytes_written);
    return bytes_written;
}

// close(fd): returns 0, or -errno.
int64_t sys_close(Guest& guest, uint64_t fd)
{
    const int64_t close_result = guest.files.close(fd);
    guest.trace.close(fd, close_result);
    return close_result;
}
