/* Hands the VMM pointers and lengths that do not lie inside guest memory. Each
   call must fail with EFAULT, as Linux does, and the run go on. Exits with the
   number of calls that did not. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

static int failures;

static void expect_efault(long result)
{
    if (result != -1 || errno != EFAULT)
        failures++;
}

int main(void)
{
    static const char text[] = "text";
    expect_efault(write(1, (void *)0xdead0000000, 4));          /* far beyond memory */
    expect_efault(write(1, (void *)UINT64_MAX, 4));              /* the very last byte */
    expect_efault(write(1, text, (size_t)1 << 62));              /* huge length */
    expect_efault(write(1, text, (size_t)0 - (uintptr_t)text));  /* address + length wraps to 0 */
    expect_efault(write(1, text, (size_t)0 - (uintptr_t)text + 16)); /* ... and past 0 */
    expect_efault(open((const char *)0xdead0000000, O_RDONLY));
    expect_efault(open((const char *)-1, O_RDONLY));
    return failures;
}
