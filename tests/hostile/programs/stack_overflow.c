/* Recurses until the stack runs out. Linux stops it with a SIGSEGV at its
   stack limit; in the VM the stack's 256 KiB are followed by unmapped memory. */
static int depth(volatile char *previous, unsigned long levels)
{
    volatile char frame[4096];
    frame[0] = previous ? previous[0] + 1 : 0;
    if (levels == 0)
        return frame[0];
    return depth(frame, levels - 1) + frame[0];
}

int main(void)
{
    return depth(0, ~0ul);
}
