// Copies a file in capitals through a large buffer, appends a line with its
// size, then renames the copy and removes a scratch file: fopen, fread,
// fwrite, fseek, ftell, fprintf, rename, remove, and a 1 MiB malloc (mmap).
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FROM TO\n", argv[0]);
        return 2;
    }
    FILE* in = fopen(argv[1], "rb");
    FILE* out = fopen("copy.tmp", "w+b");
    FILE* scratch = fopen("scratch.tmp", "w");
    if (in == NULL || out == NULL || scratch == NULL) {
        perror("fopen");
        return 1;
    }
    enum { kBufferSize = 1 << 20 };
    unsigned char* buffer = malloc(kBufferSize);
    size_t got;
    while ((got = fread(buffer, 1, kBufferSize, in)) > 0) {
        for (size_t i = 0; i < got; ++i) {
            buffer[i] = (unsigned char)toupper(buffer[i]);
        }
        fwrite(buffer, 1, got, out);
    }
    free(buffer);
    fseek(out, 0, SEEK_END);
    const long size = ftell(out);
    fprintf(out, "-- %ld bytes\n", size);
    fputs("temporary\n", scratch);
    if (fclose(in) || fclose(out) || fclose(scratch)) {
        perror("fclose");
        return 1;
    }
    if (rename("copy.tmp", argv[2]) != 0 || remove("scratch.tmp") != 0) {
        perror("rename");
        return 1;
    }
    printf("copied %ld bytes to %s\n", size, argv[2]);
    return 0;
}
