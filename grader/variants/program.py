"""One student's lab program: its parameters, drawn from (secret, student), and
its C source.

Every choice stays inside what the lab teaches and what Steps 1-3 of the
statement assume: open with O_CREAT and a mode, write string literals, close,
and a return from main with a status (musl's exit turns it into exit_group,
then exit: the trace's `EXIT <status>`). Deliberately left out:

- O_EXCL: a second run in the same directory (make run, then Step 3's run of
  app_guess beside it) would fail with EEXIST and show another trace;
- names with a slash: the guest's paths resolve in its working directory, and
  a name is all Step 3 needs to guess;
- strings with quotes, backslashes or "??" (a trigraph): what the trace shows
  is then exactly what the student types in app_guess.c.

The draws come from HMAC-SHA256(secret, student), read as a stream of
numbers: the same secret and student give the same program on any machine,
and nobody without the secret can work out a classmate's program. Changing
the word lists or the order of the draws below changes every student's
program: never do it during a term.
"""
import hashlib
import hmac
from dataclasses import dataclass

# Bart's "ay caramba" has friends: the names of the files a program creates.
FILE_NAMES = ("cowabunga", "eat_my_shorts", "doh", "woohoo", "excellent", "okily_dokily",
              "mmm_donuts", "ha_ha", "why_you_little", "hi_diddly_ho", "d_oh_nuts", "spiderpig",
              "embiggen", "cromulent", "meh", "kwyjibo", "dental_plan", "lisa_needs_braces",
              "monorail", "steamed_hams", "boo_urns", "yoink", "in_rod_we_trust", "jebediah")
FILE_SUFFIXES = ("", ".txt", ".log", ".out")
# The words of the strings the program writes.
WORDS = ("Hello", "World", "Bye", "Good", "Night", "Hi", "There", "Ciao", "Salut", "Hola",
         "Bonjour", "Tschuss", "Adios", "Cheers", "Ahoy", "Howdy", "Farewell", "Greetings",
         "See", "You", "Later", "Soon", "Again", "Friend", "Everyone", "Folks", "Moon", "Sun",
         "Stars", "Kernel", "Guest", "Host", "VM", "CPU", "Exit", "Trap", "Page", "Ring")
ENDINGS = ("", " !", " !!!", ".", "...", " :)", " ?", " #42", " (bis)")
ACCESS_MODES = ("O_WRONLY", "O_RDWR")
EXTRA_FLAGS = (None, "O_TRUNC", "O_APPEND")
MODES = (0o600, 0o640, 0o644, 0o660, 0o666, 0o755, 0o777)
EXIT_STATUSES = range(0, 8)


@dataclass(frozen=True)
class File:
    """One file the program opens (and creates)."""
    name: str
    flags: tuple  # the C names, e.g. ("O_RDWR", "O_CREAT", "O_TRUNC")
    mode: int


@dataclass(frozen=True)
class Variant:
    """A student's lab program. `writes` are (index in `files`, text), in the
    order the program makes them; `closes` are indexes in `files`."""
    student: str
    files: tuple
    writes: tuple
    closes: tuple
    status: int

    @property
    def source(self):
        """The program's C source, in the style of the kit's vm_src/src/app.c."""
        names = ["fd"] if len(self.files) == 1 else [f"fd{i + 1}" for i in range(len(self.files))]
        lines = ["/* The program of Lab 2, run inside the micro-VM: the variant of "
                 f"{_comment_safe(self.student)}. */",
                 "#include <fcntl.h>", "#include <unistd.h>", "", "int main(void)", "{"]
        for name, file in zip(names, self.files):
            lines.append(f'    int {name} = open("{file.name}", {" | ".join(file.flags)}, '
                         f"0{file.mode:o});")
        for index, text in self.writes:
            lines.append(f'    write({names[index]}, "{_c_string(text)}", {len(text)});')
        for index in self.closes:
            lines.append(f"    close({names[index]});")
        lines += [f"    return {self.status};", "}", ""]
        return "\n".join(lines)


class _Draws:
    """A stream of numbers drawn from HMAC-SHA256(secret, student): block i is
    SHA-256 of that key and i. Each number takes 8 bytes; 2**64 is so much
    larger than any choice made here that the modulo's bias is negligible."""

    def __init__(self, secret, student):
        self._key = hmac.new(secret, b"lab2 variant\0" + student.encode(), hashlib.sha256).digest()
        self._counter = 0
        self._buffer = b""

    def below(self, limit):
        """A number in range(limit)."""
        if len(self._buffer) < 8:
            self._buffer += hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        number, self._buffer = int.from_bytes(self._buffer[:8], "big"), self._buffer[8:]
        return number % limit

    def choice(self, options):
        return options[self.below(len(options))]

    def shuffled(self, items):
        """A permutation of `items` (Fisher-Yates)."""
        items = list(items)
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]
        return items


def variant(secret, student):
    """The lab program of `student` (a roster name) under the instructor's
    `secret` (bytes). Deterministic: the same arguments give the same Variant."""
    draw = _Draws(secret, student)
    file_count = 1 + draw.below(2)
    names = draw.shuffled(FILE_NAMES)[:file_count]
    files = tuple(File(name + draw.choice(FILE_SUFFIXES),
                       tuple(f for f in (draw.choice(ACCESS_MODES), "O_CREAT",
                                         draw.choice(EXTRA_FLAGS)) if f),
                       draw.choice(MODES)) for name in names)
    # 1 to 4 writes in all, each file written at least once, in a drawn order.
    write_count = file_count + draw.below(5 - file_count)
    targets = list(range(file_count)) + [draw.below(file_count)
                                         for _ in range(write_count - file_count)]
    writes = tuple((index, _text(draw)) for index in draw.shuffled(targets))
    closes = tuple(draw.shuffled(range(file_count)))
    return Variant(student, files, writes, closes, draw.choice(EXIT_STATUSES))


def _text(draw):
    """One line of printable ASCII: one to four words, an ending, a newline."""
    words = [draw.choice(WORDS) for _ in range(1 + draw.below(4))]
    return " ".join(words) + draw.choice(ENDINGS) + "\n"


def _c_string(text):
    """A C string literal's contents: the texts are printable ASCII but for the
    final newline."""
    return text.replace("\n", "\\n")


def _comment_safe(text):
    return text.replace("*/", "* /")
