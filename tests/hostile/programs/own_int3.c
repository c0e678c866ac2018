/* Executes int3 itself, where no debugger put a breakpoint. Whether or not
   gdb is attached, with breakpoints of its own elsewhere, the VMM must
   report a crash: never take it for a breakpoint of gdb's, never resume. */
int main(void)
{
    __asm__ volatile("int3");
    return 3;
}
