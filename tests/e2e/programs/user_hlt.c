/* Executes hlt itself. In ring 3 that is a general protection fault (hlt is
   privileged): the program must not be able to fake a system call. */
int main(void)
{
    __asm__ volatile("hlt");
    return 7;
}
