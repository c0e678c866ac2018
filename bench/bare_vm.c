/* bare_vm.c: the floor of the benchmark (bench/README.md). The least a process
 * can do to run boot.bin to long mode on KVM, in plain C on <linux/kvm.h>: no
 * C++ runtime, no error handling beyond what keeps the measurement honest.
 *
 * It does what the reference VMM does before the program's first instruction,
 * and nothing else: create a VM and a vCPU, give it the same amount of guest
 * memory, load the same boot image, build identity page tables where the VMM
 * builds them and fill in the boot header the same way. (The VMM's tables
 * give each page its own access; these map everything with 2 MiB pages: the
 * guest runs the same instructions either way.) Instead of a program, program_entry
 * points at a `hlt` placed in guest memory, so the first VM exit happens in
 * 64-bit long mode, exactly where the lab program would start.
 *
 *   bare_vm [--mem MiB] [--exits N | --syscalls N] [--verbose] BOOT_BIN [APP [ARG]...]
 *
 *   (default)      stop at the first `hlt`, in long mode, and exit 0: what a
 *                  KVM process costs that boots to where a program would start.
 *   --exits N      bare_exit's calibration guest, `1: hlt; jmp 1b`: each `hlt`
 *                  is one VM exit, which the loop below resumes with no work
 *                  at all, N times.
 *   --syscalls N   the guest runs `1: syscall; jmp 1b`: each `syscall` lands in
 *                  boot.asm's stub (`hlt; jmp rcx`), as the program's calls do;
 *                  resumed with no work, N times.
 *   APP [ARG]...   run the static program APP instead, with a null handler:
 *                  every system call returns at once with a plausible result
 *                  (open: 3, write: its count, set_tid_address: 1, other: 0),
 *                  and exit(2) ends the run with the program's status. The
 *                  guest executes exactly what it executes under the reference
 *                  VMM, which does the same calls for real: the difference is
 *                  the reference VMM's own work.
 *
 * Exit status: 0 when the guest stopped where expected (with APP: APP's exit
 * status), 1 otherwise with a message on standard error, 2 for a usage error.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The layout of vm_manager/guest_layout.hpp. */
#define MIB (1024ull * 1024)
#define PML4 0x10000ull /* identity page tables: PML4, PDPT, page directory */
#define PDPT 0x11000ull
#define PAGE_DIRECTORY 0x12000ull
#define LARGE_PAGE (2 * MIB)          /* each page-directory entry maps 2 MiB */
#define GUEST_CODE 0x100000ull        /* where the stand-in for a program goes (1 MiB) */
#define STACK_RESERVE (256 * 1024ull) /* the top of memory is the program's stack */

/* Page-table entry bits (Intel SDM vol. 3A, 4.5). */
#define PTE_PRESENT (1ull << 0)
#define PTE_WRITABLE (1ull << 1)
#define PTE_USER (1ull << 2)
#define PTE_LARGE (1ull << 7)

/* The boot header at the start of boot.bin; BootHeader in vm_manager/boot_image.hpp. */
struct boot_header {
    uint8_t jump[8];        /* jmp short start16, padded */
    char signature[8];      /* "SCRATCHV" */
    uint64_t load_address;  /* the image's `org` */
    uint64_t syscall_entry; /* the `hlt` every system call executes */
    uint64_t exception_report; /* the `out` that reports an exception */
    uint64_t program_entry; /* filled in below: where boot.asm jumps in long mode */
    uint64_t program_stack; /* filled in below: RSP at that jump */
    uint64_t page_tables;   /* filled in below: the PML4, for CR3 */
    uint64_t user_mode;     /* filled in below: 0 = stay in ring 0 (works on every KVM) */
};

