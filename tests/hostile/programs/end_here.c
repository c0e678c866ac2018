/* Ends itself with a bare system call, exit_group or exit as argv[1] says,
   with the status argv[2]; then executes ud2, so that a call that returned
   crashes it. Linux never comes back from either. */
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 100;
    syscall(strcmp(argv[1], "exit") == 0 ? SYS_exit : SYS_exit_group, atoi(argv[2]));
    __builtin_trap();
}
