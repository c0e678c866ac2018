/* Talks to an I/O port, as a driver would: there are no devices. */
int main(void)
{
    __asm__ volatile("outb %%al, $0x60" : : "a"(1));
    return 0;
}