static void die(const char* what)
{
    fprintf(stderr, "bare_vm: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void fail(const char* message)
{
    fprintf(stderr, "bare_vm: %s\n", message);
    exit(1);
}

static void usage(void)
{
    fputs("usage: bare_vm [--mem MiB] [--exits N | --syscalls N] [--verbose] BOOT_BIN "
          "[APP [ARG]...]\n",
          stderr);
    exit(2);
}

/* Reads a whole file into a malloc()ed buffer. */
static uint8_t* read_file(const char* path, size_t* size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat info;
    if (fd < 0 || fstat(fd, &info) < 0)
        die(path);
    uint8_t* bytes = malloc((size_t)info.st_size + 1);
    ssize_t done = read(fd, bytes, (size_t)info.st_size);
    if (done != info.st_size)
        die(path);
    close(fd);
    *size = (size_t)info.st_size;
    return bytes;
}

/* APP mode: copies the PT_LOAD segments of a static, non-PIE ELF program to
 * their addresses (guest virtual == physical) and builds the System V initial
 * stack at the top of memory, with the auxiliary vector the reference VMM
 * gives (vm_manager/initial_stack.cpp), so that musl's start-up takes the same
 * path. Returns the entry point; *stack receives RSP. */
static uint64_t load_program(uint8_t* mem, uint64_t mem_size, int argc, char** argv,
                             uint64_t* stack)
{
    size_t size;
    uint8_t* file = read_file(argv[0], &size);
    Elf64_Ehdr eh;
    if (size < sizeof eh)
        fail("APP is not an ELF file");
    memcpy(&eh, file, sizeof eh);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_type != ET_EXEC ||
        eh.e_machine != EM_X86_64 || eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size)
        fail("APP is not a static x86-64 executable (build it with musl-gcc -static)");
    uint64_t phdr_address = 0;
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        memcpy(&ph, file + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_LOAD)
            continue;
        if (ph.p_offset + ph.p_filesz > size || ph.p_vaddr < GUEST_CODE ||
            ph.p_vaddr + ph.p_memsz > mem_size - STACK_RESERVE)
            fail("APP has a segment outside the file or outside guest memory");
        memcpy(mem + ph.p_vaddr, file + ph.p_offset, ph.p_filesz); /* fresh memory is zero */
        if (eh.e_phoff >= ph.p_offset && eh.e_phoff < ph.p_offset + ph.p_filesz)
            phdr_address = ph.p_vaddr + (eh.e_phoff - ph.p_offset);
    }

    /* Strings and AT_RANDOM's 16 bytes at the very top, the tables below them. */
    uint64_t top = mem_size - 16;
    const uint64_t random = top;
    memcpy(mem + random, "bare_vm random!", 16);
    uint64_t words[64 + 16];
    int n = 0;
    words[n++] = (uint64_t)argc;
    for (int i = 0; i < argc && i < 60; ++i) {
        const size_t length = strlen(argv[i]) + 1;
        top -= length;
        memcpy(mem + top, argv[i], length);
        words[n++] = top;
    }
    words[n++] = 0; /* end of argv */
    words[n++] = 0; /* no environment */
    const uint64_t auxv[][2] = {{AT_PHDR, phdr_address},
                                {AT_PHENT, sizeof(Elf64_Phdr)},
                                {AT_PHNUM, eh.e_phnum},
                                {AT_PAGESZ, 4096},
                                {AT_ENTRY, eh.e_entry},
                                {AT_RANDOM, random},
                                {AT_NULL, 0}};
    for (unsigned i = 0; i < sizeof auxv / sizeof *auxv; ++i) {
        words[n++] = auxv[i][0];
        words[n++] = auxv[i][1];
    }
    *stack = (top - n * 8) & ~15ull; /* RSP points at argc, 16-byte aligned */
    memcpy(mem + *stack, words, n * 8);
    free(file);
    return eh.e_entry;
}

