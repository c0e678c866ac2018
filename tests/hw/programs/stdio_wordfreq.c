// The words of a text file and how often each appears, most frequent first:
// fopen, fgets, malloc and realloc, qsort, printf. A musl stdio program of the
// kind a student writes, run natively and under the VMM (test_real_programs.py).
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct word {
    char* text;
    int count;
};

static int by_count_then_text(const void* a, const void* b)
{
    const struct word* x = a;
    const struct word* y = b;
    return x->count != y->count ? y->count - x->count : strcmp(x->text, y->text);
}

int main(int argc, char** argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    FILE* in = fopen(argv[1], "r");
    if (in == NULL) {
        perror(argv[1]);
        return 1;
    }
    struct word* words = NULL;
    size_t count = 0;
    char line[256];
    while (fgets(line, sizeof line, in) != NULL) {
        for (char* token = strtok(line, " \t\n.,"); token; token = strtok(NULL, " \t\n.,")) {
            for (char* c = token; *c; ++c) {
                *c = (char)tolower((unsigned char)*c);
            }
            size_t i = 0;
            while (i < count && strcmp(words[i].text, token) != 0) {
                ++i;
            }
            if (i == count) {
                words = realloc(words, (count + 1) * sizeof *words);
                words[count++] = (struct word){strdup(token), 0};
            }
            ++words[i].count;
        }
    }
    fclose(in);
    qsort(words, count, sizeof *words, by_count_then_text);
    for (size_t i = 0; i < count; ++i) {
        printf("%4d %s\n", words[i].count, words[i].text);
        free(words[i].text);
    }
    free(words);
    return 0;
}
