/* file_workload.c: the guest of `make bench`'s workload figures (bench/README.md):
   real work on a file, not a loop of empty calls.

     file_workload checksum FILE     reads FILE in 64 KiB pieces and prints the
                                     FNV-1a hash of its bytes (work per byte,
                                     few calls)
     file_workload reads FILE N      makes N reads of 64 bytes from FILE,
                                     going back to its start at its end
                                     (little work, many calls)

   Built with musl-gcc -static and -mgeneral-regs-only, like the lab program
   it uses no SSE2 integer instructions, which KVM cannot emulate in ring 0
   on PVM: the same binary runs natively, under qemu-x86_64 and under the VMM
   on every machine. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buffer[64 * 1024];

static void print_hex(uint64_t value)
{
    char text[17];
    for (int i = 15; i >= 0; --i, value >>= 4) {
        text[i] = "0123456789abcdef"[value & 15];
    }
    text[16] = '\n';
    write(1, text, sizeof text);
}

int main(int argc, char** argv)
{
    if (argc < 3) {
        return 2;
    }
    const int file = open(argv[2], O_RDONLY);
    if (file < 0) {
        return 1;
    }
    uint64_t hash = 0xcbf29ce484222325u; /* FNV-1a, 64 bits */
    if (strcmp(argv[1], "checksum") == 0) {
        ssize_t got;
        while ((got = read(file, buffer, sizeof buffer)) > 0) {
            for (ssize_t i = 0; i < got; ++i) {
                hash = (hash ^ (unsigned char)buffer[i]) * 0x100000001b3u;
            }
        }
    } else if (argc == 4 && strcmp(argv[1], "reads") == 0) {
        for (long n = atol(argv[3]); n > 0; --n) {
            ssize_t got = read(file, buffer, 64);
            if (got <= 0) {
                lseek(file, 0, SEEK_SET);
                got = read(file, buffer, 64);
            }
            hash = (hash ^ (unsigned char)buffer[0]) * 0x100000001b3u;
        }
    } else {
        return 2;
    }
    print_hex(hash);
    return 0;
}
