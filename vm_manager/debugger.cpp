#include "debugger.hpp"

#include "gdb_stub.hpp"
#include "step_narrator.hpp"

#include <filesystem>

namespace vmm {

std::unique_ptr<Debugger> start_debugger(Vcpu& vcpu, GuestMemory& memory,
                                         const LoadedBootImage& boot, const LoadedProgram& program,
                                         const RunControl& control, const Options& options)
{
    if (options.gdb_port) {
        return std::make_unique<GdbStub>(vcpu, memory, boot, control, *options.gdb_port);
    }
    if (options.step) {
        // boot.elf is built beside boot.bin (tools/build.mk).
        const std::string boot_elf =
            std::filesystem::path(options.boot_image).replace_extension(".elf").string();
        return std::make_unique<StepNarrator>(vcpu, memory, boot, program.entry, boot_elf,
                                              options.arguments[0], *options.step);
    }
    return nullptr;
}

} // namespace vmm
