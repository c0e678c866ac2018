#include "debugger.hpp"

#include "gdb_stub.hpp"

namespace vmm {

std::unique_ptr<Debugger> start_debugger(Vcpu& vcpu, GuestMemory& memory, const RunControl& control,
                                         const Options& options)
{
    if (options.gdb_port) {
        return std::make_unique<GdbStub>(vcpu, memory, control, *options.gdb_port);
    }
    return nullptr;
}

} // namespace vmm
