/* Exits with the privilege level it runs at: the low two bits of CS (CPL).
   3 when the VMM runs programs in user mode, 0 when it runs them in ring 0. */
int main(void)
{
    unsigned short cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    return cs & 3;
}
