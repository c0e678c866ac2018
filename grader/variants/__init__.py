"""One lab program per student: Step 3 cannot be shared.

Every student gets a lab program of their own, drawn from the instructor's
secret and the student's name (their name in the roster): another file name,
other strings and lengths, other flags and mode, another number and order of
writes, another exit status, always within the calls the lab teaches (open
with O_CREAT, write, close, a return from main), so that the statement's
Steps 1-3 fit it. The idea is CS:APP's bomb lab: one bomb per student, from
a secret, graded per student.

    make variants ROSTER=roster.csv [SECRET=file]

writes dist/variants/ (outputs.py). The API, for grading per variant:

    key = secret()                       # bytes; the file is made on first use
    program = variant(key, "alice")      # a Variant: .files, .writes, .closes,
                                         # .status, and .source (its C source)
    build(program, "out/app")            # musl-gcc -static, the lab program's flags
    read_manifest("dist/variants")       # what make variants wrote

The same (secret, student) gives the same Variant and, built, the same
bytes (the manifest's sha256 of each program says so). secret_id(key) names
the secret a manifest was made with (the manifest records it), without
revealing it.
"""
from .build import BuildError, build
from .outputs import read_manifest
from .program import File, Variant, variant
from .secret_file import SecretError, secret, secret_id

__all__ = ["BuildError", "File", "SecretError", "Variant", "build", "read_manifest", "secret",
           "secret_id", "variant"]
