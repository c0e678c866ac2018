#include "vmm.hpp"

#include <linux/limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>

using namespace vmm;

struct Guest {
    GuestMemory& memory;
    GuestFiles& files;
    Trace& trace;
};

int run_vm(const Options& options);
std::optional<int> handle_syscall(Vcpu& cpu, Guest g);
int64_t sys_open(Guest& g, uint64_t addr, uint64_t fl, uint64_t perm);
int64_t sys_write(Guest& g, uint64_t fd, uint64_t buf_addr, uint64_t len);
int64_t sys_close(Guest& g, uint64_t fd);

static int64_t log_open(Guest& g, std::string_view name, uint64_t fl, uint64_t perm,
                           int64_t ret)
{
    g.trace.open(name, fl, perm, ret);
    return ret;
}

static int64_t log_write(Guest& g, uint64_t fd, uint64_t buf_addr, uint64_t len,
                            int64_t ret)
{
    g.trace.write(fd, buf_addr, len, ret);
    return ret;
}

static std::optional<int> set_rax(Vcpu& cpu, int64_t ret)
{
    cpu.regs().rax = static_cast<uint64_t>(ret);
    cpu.mark_regs_dirty();
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

        std::fprintf(stderr, "vm_manager: %s\n", error.what());
        return error.exit_status();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "vm_manager: %s\n", error.what());
        return kExitFailed;
    }
}

int run_vm(const Options& options)
{

    Kvm kvm;
    Vm vm = kvm.create_vm();

    GuestMemory memory(options.memory_size);
    vm.map_memory(memory);

    const LoadedBootImage boot = load_boot_image_file(memory, options.boot_image);
    const uint64_t page_tables = build_identity_page_tables(memory);
    const LoadedProgram program = load_elf_file(memory, options.arguments[0]);
    const uint64_t stack = build_initial_stack(memory, memory.size(), program,
                                               {options.arguments, {}, host_random_bytes()});

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

    Vcpu cpu = vm.create_vcpu();
    cpu.set_cpuid(*kvm.supported_cpuid());
    cpu.start_in_real_mode(boot.address);

    GuestFiles files(options.workdir);
    Trace trace(options.trace_file);

    RunControl control(cpu, {options.max_exits, options.timeout_seconds});
    confine_vmm(options.seccomp);

    for (;;) {
        cpu.run();
        control.after_exit(cpu);
        switch (cpu.exit_reason()) {
        case KVM_EXIT_HLT:

            if (const auto code = handle_syscall(cpu, {memory, files, trace})) {
                return code.value();
            }
            break;
        case KVM_EXIT_INTR:
            break;
        default:
            throw GuestCrash(cpu, memory, ring, options.verbose);
        }
    }
}

std::optional<int> handle_syscall(Vcpu& cpu, Guest g)
{
    const kvm_regs& r = cpu.regs();
    switch (r.rax) {
    case SYS_open:
        return set_rax(cpu, sys_open(g, r.rdi, r.rsi, r.rdx));
    case SYS_write:
        return set_rax(cpu, sys_write(g, r.rdi, r.rsi, r.rdx));
    case SYS_close:
        return set_rax(cpu, sys_close(g, r.rdi));
    case SYS_arch_prctl:
    case SYS_exit_group:
        return set_rax(cpu, 0);
    case SYS_set_tid_address:
        return set_rax(cpu, 1);
    case SYS_exit:
        g.trace.exit(r.rdi);
        return static_cast<int>(r.rdi & 0xff);
    }
    g.trace.undefined(r.rax);
    return set_rax(cpu, -ENOSYS);
}

int64_t sys_open(Guest& g, uint64_t addr, uint64_t fl, uint64_t perm)
{
    const auto name = g.memory.c_string(addr, PATH_MAX);
    if (!name) {
        return log_open(g, "(bad address)", fl, perm, -EFAULT);
    }
    if (name->length() >= PATH_MAX) {
        return log_open(g, *name, fl, perm, -ENAMETOOLONG);
    }
    return log_open(g, *name, fl, perm, g.files.open(std::string{*name}, fl, perm));
}

int64_t sys_write(Guest& g, uint64_t fd, uint64_t buf_addr, uint64_t len)
{
    const int hfd = g.files.host_fd(fd);
    if (hfd < 0) {
        return log_write(g, fd, buf_addr, len, -EBADF);
    }
    const auto buf = g.memory.range(buf_addr, len);
    if (!buf) {
        return log_write(g, fd, buf_addr, len, -EFAULT);
    }
    const ssize_t n = ::write(hfd, buf->data(), buf->size());
    if (n < 0) {
        return log_write(g, fd, buf_addr, len, -errno);
    }
    return log_write(g, fd, buf_addr, len, n);
}

int64_t sys_close(Guest& g, uint64_t fd)
{
    const int64_t ret = g.files.close(fd);
    g.trace.close(fd, ret);
    return ret;
}
