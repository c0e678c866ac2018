/* report.h: what the tests/e2e programs of the calls beyond the lab's print,
   without printf: musl's printf and malloc use SSE2 integer instructions,
   which KVM cannot emulate in ring 0 on PVM (README, "Ring 3 and ring 0").
   Built with -mgeneral-regs-only, these programs use none. */
#include <unistd.h>

static void say(const char *text)
{
    const char *end = text;
    while (*end) {
        end++;
    }
    write(1, text, end - text);
}

static void say_number(long value)
{
    char digits[24];
    int at = sizeof digits;
    unsigned long magnitude = value < 0 ? -(unsigned long)value : (unsigned long)value;
    do {
        digits[--at] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (value < 0) {
        digits[--at] = '-';
    }
    write(1, digits + at, sizeof digits - at);
}

/* One line: "what value\n". A failed call's value is -errno. */
static void report(const char *what, long value)
{
    say(what);
    say(" ");
    say_number(value);
    say("\n");
}
