/* Writes to an address far beyond guest memory: the guest faults. */
int main(void)
{
    *(volatile int *)0x40000000 = 1;
    return 0;
}
