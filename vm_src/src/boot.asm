; boot.asm: the only "kernel" of the ScratchVM micro-VM.
;
; The VMM loads this flat binary at BOOT_ADDRESS, puts the vCPU in 16-bit real
; mode with CS:IP = 0000:BOOT_ADDRESS and lets it run. This code then:
;   1. switches to 32-bit protected mode (a GDT and CR0.PE),
;   2. switches to 64-bit long mode (CR4.PAE, the VMM's page tables in CR3,
;      EFER.LME, CR0.PG), makes the pages' permissions hold (CR0.WP, EFER.NXE)
;      and enables SSE, which musl's code uses,
;   3. installs an IDT, so that an exception in the program (a page fault, an
;      invalid opcode, ...) is reported to the VMM instead of resetting the vCPU,
;   4. programs the syscall MSRs so that the program's `syscall` instruction
;      jumps to syscall_entry below,
;   5. starts the program at its ELF entry point, on the stack the VMM built.
;
; syscall_entry is the whole kernel: it executes `hlt`, which makes the vCPU
; leave the VM (KVM_EXIT_HLT). The VMM reads the system call from the
; registers, performs it on the host, writes the result in RAX and resumes the
; vCPU, which returns to the program.
;
; References: Intel SDM vol. 3A, 9.9 "Mode switching" and 9.8.5 "Initializing
; IA-32e mode"; vol. 2B, SYSCALL and SYSRET; AMD APM vol. 2, 6.1 "SYSCALL and
; SYSRET". Selectors follow Linux's GDT layout (arch/x86/include/asm/segment.h),
; except the TSS's: 0x38 here, the next free slot; Linux's is 0x40.

BOOT_ADDRESS    equ 0x8000          ; below 64 KiB, so real mode reaches it with CS = 0

; Guest exceptions are reported to the VMM by writing to this I/O port: the
; VMM sees a KVM_EXIT_IO and reads the exception's stack frame (see below).
EXCEPTION_PORT  equ 0xE0
EXCEPTION_STACK equ BOOT_ADDRESS    ; the exception stack grows down from here (guest_layout.hpp)

; GDT selectors (index * 8, plus the requested privilege level in bits 0-1).
KERNEL32_CS     equ 0x08            ; 32-bit code, ring 0: used only while booting
KERNEL_CS       equ 0x10            ; 64-bit code, ring 0
KERNEL_DS       equ 0x18            ; data, ring 0
USER32_CS       equ 0x23            ; 32-bit code, ring 3: only its place matters (STAR)
USER_DS         equ 0x2b            ; data, ring 3
USER_CS         equ 0x33            ; 64-bit code, ring 3
TSS_SELECTOR    equ 0x38            ; the task-state segment (a 16-byte descriptor)

