/* Without musl's start-up (-nostdlib): reads page 0, where the thread area
   stands in while the FS base is 0, so that the vCPU caches its translation;
   sets the thread pointer with arch_prctl(ARCH_SET_FS); checks that FS now
   points at its own area; then reads page 0 again. That read must fault: the
   VMM unmapped page 0 and the vCPU must not use the translation it cached.
   Exits 1 if the read worked, 2 if arch_prctl failed, 3 if FS is wrong. */
#include <stdint.h>

#define SYS_exit 60
#define SYS_arch_prctl 158
#define ARCH_SET_FS 0x1002

static uint64_t thread_area[8];

static long syscall2(long number, long a, long b)
{
    long result;
    __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return result;
}

static void leave(int status)
{
    syscall2(SYS_exit, status, 0);
    for (;;) {
    }
}

void _start(void)
{
    const volatile uint64_t *volatile page_0 = (const volatile uint64_t *)0x28;
    uint64_t value = *page_0;
    thread_area[5] = value + 0x5ca1ab1e;
    if (syscall2(SYS_arch_prctl, ARCH_SET_FS, (long)thread_area) != 0)
        leave(2);
    uint64_t through_fs;
    __asm__ volatile("mov %%fs:0x28, %0" : "=r"(through_fs));
    if (through_fs != thread_area[5])
        leave(3);
    value = *page_0;
    leave(1);
}
