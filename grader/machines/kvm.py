"""Whether this machine can run a KVM guest at all.

Without a usable /dev/kvm no VMM can run, the reference's included, so the
tests that run one are reported as not graded, with this reason, instead of
failing. GRADER_NO_KVM=1 pretends there is no KVM (to test that path).
"""
import errno
import fcntl
import functools
import os

KVM_GET_API_VERSION = 0xAE00
KVM_CREATE_VM = 0xAE01
KVM_API_VERSION = 12


@functools.cache
def problem(device="/dev/kvm"):
    """Why no VM can run here, or None when one can."""
    if os.environ.get("GRADER_NO_KVM"):
        return "no usable /dev/kvm (GRADER_NO_KVM is set)"
    try:
        fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ENOENT:
            return (f"this machine has no {device}: it has no KVM (a container or a virtual "
                    "machine without nested virtualization?)")
        if error.errno in (errno.EACCES, errno.EPERM):
            return f"{device} is not accessible to the grader ({error.strerror})"
        return f"{device} cannot be opened: {error.strerror}"
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION, 0)
        if version != KVM_API_VERSION:
            return f"{device} speaks KVM API version {version}, not {KVM_API_VERSION}"
        vm = fcntl.ioctl(fd, KVM_CREATE_VM, 0)
        os.close(vm)
    except OSError as error:
        return f"{device} does not create virtual machines here: {error.strerror}"
    finally:
        os.close(fd)
    return None
