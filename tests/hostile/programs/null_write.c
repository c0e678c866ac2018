/* Writes through a NULL pointer in main(). On Linux that is a SIGSEGV: page 0
   is never mapped. In the VM, page 0 stands in for the thread area only until
   musl's start-up sets the thread pointer (arch_prctl), before main(). */
int main(void)
{
    volatile int *volatile pointer = 0;
    *pointer = 42;
    return 0;
}
