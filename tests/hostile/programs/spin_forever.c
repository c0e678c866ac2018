/* Spins without a system call and with interrupts off: only the VMM's
   --timeout can end it. */
int main(void)
{
    for (;;)
        __asm__ volatile("pause");
}