; Control-register and MSR bits, named as in the Intel SDM vol. 3A, 2.5 and 2.2.1.
CR0_PE          equ 1 << 0          ; protection enable
CR0_MP          equ 1 << 1          ; monitor coprocessor: with TS, makes wait/fwait trap (needed for SSE)
CR0_EM          equ 1 << 2          ; x87 emulation: must be clear, or every SSE instruction raises #UD
CR0_NE          equ 1 << 5          ; report x87 errors as exceptions (#MF), not through an external pin
CR0_WP          equ 1 << 16         ; write protect: read-only pages are read-only for ring 0 too
CR0_NW          equ 1 << 29         ; not write-through; set at reset, together with CD
CR0_CD          equ 1 << 30         ; cache disable: set at reset (SDM vol. 3A, 9.1.1)
CR0_PG          equ 1 << 31         ; paging
CR4_PAE         equ 1 << 5          ; physical address extension: required for long mode
CR4_OSFXSR      equ 1 << 9          ; the OS saves SSE state with fxsave: enables SSE instructions
CR4_OSXMMEXCPT  equ 1 << 10         ; the OS handles SIMD exceptions (#XM) instead of #UD
MSR_EFER        equ 0xC0000080      ; extended feature enable register
EFER_SCE        equ 1 << 0          ; syscall/sysret enable
EFER_LME        equ 1 << 8          ; long mode enable (becomes active when CR0.PG is set)
EFER_NXE        equ 1 << 11         ; no-execute enable: bit 63 of a page-table entry forbids running code there
MSR_STAR        equ 0xC0000081      ; segment selectors loaded by syscall and sysret
MSR_LSTAR       equ 0xC0000082      ; RIP loaded by syscall in 64-bit mode
MSR_SFMASK      equ 0xC0000084      ; RFLAGS bits cleared by syscall

%ifidn __OUTPUT_FORMAT__, bin
    org BOOT_ADDRESS                ; boot.bin: the bytes the VMM loads, made for this address
%else
    ; boot.elf (nasm -f elf64 -g): the same bytes, linked at BOOT_ADDRESS, with
    ; the labels and line numbers gdb and vm_manager --step show
%endif

; ---------------------------------------------------------------------------
; The boot header: the VMM reads it from the file and fills in the run-time
; fields after loading (its C++ twin is BootHeader in vm_manager/boot_image.hpp).
; ---------------------------------------------------------------------------
    bits 16
header:
    jmp short start16               ; the vCPU starts here: jump over the header
    align 8, db 0
    db "SCRATCHV"                   ; signature: "this file is a ScratchVM boot image"
    dq BOOT_ADDRESS                 ; where this image must be loaded (see `org`)
    dq syscall_entry                ; where the program's system calls execute `hlt` (see below)
    dq exception_report             ; where exceptions are reported with `out` (see below)
program_entry:  dq 0                ; filled by the VMM: the program's ELF entry point
program_stack:  dq 0                ; filled by the VMM: RSP at the program's start (argc)
page_tables:    dq 0                ; filled by the VMM: physical address of the PML4
user_mode:      dq 0                ; filled by the VMM: 1 = run the program in ring 3

; ---------------------------------------------------------------------------
; Stage 1: 16-bit real mode. Addresses are segment * 16 + offset; CS = DS = 0.
; ---------------------------------------------------------------------------
start16:
    cli                             ; no interrupt handlers exist: keep IF = 0 throughout
    xor ax, ax
    mov ds, ax                      ; DS = 0 so that [gdt_pointer] is a physical address
    lgdt [gdt_pointer]              ; the GDT describes the segments of the next two modes
    mov eax, cr0
    or eax, CR0_PE                  ; protected mode: segment registers now hold selectors
    mov cr0, eax
    jmp dword KERNEL32_CS:start32   ; a far jump reloads CS, leaving real mode for good

; ---------------------------------------------------------------------------
; Stage 2: 32-bit protected mode, flat segments, no paging yet.
; ---------------------------------------------------------------------------
    bits 32
start32:
    mov ax, KERNEL_DS               ; flat 4 GiB data segment for every data register
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax                      ; FS and GS stay null: the program's TLS sets FS base later
    mov fs, ax
    mov gs, ax

    mov eax, cr4
    or eax, CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT  ; 4-level paging needs PAE; musl needs SSE
    mov cr4, eax

    mov eax, [page_tables]          ; the VMM built an identity map: virtual == physical
    mov cr3, eax                    ; (the PML4 lies below 4 GiB, so 32 bits are enough)

    ; The VMM maps each page with the permissions Linux would give it (read-only
    ; .rodata, no code on the stack, ...). EFER.NXE makes the no-execute bit of
    ; the page tables mean something, and CR0.WP makes ring 0 obey read-only
    ; pages: where KVM cannot run the program in ring 3, it runs in ring 0 (see
    ; the end of this file). Every processor with VT-x or AMD-V has NX.
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME | EFER_SCE | EFER_NXE  ; long mode, the syscall instruction, no-execute pages
    wrmsr

    mov eax, cr0
    and eax, ~(CR0_EM | CR0_CD | CR0_NW)  ; SSE instructions execute; caches on, as after a BIOS
    or eax, CR0_PG | CR0_WP | CR0_MP | CR0_NE  ; paging on: with EFER.LME set, this activates long mode
    mov cr0, eax
    jmp KERNEL_CS:start64           ; loading a 64-bit code segment leaves compatibility mode

; ---------------------------------------------------------------------------
; Stage 3: 64-bit long mode, ring 0.
; ---------------------------------------------------------------------------
    bits 64
start64:
    ; Exceptions: the IDT says where each of the 32 exception vectors goes; the
    ; TSS says which stack to use (Intel SDM vol. 3A, 6.14 and 8.7).
    lidt [idt_pointer]
    mov ax, TSS_SELECTOR
    ltr ax                          ; the CPU reads RSP0 and IST1 from the TSS from now on

    ; STAR[47:32]: syscall loads CS = KERNEL_CS and SS = KERNEL_CS + 8 = KERNEL_DS.
    ; STAR[63:48]: 64-bit sysret loads CS = USER32_CS + 16 = USER_CS and
    ;              SS = USER32_CS + 8 = USER_DS, both with RPL 3.
    mov ecx, MSR_STAR
    xor eax, eax
    mov edx, (USER32_CS << 16) | KERNEL_CS
    wrmsr

    ; SFMASK = 0: syscall leaves RFLAGS as it is. The ring-0 return path below
    ; (jmp rcx) does not restore RFLAGS from R11, so nothing may be cleared.
    mov ecx, MSR_SFMASK
    xor eax, eax
    xor edx, edx
    wrmsr

    ; LSTAR: where syscall jumps, whatever ring the program runs in.
    mov ecx, MSR_LSTAR
    mov eax, syscall_entry
    xor edx, edx                    ; syscall_entry lies below 4 GiB: the high half is 0
    wrmsr

    ; How syscall_entry goes back to the program depends on the ring the VMM
    ; chose (it tells us in the header): decide once, here. One syscall_entry
    ; for both rings, returning through memory: the header names its single
    ; `hlt`, the only one the VMM takes for a system call.
    mov qword [syscall_return], return_to_ring3
    cmp qword [user_mode], 0
    jne .return_chosen
    mov qword [syscall_return], return_to_ring0
.return_chosen:

    ; The System V ABI's process entry state (AMD64 psABI 3.4.1): RSP points at
    ; argc and is 16-byte aligned; RDX holds a function for atexit, or 0 for none.
    mov rsp, [program_stack]
    xor edx, edx
    xor ebp, ebp                    ; the outermost frame: a null frame pointer ends backtraces

    cmp qword [user_mode], 0
    je .enter_ring0

    ; Ring 3, what hardware-assisted KVM runs: sysret "returns" to the program
    ; it never called us from. It loads RIP from RCX, RFLAGS from R11, and CS/SS
    ; from STAR[63:48] with privilege level 3.
    mov rcx, [program_entry]
    mov r11, 0x2                    ; RFLAGS: bit 1 is always 1; IF = 0 (there are no interrupts)
    o64 sysret                      ; o64: the 64-bit form; plain sysret returns to 32-bit code

.enter_ring0:
    ; Ring 0, for hypervisors that cannot switch rings with syscall/sysret
    ; (README.md, "Ring 3 and ring 0"): the program simply runs at our privilege level.
    jmp [program_entry]

; ---------------------------------------------------------------------------
; The system call entry point: the program's `syscall` lands here, with
; RCX = the address to return to and R11 = the program's RFLAGS.
; `hlt` makes the vCPU exit to the VMM (KVM_EXIT_HLT): it reads the call from
; RAX, RDI, RSI, RDX, R10, R8, R9, performs it, puts the result in RAX, and
; resumes the vCPU at the instruction after `hlt`, which returns to the program
; the way chosen at boot. An indirect jump through memory changes neither the
; flags nor the stack, which the program still owns.
; ---------------------------------------------------------------------------
syscall_entry:
    hlt
    jmp [syscall_return]            ; return_to_ring3 or return_to_ring0

return_to_ring3:
    o64 sysret                      ; back to ring 3: RIP = RCX, RFLAGS = R11

return_to_ring0:
    jmp rcx                         ; no ring to change: just go back. No push/pop either:
                                    ; the program may keep data in the 128-byte red zone below RSP

    align 8
syscall_return: dq 0                ; set at boot: return_to_ring3 or return_to_ring0

; ---------------------------------------------------------------------------
; Exceptions. Each vector has a stub that makes the stack look the same for
; all of them, then reports to the VMM:
;
;   RSP ->  vector number           pushed by the stub
;           error code              pushed by the CPU for some vectors, else a 0 from the stub
;           RIP, CS, RFLAGS, RSP, SS   pushed by the CPU: where the program was
;
; The `out` makes the vCPU exit (KVM_EXIT_IO). The VMM reads this frame from
; guest memory at RSP, explains the exception and ends the run. It believes a
; report only from this `out` (its address is in the header), in ring 0, with
; RSP where the stubs leave it: the program cannot write to this port from
; ring 3 (`out` is privileged), nor reach this code or its stack (kernel pages)
; other than through an exception the CPU delivers, with the frame it pushes.
; ---------------------------------------------------------------------------
%macro exception_stub 1
exception_%1:
%if %1 != 8 && %1 != 17 && %1 != 21 && %1 != 29 && %1 != 30 && (%1 < 10 || %1 > 14)
    push 0                          ; this vector has no error code: push one for it
%endif
    push %1
    jmp exception_report
%endmacro

%assign vector 0
%rep 32
    exception_stub vector
%assign vector vector + 1
%endrep

exception_report:
    out EXCEPTION_PORT, al          ; the value does not matter, the exit does
    jmp exception_report            ; a faulted program is never resumed

; ---------------------------------------------------------------------------
; The IDT: one 16-byte interrupt gate per exception vector (SDM vol. 3A,
; 6.14.1, figure 6-8). IST = 1: the CPU always switches to the exception
; stack, whatever the program did to its own stack, and from ring 3 as well.
;
; The gates are DPL 0, but #BP's is DPL 3, as in Linux: `int3` is a software
; interrupt, and the CPU delivers one from ring 3 only through a gate of DPL 3
; (through the others it raises #GP instead). So an int3 in the program, its
; own or a debugger's, is a #BP whose frame says where it was (RIP just past
; it). Where the hypervisor does not intercept #BP (QEMU's emulated AMD-V),
; the VMM's gdb stub recognizes its breakpoints in that report.
; ---------------------------------------------------------------------------
%define address_of(label) ((label) - $$ + BOOT_ADDRESS)  ; a plain number, for bit arithmetic

    align 16
idt:
%assign vector 0
%rep 32
    dw address_of(exception_%+vector) & 0xFFFF  ; handler address, bits 0-15
    dw KERNEL_CS                    ; handlers run in ring 0
    db 1                            ; IST1
%if vector == 3
    db 0xEE                         ; present, DPL 3 (int3 from ring 3), 64-bit interrupt gate
%else
    db 0x8E                         ; present, DPL 0, 64-bit interrupt gate (IF cleared on entry)
%endif
    dw address_of(exception_%+vector) >> 16     ; bits 16-31
    dd 0                            ; bits 32-63
    dd 0                            ; reserved
%assign vector vector + 1
%endrep
idt_end:

idt_pointer:
    dw idt_end - idt - 1
    dq idt

; The 64-bit TSS (SDM vol. 3A, 8.7, figure 8-11) holds no task state any more,
; only stack pointers: RSP0 for entering ring 0 from ring 3 through a gate
; without an IST entry, and the IST stacks. Every gate here names IST1, and
; `syscall` switches no stack, so RSP0 is never used: it holds the exception
; stack too, so that a gate added without IST would still find a stack.
    align 16
tss:
    dd 0
    dq EXCEPTION_STACK              ; RSP0
    dq 0, 0                         ; RSP1, RSP2: rings 1 and 2 are not used
    dq 0
    dq EXCEPTION_STACK              ; IST1
    dq 0, 0, 0, 0, 0, 0             ; IST2-7
    dq 0
    dw 0
    dw tss_end - tss                ; I/O permission bitmap: none (it would start past the end)
tss_end:

; ---------------------------------------------------------------------------
; The GDT (Intel SDM vol. 3A, 3.4.5 "Segment descriptors"). In 64-bit mode base
; and limit are ignored; what matters are the type, DPL, P, L and D bits.
; ---------------------------------------------------------------------------
    align 8
gdt:
    dq 0                            ; 0x00: the null descriptor, required
    dq 0x00CF9A000000FFFF           ; 0x08: 32-bit code, ring 0, base 0, limit 4 GiB (G, D)
    dq 0x00AF9A000000FFFF           ; 0x10: 64-bit code, ring 0 (L = 1, D = 0)
    dq 0x00CF92000000FFFF           ; 0x18: data, ring 0, writable, 4 GiB
    dq 0x00CFFA000000FFFF           ; 0x20: 32-bit code, ring 3 (unused, but STAR implies it)
    dq 0x00CFF2000000FFFF           ; 0x28: data, ring 3, writable
    dq 0x00AFFA000000FFFF           ; 0x30: 64-bit code, ring 3
    ; 0x38: the TSS, a 16-byte system descriptor (SDM vol. 3A, 8.2.3, figure 8-4)
    dw tss_end - tss - 1            ; limit
    dw address_of(tss) & 0xFFFF     ; base, bits 0-15
    db (address_of(tss) >> 16) & 0xFF  ; base, bits 16-23
    db 0x89                         ; present, DPL 0, type 9: available 64-bit TSS
    db 0                            ; limit bits 16-19 and flags
    db address_of(tss) >> 24        ; base, bits 24-31
    dd 0                            ; base, bits 32-63
    dd 0                            ; reserved
gdt_end:

gdt_pointer:
    dw gdt_end - gdt - 1            ; limit: size in bytes minus one
    dd gdt                          ; linear base address
