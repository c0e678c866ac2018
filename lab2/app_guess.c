/* Step 3: the program you believe the VM runs, reconstructed from its trace.
 *
 * Build it and run it under your VMM, from lab2/vm_src:
 *     musl-gcc -static -o app_guess ../app_guess.c
 *     ../../build/lab2/vm_manager ./app_guess
 * Its trace (buffer addresses aside) and its file must match the lab program's.
 */

int main(void)
{
    return 0;
}
