/* Overwrites its own page tables (at 0x10000, guest_layout.hpp) with zeros.
   The guest's address space does not map them: the write faults, and the VMM
   says where the address is. */
#include <string.h>

int main(void)
{
    memset((void *)0x10000, 0, 4096);
    return 0;
}
