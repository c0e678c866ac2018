// process_calls.hpp: the guest's calls about time, about itself and the
// machine, and about signals (linux_calls.hpp).
//
//   time          clock_gettime, gettimeofday, time, nanosleep and
//                 clock_nanosleep are the host's: the guest shares its clock.
//   identity      the guest is a process of its own: its pid and tid are 1
//                 (set_tid_address's answer in manager.cpp), its parent 0, as
//                 for a first process; its user and group are the VMM's;
//                 uname is the host's, as a container's is.
//   limits        prlimit64 reads the limits the VMM puts on the guest (64
//                 files, the 64 MiB file size, its stack) or the host's;
//                 changing one fails with EPERM.
//   umask         the VMM's own: the files the guest creates are the VMM's.
//   getrandom     the host's random bytes.
//   signals       rt_sigaction, rt_sigprocmask and sigaltstack keep what the
//                 guest sets and give it back; no signal is ever delivered.
//   set_robust_list, rseq   ENOSYS, as on a Linux built without them: the C
//                 libraries then do without.
#pragma once

#include "linux_call.hpp"

#include <cstdint>

namespace vmm {

int64_t sys_clock_gettime(Call& call);   // clock_gettime(clock, timespec)
int64_t sys_gettimeofday(Call& call);    // gettimeofday(timeval, timezone)
int64_t sys_time(Call& call);            // time(seconds)
int64_t sys_nanosleep(Call& call);       // nanosleep(request, remaining)
int64_t sys_clock_nanosleep(Call& call); // clock_nanosleep(clock, flags, request, remaining)
int64_t sys_getpid(Call& call);          // getpid(), and gettid()
int64_t sys_getppid(Call& call);         // getppid()
int64_t sys_getuid(Call& call);          // getuid()
int64_t sys_geteuid(Call& call);         // geteuid()
int64_t sys_getgid(Call& call);          // getgid()
int64_t sys_getegid(Call& call);         // getegid()
int64_t sys_uname(Call& call);           // uname(utsname)
int64_t sys_getrandom(Call& call);       // getrandom(buffer, length, flags)
int64_t sys_umask(Call& call);           // umask(mask)
int64_t sys_prlimit64(Call& call);       // prlimit64(pid, resource, new limit, old limit)
int64_t sys_rt_sigaction(Call& call);    // rt_sigaction(signal, action, old action, set size)
int64_t sys_rt_sigprocmask(Call& call);  // rt_sigprocmask(how, set, old set, set size)
int64_t sys_sigaltstack(Call& call);     // sigaltstack(stack, old stack)
int64_t sys_not_implemented(Call& call); // set_robust_list, rseq: -ENOSYS

} // namespace vmm
