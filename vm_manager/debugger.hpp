// debugger.hpp: --gdb and --step, the debuggers a run can have.
#pragma once

#include "boot_image.hpp"
#include "command_line.hpp"
#include "elf_loader.hpp"
#include "guest_memory.hpp"
#include "kvm.hpp"
#include "run_control.hpp"

#include <memory>

namespace vmm {

// The debugger the options ask for, attached to the vCPU: a gdb stub waiting
// for gdb (--gdb), or the narrator of the boot (--step). Nothing without them.
// `boot` and `program` are as loaded: where boot.asm reports an exception,
// where the program starts. Call it before confine_vmm(): it may open files
// and wait for gdb.
std::unique_ptr<Debugger> start_debugger(Vcpu& vcpu, GuestMemory& memory,
                                         const LoadedBootImage& boot, const LoadedProgram& program,
                                         const RunControl& control, const Options& options);

} // namespace vmm
