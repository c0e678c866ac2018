"""The pointers a program passes to its system calls reach only the memory it
may use itself (vm_manager/user_memory.hpp), as on Linux, whose copy_from_user
and copy_to_user fail with EFAULT elsewhere: programs/user_pointers.c run
natively, then under the reference VMM, must print the same results and leave
the same file. tests/hw runs it in ring 3 too."""


def test_pointers_reach_only_what_the_program_may_use_as_on_linux(both):
    # NULL once the thread pointer is set, boot.asm's pages (written to a
    # file), read-only data to be filled, memory given back or protected, a
    # path running into an unmapped page, empty buffers in and out of user space.
    native, vm, native_files, vm_files, trace = both("user_pointers")

    assert native.returncode == 0, native.stderr
    assert vm.returncode == 0, vm.stderr + "\n".join(trace[-10:])
    assert vm.stdout == native.stdout
    assert vm_files == native_files


def test_a_bad_fd_is_found_before_a_bad_buffer_as_on_linux(both):
    # An fd not open for the call is EBADF whatever the buffer; then EFAULT
    # (programs/bad_fd_and_buffer.c).
    native, vm, native_files, vm_files, trace = both("bad_fd_and_buffer")

    assert native.returncode == 0, native.stderr
    assert vm.returncode == 0, vm.stderr + "\n".join(trace[-10:])
    assert vm.stdout == native.stdout
    assert vm_files == native_files
    assert "WRITE 3 0 5 - return -9" in trace  # the lab's own call, traced so
