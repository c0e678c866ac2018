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

#include <asm/prctl.h> // ARCH_SET_FS, for arch_prctl (Step 2)
#include <linux/limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

using namespace vmm;

// What a system call handler works with.
struct Guest {
    UserMemory& memory; // guest memory as the program may use it: checks guest pointers
    GuestFiles& files;  // the guest's file descriptors
    Trace& trace;       // where the trace lines go
};

int run_vm(const Options& options);
std::optional<int> handle_syscall(Vcpu& vcpu, Guest& guest);
int64_t sys_open(Guest& guest, uint64_t path_address, uint64_t flags, uint64_t mode);
int64_t sys_write(Guest& guest, uint64_t fd, uint64_t buffer, uint64_t count);
int64_t sys_close(Guest& guest, uint64_t fd);

int main(int argc, char* argv[])
{
    try {
        // Before anything is opened: fds 0, 1 and 2, which the guest shares,
        // must not become /dev/kvm's (see standard_streams.hpp).
        secure_standard_streams();
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

    // 3. Fill it: the boot code, the program, the page tables that map them
    //    (each page with the access Linux would give it), the program's stack.
    const LoadedBootImage boot = load_boot_image_file(memory, options.boot_image);
    const LoadedProgram program = load_elf_file(memory, options.arguments[0]);
    const PageTables page_tables = build_identity_page_tables(memory, boot, program);
    const uint64_t stack = build_initial_stack(memory, memory.size(), program,
                                               {options.arguments, {}, host_random_bytes()});

    // 4. Tell boot.asm where the program starts and in which ring it runs.
    const RingChoice ring = choose_ring(options.ring);
    write_boot_parameters(memory, boot.address,
                          {program.entry, stack, page_tables.startup_pml4, ring.ring == 3});
    const MemoryMapInputs map{memory.size(), boot, page_tables, program, stack};
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

    // 6. What the system calls need, in the Guest that handle_syscall() works
    //    with: guest memory as the program sees it (what its page tables let
    //    it use: every guest pointer is checked there), its files, the trace.
    UserMemory user_memory(memory, vcpu);
    GuestFiles files(options.workdir, options.disk_quota);
    Trace trace(options.trace_file);
    // Unused until run_vm() calls handle_syscall() (Step 2): the compiler is told.
    [[maybe_unused]] Guest guest{user_memory, files, trace};

    // 7. What may stop the run (Ctrl-C, --timeout, --max-exits), and --gdb or
    //    --step, a debugger that sees each exit before this loop. Then, since
    //    from here on the VMM needs only a few system calls, forbid the others:
    //    a bug in a handler cannot become an arbitrary host call.
    RunControl control(vcpu, {options.max_exits, options.timeout_seconds});
    // Not used below, but alive for the whole run: vcpu.run() hands it every exit.
    const std::unique_ptr<Debugger> debugger =
        start_debugger(vcpu, memory, boot, program, control, options);
    confine_vmm(options.seccomp);

    // 8. Run. KVM_RUN returns at each VM exit: handle it, then go round again.
    //    An exit the VMM does not expect ends the run with a crash report.
    const CrashContext crash{memory, map, ring, options.verbose};
    for (;;) {
        vcpu.run();
        control.after_exit(vcpu); // counts exits; stops on Ctrl-C, --timeout, --max-exits
        switch (vcpu.exit_reason()) {
        case KVM_EXIT_HLT:
            // The guest executed `hlt`: boot.asm's syscall entry does, once for
            // each system call of the program. Any other `hlt` is a crash.
            check_system_call(vcpu, crash);
            // TODO(step 2): handle the system call with handle_syscall(vcpu,
            // guest) instead, and return the exit status it gives when the
            // program exits.
            std::puts("KVM_EXIT_HLT");
            break; // resume the vCPU after the `hlt`
        case KVM_EXIT_INTR:
            break; // a signal interrupted KVM_RUN, and it was not a reason to stop
        default:
            throw GuestCrash(vcpu, crash);
        }
    }
}

// One system call. Returns the program's exit status if the call ended it.
std::optional<int> handle_syscall(Vcpu& vcpu, Guest& guest)
{
    // The Linux x86-64 system call convention: the call number in RAX; the
    // arguments in RDI, RSI, RDX, R10, R8, R9 (R10, not RCX as in a function
    // call, because `syscall` itself overwrites RCX with the return address);
    // the result back in RAX: a value, or -errno on failure.
    kvm_regs& regs = vcpu.regs();
    // TODO(step 2): call the sys_ function for the number in regs.rax with
    // its arguments. For the call that ends the program (SYS_exit_group,
    // or SYS_exit), print the EXIT line and return the status. As handed
    // out, run_vm() does not call this function; once it does (its TODO),
    // every call is "undefined" until handled here. The first, arch_prctl,
    // cannot stay so: when it fails, musl's start-up stops the program
    // with a hlt. The statement (Step 2, "Start here") says what a VMM may
    // do with it and with set_tid_address.
    guest.trace.undefined(regs.rax);
    regs.rax = static_cast<uint64_t>(-ENOSYS);
    vcpu.mark_regs_dirty(); // KVM loads the new RAX when the vCPU resumes
    return std::nullopt;
}

// open(path, flags, mode): returns the new guest fd, or -errno.
int64_t sys_open(Guest& guest, uint64_t path_address, uint64_t flags, uint64_t mode)
{
    // TODO(step 2): read the path with guest.memory.c_string(), open it
    // with guest.files.open() (it gives the guest its own fd), print
    // guest.trace.open(...) (with std::nullopt for a path it cannot read:
    // "(bad address)"), and return the guest fd or -errno.
    (void)guest, (void)path_address, (void)flags, (void)mode;
    return -ENOSYS;
}

// write(fd, buffer, count): returns the number of bytes written, or -errno.
int64_t sys_write(Guest& guest, uint64_t fd, uint64_t buffer, uint64_t count)
{
    // TODO(step 2): in Linux's order: first the fd, -EBADF when the guest
    // has no such fd or it is not open for writing (guest.files.host_fd(),
    // open_for_writing()), whatever the buffer; then the buffer, -EFAULT
    // when the program may not read all of it (guest.memory.range() finds
    // its host address); then write it with guest.files.write(). Print
    // guest.trace.write(...), and return the count or -errno.
    (void)guest, (void)fd, (void)buffer, (void)count;
    return -ENOSYS;
}

// close(fd): returns 0, or -errno.
int64_t sys_close(Guest& guest, uint64_t fd)
{
    // TODO(step 2): close it with guest.files.close(), print
    // guest.trace.close(...), and return the result.
    (void)guest, (void)fd;
    return -ENOSYS;
}
