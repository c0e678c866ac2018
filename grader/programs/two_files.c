/* Hidden test: two files open at once, and the lowest free fd given again
   after a close, as Linux does. */
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
    int a = open("first.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int b = open("second.txt", O_RDWR | O_CREAT, 0666);
    write(a, "one\n", 4);
    write(b, "two\n", 4);
    write(a, "three\n", 6);
    close(a);
    int c = open("third.txt", O_WRONLY | O_CREAT | O_EXCL, 0600); /* a's number again */
    write(c, "four\n", 5);
    write(b, "five\n", 5);
    close(b);
    close(c);
    return 3;
}
