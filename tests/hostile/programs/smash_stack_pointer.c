/* Points its stack outside guest memory and calls a function: the push faults,
   and the exception must still be reported (the handler has its own stack). */
int main(void)
{
    __asm__ volatile("mov $0x7ff000000000, %rsp\n\tcall 1f\n1:");
    return 0;
}
