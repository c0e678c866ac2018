/* A loop gcc -O3 vectorizes with SSE2 integer instructions (paddd, ...):
   needs SSE enabled by boot.asm (CR0.EM clear, CR4.OSFXSR set). Exits with a
   checksum, the same natively and in the VM. */
static int a[256], b[256];

int main(int argc, char **argv)
{
    (void)argv;
    for (int i = 0; i < 256; i++)
        b[i] = i * 3;
    for (int i = 0; i < 256; i++)
        a[i] = b[i] + argc * i;
    int sum = 0;
    for (int i = 0; i < 256; i++)
        sum += a[i];
    return sum & 0x7f;
}
