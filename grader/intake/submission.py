"""What a student handed in: a folder, a .tar.gz or a .zip shaped like lab2/.

Only these files are taken from it, wherever they sit (at the top, or under
one folder such as lab2/):

    vm_manager/manager.cpp   required: the student's VMM
    app_guess.c              optional: the Step 3 program
    ANSWERS.md               optional: answers to the questions, graded by hand
    samples/*.c, challenge/*.c
                             optional: programs to practise on (make check
                             runs them, for no points)

Nothing else is extracted or run. Archives are read in memory, member by
member; links, devices and oversized files are ignored, so an archive cannot
write anywhere or fill the disk.
"""
import re
import stat
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MANAGER, GUESS, ANSWERS = "vm_manager/manager.cpp", "app_guess.c", "ANSWERS.md"
WANTED = (MANAGER, GUESS, ANSWERS)
MAX_FILE = 1 << 20  # bytes: larger files are not taken
MAX_MEMBERS = 5000
PRACTICE_FOLDERS = ("samples", "challenge")  # beside vm_manager/ in lab2/
MAX_PRACTICE = 20  # programs a folder may bring
# A practice program's name becomes its file name in the sandbox.
PRACTICE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\.c")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")


@dataclass
class Submission:
    name: str
    files: dict = field(default_factory=dict)  # {one of WANTED: bytes}
    notes: list = field(default_factory=list)  # what the student should know about the upload
    problem: str = ""  # why it cannot be graded at all (unreadable archive)
    # {"samples/journal.c": bytes, ...}: the programs make check practises on
    practice: dict = field(default_factory=dict)
    practice_notes: list = field(default_factory=list)  # what make check says about them

    @property
    def manager(self):
        return self.files.get(MANAGER)

    @property
    def guess(self):
        return self.files.get(GUESS)

    @property
    def answers(self):
        return self.files.get(ANSWERS)


def student_name(path):
    """A name for the gradebook: the folder's or archive's name, without suffix."""
    name = Path(path).name
    for suffix in ARCHIVE_SUFFIXES:
        if name.endswith(suffix):
            name = name[:-len(suffix)]
            break
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", name).strip("._") or "student"


def find(directory):
    """[(student name, path)]: each folder, .tar.gz or .zip of a SUBMISSIONS
    `directory`, in name order; two that would have the same name (alice/ and
    alice.zip) are told apart as alice and alice-2, everywhere."""
    found, names = [], set()
    for path in sorted(Path(directory).iterdir()):
        if not is_submission(path):
            continue
        name, number = student_name(path), 2
        base = name
        while name in names:
            name, number = f"{base}-{number}", number + 1
        names.add(name)
        found.append((name, path))
    return found


def is_submission(path):
    path = Path(path)
    if path.name.startswith("."):
        return False
    return path.is_dir() or (path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES))


def _choose(candidates, submission):
    """From {member path: reader}, the wanted files, preferring the shallowest."""
    for wanted in WANTED:
        matches = sorted((p for p in candidates
                          if p.as_posix() == wanted or p.as_posix().endswith("/" + wanted)),
                         key=lambda p: (len(p.parts), p.as_posix()))
        if wanted == MANAGER and not matches:
            # A manager.cpp without its vm_manager/ folder: take it, and say so.
            matches = sorted((p for p in candidates if p.name == "manager.cpp"),
                             key=lambda p: (len(p.parts), p.as_posix()))
            if matches:
                submission.notes.append(f"manager.cpp was found at {matches[0]}, not in a "
                                        "vm_manager/ folder as in lab2/; it was graded anyway.")
        if not matches:
            continue
        data = candidates[matches[0]]()
        if data is None:
            submission.notes.append(f"{matches[0]} is larger than {MAX_FILE} bytes: ignored.")
            continue
        submission.files[wanted] = data
        if len(matches) > 1:
            submission.notes.append(f"several {PurePosixPath(wanted).name} files: graded "
                                    f"{matches[0]}.")
    for folder in PRACTICE_FOLDERS:
        _choose_practice(candidates, submission, folder)


