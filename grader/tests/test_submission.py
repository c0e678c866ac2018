"""Reading what students hand in: folders and archives, nested or not, and
nothing but the three files the grader needs."""
import io
import os
import tarfile
import zipfile

from grader.intake import submission
from grader.tests.conftest import fresh

MANAGER = b"// my VMM\n"


def tar(path, members):
    with tarfile.open(path, "w:gz") as archive:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, data
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return path


def test_a_folder_shaped_like_lab2():
    folder = fresh("sub-folder") / "alice"
    (folder / "vm_manager").mkdir(parents=True)
    (folder / "vm_manager" / "manager.cpp").write_bytes(MANAGER)
    (folder / "app_guess.c").write_bytes(b"int main(void){return 0;}\n")
    (folder / "ANSWERS.md").write_bytes(b"# answers\n")

    taken = submission.load(folder)

    assert taken.name == "alice" and not taken.problem
    assert taken.manager == MANAGER and taken.guess and taken.answers


def test_a_zip_with_the_lab2_folder_inside():
    path = fresh("sub-zip") / "bob smith.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("lab2/vm_manager/manager.cpp", MANAGER)
        archive.writestr("lab2/vm_src/Makefile", b"all:\n")

    taken = submission.load(path)

    assert taken.name == "bob_smith" and taken.manager == MANAGER and taken.guess is None


def test_an_archive_cannot_escape_or_smuggle_links():
    path = tar(fresh("sub-tar") / "eve.tar.gz", [
        ("../vm_manager/manager.cpp", b"outside", "file"),
        ("lab2/app_guess.c", "/etc/passwd", "link"),
        ("lab2/vm_manager/manager.cpp", MANAGER, "file")])

    taken = submission.load(path)

    assert taken.manager == MANAGER
    assert taken.guess is None
    assert not (path.parent.parent / "vm_manager").exists()


def test_a_symlink_in_a_folder_is_not_followed():
    folder = fresh("sub-link") / "mallory"
    (folder / "vm_manager").mkdir(parents=True)
    os.symlink("/etc/hostname", folder / "vm_manager" / "manager.cpp")

    taken = submission.load(folder)

    assert taken.manager is None and "no vm_manager/manager.cpp" in taken.problem


def test_an_oversized_file_is_ignored_with_a_note():
    path = tar(fresh("sub-big") / "big.tar.gz",
               [("vm_manager/manager.cpp", b"x" * (submission.MAX_FILE + 1), "file")])

    taken = submission.load(path)

    assert taken.manager is None and any("larger than" in note for note in taken.notes)


def test_a_broken_archive_is_a_problem_not_a_crash():
    path = fresh("sub-broken") / "broken.zip"
    path.write_bytes(b"not a zip")

    taken = submission.load(path)

    assert "cannot be read" in taken.problem


def test_an_encrypted_zip_is_a_problem_not_a_crash():
    path = fresh("sub-encrypted") / "carol.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("lab2/vm_manager/manager.cpp", MANAGER)
    data = bytearray(path.read_bytes())
    # General-purpose flag bit 0, "encrypted", in the local and central headers
    # (APPNOTE 4.4.4), as `zip -e` sets it: zipfile refuses to read the member.
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        header = data.index(signature)
        data[header + flags_at] |= 1
    path.write_bytes(bytes(data))

    taken = submission.load(path)

    assert "carol.zip cannot be read (RuntimeError" in taken.problem


def test_a_gradescope_upload_that_is_one_archive():
    folder = fresh("sub-gradescope") / "submission"
    folder.mkdir()
    with zipfile.ZipFile(folder / "lab2.zip", "w") as archive:
        archive.writestr("lab2/vm_manager/manager.cpp", MANAGER)

    taken = submission.load(folder)

    assert taken.manager == MANAGER
