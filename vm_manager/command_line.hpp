// command_line.hpp: vm_manager's options (run `vm_manager --help`).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace vmm {

struct Options {
    std::string boot_image;             // --boot, default: ../vm_src/boot.bin beside vm_manager
    uint64_t memory_size;               // --mem
    std::string workdir = ".";          // --workdir
    uint64_t disk_quota;                // --disk-quota
    std::string trace_file;             // --trace; empty: standard output
    uint64_t max_exits = 0;             // --max-exits; 0: no limit
    double timeout_seconds = 0;         // --timeout; 0: no limit
    std::optional<int> ring;            // --ring; nothing: chosen for this KVM
    bool verbose = false;               // --verbose
    bool memory_map = false;            // --memory-map
    bool seccomp = true;                // --no-seccomp turns it off
    std::optional<uint16_t> gdb_port;   // --gdb [PORT]: wait for gdb on localhost:PORT
    std::optional<uint64_t> step;       // --step[=N]: narrate the boot and N program instructions
    bool help = false;                  // --help
    std::vector<std::string> arguments; // APP and its arguments: the guest's argv
};

// Parses argv; throws UsageError for anything it does not understand.
Options parse_command_line(int argc, char* argv[]);
void print_usage(std::FILE* out);

} // namespace vmm
