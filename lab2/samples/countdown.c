// arguments: 3
/* Sample: output on standard output, an argument, and an exit status other
   than 0. Counts down from its argument, one digit from 1 to 9, one line per
   write, and exits with the number it started from. The line above gives its
   arguments: run it as ./countdown 3. Its buffer is on the stack, which is
   elsewhere natively: compare the WRITE lines without their addresses. */
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] < '1' || argv[1][0] > '9' || argv[1][1] != '\0') {
        write(2, "usage: countdown DIGIT\n", 23);
        return 100;
    }
    char line[2] = {argv[1][0], '\n'};
    for (; line[0] > '0'; line[0]--)
        write(1, line, 2);
    write(1, "liftoff\n", 8);
    return argv[1][0] - '0';
}