int main(int argc, char** argv)
{
    uint64_t mem_size = 8 * MIB; /* vm_manager's default --mem */
    unsigned long long exits = 0;
    int syscalls = 0, verbose = 0, i = 1;
    const char* boot_path = NULL;

    for (; i < argc && !boot_path; ++i) {
        if (strcmp(argv[i], "--mem") == 0 && i + 1 < argc) {
            mem_size = strtoull(argv[++i], NULL, 0) * MIB;
        } else if (strcmp(argv[i], "--exits") == 0 && i + 1 < argc) {
            exits = strtoull(argv[++i], NULL, 0);
        } else if (strcmp(argv[i], "--syscalls") == 0 && i + 1 < argc) {
            exits = strtoull(argv[++i], NULL, 0);
            syscalls = 1;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            verbose = 1;
        } else if (argv[i][0] == '-') {
            usage();
        } else {
            boot_path = argv[i];
        }
    }
    char** app = &argv[i]; /* APP [ARG]..., if any */
    const int app_argc = argc - i;
    if (!boot_path || mem_size == 0 || mem_size % LARGE_PAGE || mem_size > 1024 * MIB)
        usage();

    /* 1. The KVM subsystem. No version or capability checks: the VMM makes
     *    two cheap ioctls for them, which are not what this floor is about. */
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        die("open /dev/kvm");

    /* 2. An empty VM: KVM_CREATE_VM is a good part of a KVM process's start-up. */
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        die("KVM_CREATE_VM");

    /* Intel VT-x without "unrestricted guest" needs three pages for its
     * real-mode TSS somewhere outside guest memory; the VMM does the same. */
    if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
        die("KVM_SET_TSS_ADDR");

    /* 3. Guest physical memory: anonymous and MAP_NORESERVE, so only the pages
     *    the guest touches cost anything; the same size as the VMM's. */
    uint8_t* mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap guest memory");
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = mem_size,
        .userspace_addr = (uint64_t)(uintptr_t)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        die("KVM_SET_USER_MEMORY_REGION");

    /* 4. The boot image, copied into guest memory at the address its header
     *    names. It must end below 64 KiB, real mode's reach with CS = 0. */
    size_t size;
    uint8_t* image = read_file(boot_path, &size);
    struct boot_header header;
    if (size < sizeof header)
        fail("the boot image is too small");
    memcpy(&header, image, sizeof header);
    if (memcmp(header.signature, "SCRATCHV", 8) != 0 || header.load_address < 0x4000 ||
        header.load_address + size > 0x10000)
        fail("not a ScratchVM boot image");
    memcpy(mem + header.load_address, image, size);
    free(image);

    /* 5. Identity page tables where build_identity_page_tables() puts them:
     *    one PML4 entry, one PDPT entry, one 2 MiB page per page-directory entry. */
    const uint64_t flags = PTE_PRESENT | PTE_WRITABLE | PTE_USER;
    uint64_t* pml4 = (uint64_t*)(mem + PML4);
    uint64_t* pdpt = (uint64_t*)(mem + PDPT);
    uint64_t* pd = (uint64_t*)(mem + PAGE_DIRECTORY);
    pml4[0] = PDPT | flags;
    pdpt[0] = PAGE_DIRECTORY | flags;
    for (uint64_t page = 0; page < mem_size / LARGE_PAGE; ++page)
        pd[page] = page * LARGE_PAGE | flags | PTE_LARGE;

    /* 6. What boot.asm jumps to in long mode: the program, or a stand-in.
     *      default     hlt                      (f4)
     *      --exits     1: hlt; jmp 1b           (f4 eb fd)
     *      --syscalls  1: syscall; jmp 1b       (0f 05 eb fc)
     *    The stand-ins get a stack at the top of memory that they never use. */
    static const uint8_t halt_loop[] = {0xf4, 0xeb, 0xfd};
    static const uint8_t syscall_loop[] = {0x0f, 0x05, 0xeb, 0xfc};
    uint64_t entry = GUEST_CODE, stack = mem_size;
    if (app_argc > 0)
        entry = load_program(mem, mem_size, app_argc, app, &stack);
    else if (syscalls)
        memcpy(mem + GUEST_CODE, syscall_loop, sizeof syscall_loop);
    else
        memcpy(mem + GUEST_CODE, halt_loop, sizeof halt_loop);

    /* 7. The boot header, as write_boot_parameters() fills it: the entry, the
     *    stack, CR3, and ring 0, which every KVM (hardware or PVM) runs. */
    header.program_entry = entry;
    header.program_stack = stack;
    header.page_tables = PML4;
    header.user_mode = 0;
    memcpy(mem + header.load_address, &header, sizeof header);

    /* 8. One vCPU and its kvm_run page, where KVM reports each exit. Asking
     *    for the registers in kvm_run (sync regs, as the VMM does) gives us
     *    RAX and RIP at each exit without another ioctl. */
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < 0)
        die("KVM_GET_VCPU_MMAP_SIZE");
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        die("KVM_CREATE_VCPU");
    struct kvm_run* run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");
    run->kvm_valid_regs = KVM_SYNC_X86_REGS;

    /* 9. The CPU features the guest sees. A new vCPU has an empty CPUID, and
     *    KVM then refuses boot.asm's EFER.LME and EFER.SCE (no long mode, no
     *    syscall in CPUID): the wrmsr faults and the guest triple-faults. The
     *    VMM passes everything KVM supports, as any VMM running real programs
     *    must; so do we. (On a nested machine the host's CPUID instructions
     *    behind KVM_GET_SUPPORTED_CPUID are a visible part of the start-up.) */
    static struct {
        struct kvm_cpuid2 header;
        struct kvm_cpuid_entry2 entries[256];
    } cpuid;
    cpuid.header.nent = 256;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0)
        die("KVM_GET_SUPPORTED_CPUID");
    if (ioctl(vcpu, KVM_SET_CPUID2, &cpuid) < 0)
        die("KVM_SET_CPUID2");

    /* 10. Real mode at 0000:load_address. A new vCPU is at the reset vector
     *     (CS base 0xffff0000): zero the segments, then set RIP. */
    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        die("KVM_GET_SREGS");
    struct kvm_segment* segments[] = {&sregs.cs, &sregs.ds, &sregs.es,
                                      &sregs.fs, &sregs.gs, &sregs.ss};
    for (unsigned s = 0; s < sizeof segments / sizeof *segments; ++s) {
        segments[s]->selector = 0;
        segments[s]->base = 0;
    }
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        die("KVM_SET_SREGS");
    struct kvm_regs regs = {.rip = header.load_address, .rflags = 0x2};
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS");

    /* 11. Run: boot.asm goes real mode -> protected mode -> long mode and
     *     jumps to the entry; the first `hlt` there is the first exit. The
     *     loop modes resume the guest N times without doing anything. */
    int status = 0;
    unsigned long long done = 0;
    for (;; ++done) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0)
            die("KVM_RUN");
        if (run->exit_reason != KVM_EXIT_HLT) {
            fprintf(stderr, "bare_vm: unexpected exit reason %u after %llu exits\n",
                    run->exit_reason, done);
            return 1;
        }
        if (app_argc > 0) {
            /* The null handler: a result in RAX, and nothing else. */
            struct kvm_regs* r = &run->s.regs.regs;
            if (r->rax == 231 || r->rax == 60) { /* exit_group or exit: the end, as in the VMM */
                status = (int)(r->rdi & 0xff);
                break;
            }
            r->rax = r->rax == 2 ? 3 : r->rax == 1 ? r->rdx : r->rax == 218 ? 1 : 0;
            run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
        } else if (done == exits) {
            break;
        }
    }

    /* Where the last hlt was: RIP is just past it. In the default and --exits
     * modes that is GUEST_CODE + 1, which only long mode reaches (boot.asm
     * jumps there from 64-bit code); otherwise it is boot.asm's stub. */
    uint64_t rip = run->s.regs.regs.rip;
    if (app_argc == 0 && !syscalls && rip != GUEST_CODE + 1) {
        fprintf(stderr, "bare_vm: the guest stopped at 0x%llx, not after the hlt at 0x%llx\n",
                (unsigned long long)rip, (unsigned long long)GUEST_CODE);
        return 1;
    }
    if (verbose) {
        /* Only when asked: one more ioctl, to show the mode the guest is in. */
        if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
            die("KVM_GET_SREGS");
        fprintf(stderr,
                "bare_vm: %llu exits; last hlt before RIP 0x%llx; EFER 0x%llx (long mode "
                "active: %d), CS.L %d, CPL %d\n",
                done + 1, (unsigned long long)rip, (unsigned long long)sregs.efer,
                (int)((sregs.efer >> 10) & 1), sregs.cs.l, sregs.cs.selector & 3);
    }
    /* No cleanup: the kernel releases the VM, the vCPU and the memory at exit. */
    return status;
}
