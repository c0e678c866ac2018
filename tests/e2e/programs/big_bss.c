/* Needs about 16 MiB of memory: more than the default guest memory. */
static char big[16 << 20];

int main(void)
{
    big[sizeof big - 1] = 1;
    return big[0];
}
