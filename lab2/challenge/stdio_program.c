// stdio_program.c: Step 4 (challenge). Everyday C: standard I/O and malloc.
//
// It writes three notes to notes.txt with fprintf, reads them back with fgets
// and prints them numbered with printf, then copies them into a buffer that
// grows with realloc. Run natively, it prints four lines and leaves notes.txt;
// make your VMM do the same (make run-stdio). The statement says which calls
// it needs that the lab program does not.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    FILE* notes = fopen("notes.txt", "w");
    if (notes == NULL) {
        perror("notes.txt");
        return 1;
    }
    const char* topics[] = {"fopen and fclose", "malloc needs brk or mmap",
                            "is stdout a terminal? ioctl"};
    for (int i = 0; i < 3; i++) {
        fprintf(notes, "note %d: %s\n", i + 1, topics[i]);
    }
    fclose(notes);

    notes = fopen("notes.txt", "r");
    if (notes == NULL) {
        perror("notes.txt");
        return 1;
    }
    char line[128];
    char* all = NULL;
    size_t size = 0;
    int count = 0;
    while (fgets(line, sizeof line, notes) != NULL) {
        printf("%2d | %s", ++count, line);
        all = realloc(all, size + strlen(line) + 1);
        strcpy(all + size, line);
        size += strlen(line);
    }
    fclose(notes);
    printf("%d notes, %zu bytes\n", count, size);
    free(all);
    return count == 3 ? 0 : 1;
}
