// standard_streams.hpp: making the VMM's standard streams safe to share with the guest.
//
// The guest's fds 0, 1 and 2 are the VMM's own (guest_files.hpp). Two things
// must hold before the VMM opens anything:
//   - Fds 0, 1 and 2 are open. Started with one of them closed, the VMM's
//     next open() would take that number (Linux gives out the lowest free
//     one), and /dev/kvm, the VM or the vCPU would become the guest's
//     standard input, output or error. A closed one is opened on /dev/null.
//   - A write to a pipe whose reader has gone, or past a file-size limit set
//     by whoever started the VMM, fails with EPIPE or EFBIG instead of
//     killing the VMM with SIGPIPE or SIGXFSZ: the guest gets the error, and
//     the VMM reports its own failed writes (trace.hpp) instead of vanishing.
// And standard output is line-buffered, so that lines a VMM prints with
// printf() come out in order with the guest's own output.
#pragma once

namespace vmm {

// Call first in main(). Throws SystemError if /dev/null cannot be opened.
void secure_standard_streams();

} // namespace vmm
