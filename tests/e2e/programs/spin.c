/* Never exits and never makes a system call after start-up. */
int main(void)
{
    for (;;)
        __asm__ volatile("");
}