def _choose_practice(candidates, submission, folder):
    """The .c files of the shallowest `folder`/ (the one beside vm_manager/
    in lab2/), at most MAX_PRACTICE of them."""
    folders = sorted({p.parent for p in candidates if p.parent.name == folder},
                     key=lambda p: (len(p.parts), p.as_posix()))
    if not folders:
        return
    names = sorted(p for p in candidates if p.parent == folders[0] and p.suffix == ".c")
    for count, path in enumerate(names):
        if count == MAX_PRACTICE:
            submission.practice_notes.append(f"{folders[0]} has more than {MAX_PRACTICE} "
                                             f"programs: only the first {MAX_PRACTICE} were run.")
            break
        if not PRACTICE_NAME.fullmatch(path.name):
            submission.practice_notes.append(f"{path} was not run: name a program with "
                                             "letters, digits, '_', '-' and '.' only.")
            continue
        data = candidates[path]()
        if data is not None:
            submission.practice[f"{folder}/{path.name}"] = data


def _from_folder(root, submission):
    candidates = {}
    for count, path in enumerate(sorted(Path(root).rglob("*"))):
        if count > MAX_MEMBERS:
            break
        info = path.lstat()
        if stat.S_ISREG(info.st_mode) and not any(p.startswith(".") for p in
                                                   path.relative_to(root).parts):
            candidates[PurePosixPath(path.relative_to(root).as_posix())] = (
                lambda path=path, size=info.st_size: path.read_bytes() if size <= MAX_FILE
                else None)
    _choose(candidates, submission)


def _from_tar(path, submission):
    with tarfile.open(path) as archive:
        members = {}
        for count, member in enumerate(archive):
            if count > MAX_MEMBERS:
                break
            name = PurePosixPath(member.name.lstrip("/"))
            if member.isreg() and ".." not in name.parts:
                members[name] = member
        _choose({name: (lambda m=m: archive.extractfile(m).read() if m.size <= MAX_FILE
                        else None) for name, m in members.items()}, submission)


def _from_zip(path, submission):
    with zipfile.ZipFile(path) as archive:
        members = {}
        for info in archive.infolist()[:MAX_MEMBERS]:
            name = PurePosixPath(info.filename.lstrip("/"))
            is_link = stat.S_ISLNK(info.external_attr >> 16)
            if not info.is_dir() and not is_link and ".." not in name.parts:
                members[name] = info
        _choose({name: (lambda i=i: archive.read(i) if i.file_size <= MAX_FILE else None)
                 for name, i in members.items()}, submission)


def load(path, name=None):
    """Reads a submission. Never raises for a bad upload: `problem` says what is wrong."""
    path = Path(path)
    submission = Submission(name or student_name(path))
    try:
        if path.is_dir():
            _from_folder(path, submission)
            if submission.manager is None:  # an upload that is one archive (Gradescope)
                inner = sorted(p for p in path.iterdir() if p.is_file() and not p.is_symlink()
                               and p.name.endswith(ARCHIVE_SUFFIXES))
                if len(inner) == 1:
                    found = load(inner[0], submission.name)
                    if not found.problem:
                        found.notes.insert(0, f"graded the files inside {inner[0].name}")
                        return found
        elif path.name.endswith(".zip"):
            _from_zip(path, submission)
        elif path.name.endswith(ARCHIVE_SUFFIXES):
            _from_tar(path, submission)
        else:
            submission.problem = f"{path.name} is neither a folder nor a .tar.gz or .zip archive"
    except Exception as error:  # noqa: BLE001: whatever an upload is, it is not the grader's crash
        # Beyond OSError and the archive modules' errors: an encrypted zip
        # (RuntimeError), deflate64 (NotImplementedError), a corrupt gzip
        # member (zlib.error), a bad date (ValueError)...
        submission.problem = (f"{path.name} cannot be read ({type(error).__name__}: {error}): "
                              "hand in a plain folder, .tar.gz or .zip archive")
    if not submission.problem and submission.manager is None:
        submission.problem = (f"no {MANAGER} in {path.name}: hand in your lab2/ folder (at "
                              f"least {MANAGER}, and app_guess.c for Step 3)")
    return submission


def save(submission, directory):
    """Writes the taken files to `directory` (lab2/'s shape), for the record."""
    directory = Path(directory)
    for name, data in submission.files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)
