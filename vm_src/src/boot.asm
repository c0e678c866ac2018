; boot.asm: the only "kernel" of the ScratchVM micro-VM.
;
; The VMM loads this flat binary at BOOT_ADDRESS, puts the vCPU in 16-bit real
; mode with CS:IP = 0000:BOOT_ADDRESS and lets it run. This code then:
;   1. switches to 32-bit protected mode (a GDT and CR0.PE),
;   2. switches to 64-bit long mode (CR4.PAE, the VMM's page tables in CR3,
;      EFER.LME, CR0.PG) and enables SSE, which musl's code uses,
;   3. programs the syscall MSRs so that the program's `syscall` instruction
;      jumps to syscall_entry below,
;   4. starts the program at its ELF entry point, on the stack the VMM built.
;
; syscall_entry is the whole kernel: it executes `hlt`, which makes the vCPU
; leave the VM (KVM_EXIT_HLT). The VMM reads the system call from the
; registers, performs it on the host, writes the result in RAX and resumes the
; vCPU, which returns to the program.
;
; References: Intel SDM vol. 3A, 9.9 "Mode switching" and 9.8.5 "Initializing
; IA-32e mode"; vol. 2B, SYSCALL and SYSRET; AMD APM vol. 2, 6.1 "SYSCALL and
; SYSRET". Selectors follow Linux's GDT layout (arch/x86/include/asm/segment.h).

BOOT_ADDRESS    equ 0x8000          ; below 64 KiB, so real mode reaches it with CS = 0

; GDT selectors (index * 8, plus the requested privilege level in bits 0-1).
KERNEL32_CS     equ 0x08            ; 32-bit code, ring 0: used only while booting
KERNEL_CS       equ 0x10            ; 64-bit code, ring 0
KERNEL_DS       equ 0x18            ; data, ring 0
USER32_CS       equ 0x23            ; 32-bit code, ring 3: only its place matters (STAR)
USER_DS         equ 0x2b            ; data, ring 3
USER_CS         equ 0x33            ; 64-bit code, ring 3

; Control-register and MSR bits, named as in the Intel SDM vol. 3A, 2.5 and 2.2.1.
CR0_PE          equ 1 << 0          ; protection enable
CR0_MP          equ 1 << 1          ; monitor coprocessor: with TS, makes wait/fwait trap (needed for SSE)
CR0_EM          equ 1 << 2          ; x87 emulation: must be clear, or every SSE instruction raises #UD
CR0_NE          equ 1 << 5          ; report x87 errors as exceptions (#MF), not through an external pin
CR0_PG          equ 1 << 31         ; paging
CR4_PAE         equ 1 << 5          ; physical address extension: required for long mode
CR4_OSFXSR      equ 1 << 9          ; the OS saves SSE state with fxsave: enables SSE instructions
CR4_OSXMMEXCPT  equ 1 << 10         ; the OS handles SIMD exceptions (#XM) instead of #UD
MSR_EFER        equ 0xC0000080      ; extended feature enable register
EFER_SCE        equ 1 << 0          ; syscall/sysret enable
EFER_LME        equ 1 << 8          ; long mode enable (becomes active when CR0.PG is set)
MSR_STAR        equ 0xC0000081      ; segment selectors loaded by syscall and sysret
MSR_LSTAR       equ 0xC0000082      ; RIP loaded by syscall in 64-bit mode
MSR_SFMASK      equ 0xC0000084      ; RFLAGS bits cleared by syscall

    org BOOT_ADDRESS

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

    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME | EFER_SCE     ; long mode, and the syscall instruction
    wrmsr

    mov eax, cr0
    and eax, ~CR0_EM                ; no x87 emulation: SSE instructions execute
    or eax, CR0_PG | CR0_MP | CR0_NE  ; paging on: with EFER.LME set, this activates long mode
    mov cr0, eax
    jmp KERNEL_CS:start64           ; loading a 64-bit code segment leaves compatibility mode

; ---------------------------------------------------------------------------
; Stage 3: 64-bit long mode, ring 0.
; ---------------------------------------------------------------------------
    bits 64
start64:
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

    ; LSTAR: where syscall jumps. One of two stubs, depending on the ring the
    ; program runs in; the VMM decides and tells us in the header.
    mov ecx, MSR_LSTAR
    mov eax, syscall_entry_ring0
    cmp qword [user_mode], 0
    je .set_lstar
    mov eax, syscall_entry_ring3
.set_lstar:
    xor edx, edx                    ; the stubs lie below 4 GiB: the high half is 0
    wrmsr

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
    ; (see README): the program simply runs at our privilege level.
    jmp [program_entry]

; ---------------------------------------------------------------------------
; The system call entry points: the program's `syscall` lands here, with
; RCX = the address to return to and R11 = the program's RFLAGS.
; `hlt` makes the vCPU exit to the VMM (KVM_EXIT_HLT): it reads the call from
; RAX, RDI, RSI, RDX, R10, R8, R9, performs it, puts the result in RAX, and
; resumes the vCPU at the instruction after `hlt`.
; ---------------------------------------------------------------------------
syscall_entry_ring3:
    hlt
    o64 sysret                      ; back to ring 3: RIP = RCX, RFLAGS = R11

syscall_entry_ring0:
    hlt
    jmp rcx                         ; no ring to change: just go back. No push/pop either:
                                    ; the program may keep data in the 128-byte red zone below RSP

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
gdt_end:

gdt_pointer:
    dw gdt_end - gdt - 1            ; limit: size in bytes minus one
    dd gdt                          ; linear base address
