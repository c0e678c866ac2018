/* Writes to its standard output, 1 MiB at a time, until a write fails: sent
   to a file, its output meets the guest's file-size limit. Exits 0 when the
   failure was EFBIG. */
#include <errno.h>
#include <unistd.h>

static char chunk[1 << 20];

int main(void)
{
    for (int i = 0; i < 128; i++) {
        if (write(1, chunk, sizeof chunk) < 0)
            return errno == EFBIG ? 0 : 2;
    }
    return 1; /* 128 MiB written: no limit */
}
