// A Step 3 guess written with stdio, as a student may write it: the same file
// and bytes as the lab program, through fopen, fputs and fclose.
#include <stdio.h>

int main(void)
{
    FILE* file = fopen("./ay_caramba", "w+");
    if (file == NULL) {
        return 1;
    }
    fputs("Hello World !!!\n", file);
    fputs("Bye Bye !!!\n", file);
    return fclose(file) == 0 ? 0 : 1;
}
