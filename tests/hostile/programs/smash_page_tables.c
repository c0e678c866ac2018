/* Overwrites its own page tables (the PML4 at 0x1000) with zeros: the next
   memory access cannot be translated. The guest dies; the VMM must not. */
#include <string.h>

int main(void)
{
    memset((void *)0x1000, 0, 4096);
    return 0;
}
