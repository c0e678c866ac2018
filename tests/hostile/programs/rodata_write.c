/* Writes into a string literal, which the linker puts in .rodata, a read-only
   segment: on Linux a SIGSEGV, in the VM a protection violation. */
int main(void)
{
    volatile char *volatile text = (volatile char *)"read-only";
    text[0] = 'R';
    return 0;
}
