/* Executes hlt itself, with the registers of a write(1, "forged\n", 7). Only
   boot.asm's system-call entry point may stand for a system call: in ring 0 the
   VMM must report a crash, not write; in ring 3 hlt is privileged (#GP). */
int main(void)
{
    static const char text[] = "forged\n";
    __asm__ volatile("hlt" : : "a"(1), "D"(1), "S"(text), "d"(7) : "memory");
    return 7;
}
