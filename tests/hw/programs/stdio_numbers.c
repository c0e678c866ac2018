// Reads numbers from standard input, with scanf, and prints their sum, mean
// and a table of squares in floating point (SSE): printf's %f, strtod, and
// stdin and stdout that are not terminals (ioctl TCGETS says ENOTTY).
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    double sum = 0, value;
    int count = 0;
    double* values = NULL;
    while (scanf("%lf", &value) == 1) {
        values = realloc(values, (count + 1) * sizeof *values);
        values[count++] = value;
        sum += value;
    }
    printf("count %d sum %.3f mean %.3f\n", count, sum, count ? sum / count : 0.0);
    for (int i = 0; i < count; ++i) {
        printf("%8.2f %12.4e\n", values[i], values[i] * values[i]);
    }
    free(values);
    return count > 0 ? 0 : 1;
}
