/* Forges an exception report: a frame that says "page fault in user mode at
   0x1234", written where boot.asm's stubs leave theirs, then the `out` to the
   exception port, either its own (argument "out") or boot.asm's, found through
   the boot header (argument "jump"). In ring 3 neither is possible (`out` is
   privileged, boot.asm's pages are ring 0's); in ring 0 the VMM must refuse
   the first and say that the details of the second come from the guest. */
#include <stdint.h>
#include <string.h>

#define BOOT_IMAGE 0x8000           /* guest_layout.hpp: also the top of the exception stack */
#define EXCEPTION_REPORT_FIELD 0x20 /* offsetof(BootHeader, exception_report) */

int main(int argc, char **argv)
{
    /* vector, error code, then what the CPU pushes: RIP, CS, RFLAGS, RSP, SS */
    static const uint64_t frame[7] = {14, 6, 0x1234, 0x33, 0x202, 0x7ff000, 0x2b};
    if (argc > 1 && strcmp(argv[1], "jump") == 0) {
        uint64_t report = *(volatile uint64_t *)(BOOT_IMAGE + EXCEPTION_REPORT_FIELD);
        uint64_t *stack = (uint64_t *)BOOT_IMAGE - 7;
        memcpy(stack, frame, sizeof frame);
        __asm__ volatile("mov %0, %%rsp\n\tjmp *%1" : : "r"(stack), "r"(report) : "memory");
    } else {
        __asm__ volatile("push $0x2b\n\tpush $0x7ff000\n\tpush $0x202\n\tpush $0x33\n\t"
                         "push $0x1234\n\tpush $6\n\tpush $14\n\tout %%al, $0xe0" : : : "memory");
    }
    return 0;
}
