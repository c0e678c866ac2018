#include "command_line.hpp"

#include "error.hpp"
#include "guest_layout.hpp"
#include "run_control.hpp"
#include "write_limits.hpp"

#include <getopt.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace vmm {

namespace {

// The kit's build puts vm_manager in build/<lab>/ and the guest in build/vm_src/,
// so the defaults are found from wherever vm_manager is started: this is
// build/vm_src/ as seen from vm_manager itself (read once, only when needed).
std::filesystem::path guest_build_directory()
{
    std::error_code error;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error) {
        return "../vm_src";
    }
    return (self.parent_path() / "../vm_src").lexically_normal();
}

constexpr uint64_t kDefaultGdbPort = 1234; // gdb's and QEMU's customary port

// Decimal digits only: no sign, no spaces, no 0x or leading-0 octal.
bool is_number(const std::string& text)
{
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

uint64_t parse_number(const std::string& text, const char* option)
{
    const bool digits_only = is_number(text);
    unsigned long long value = 0;
    try {
        if (digits_only) {
            value = std::stoull(text, nullptr, 10);
        }
    } catch (const std::out_of_range&) {
        throw UsageError(std::string(option) + " " + text + " is too large");
    }
    if (!digits_only) {
        throw UsageError(std::string(option) + " wants a number, not '" + text + "'");
    }
    return value;
}

// "8M", "8MiB", "2G", "4194304": a number of bytes, with an optional unit.
uint64_t parse_size(const std::string& text, const char* option)
{
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
        ++digits;
    }
    const std::string suffix = text.substr(digits);
    uint64_t unit = 1;
    if (suffix == "K" || suffix == "KiB") {
        unit = layout::KiB;
    } else if (suffix == "M" || suffix == "MiB") {
        unit = layout::MiB;
    } else if (suffix == "G" || suffix == "GiB") {
        unit = layout::GiB;
    } else if (!suffix.empty()) {
        throw UsageError(std::string(option) + " wants a size such as 8M or 1G, not '" + text +
                         "'");
    }
    const uint64_t count = parse_number(text.substr(0, digits), option);
    if (count > UINT64_MAX / unit) {
        throw UsageError(std::string(option) + " " + text + " is too large");
    }
    return count * unit;
}

uint64_t parse_memory_size(const std::string& text)
{
    const uint64_t size = parse_size(text, "--mem");
    if (size > layout::kMaxMemorySize) {
        throw UsageError("--mem " + text + " is more than the 1G this VMM can map");
    }
    if (size < layout::kMinMemorySize || size % layout::kLargePage != 0) {
        throw UsageError("--mem must be a multiple of 2M between 2M and 1G, not " + text);
    }
    return size;
}

} // namespace

void print_usage(std::FILE* out)
{
    std::fputs("Usage: vm_manager [OPTION]... [APP [ARG]...]\n"
               "Run the statically linked Linux program APP in a KVM micro-VM (one vCPU, no\n"
               "devices, no guest OS) and carry out its system calls on the host.\n"
               "\n"
               "  --boot FILE        boot image (default: ../vm_src/boot.bin beside vm_manager)\n"
               "  --mem SIZE         guest memory, a multiple of 2M up to 1G (default: 8M)\n"
               "  --workdir DIR      where the program's relative paths resolve (default: .)\n"
               "  --disk-quota SIZE  how much the program's writes may add to files, such as\n"
               "                     64M (default: 256M); past it, writes fail with EDQUOT\n"
               "  --trace FILE       write the trace lines to FILE instead of standard output\n"
               "  --max-exits N      stop the guest after N VM exits\n"
               "  --timeout SECONDS  stop the guest after SECONDS (0.001 or more)\n"
               "  --ring 0|3         run the program in ring 0 or ring 3 (default: the ring\n"
               "                     this machine's KVM supports; --verbose says which)\n"
               "  --verbose          explain the set-up on standard error\n"
               "  --memory-map       print where everything is in guest memory, and stop\n"
               "  --no-seccomp       do not confine the VMM with seccomp (for debugging)\n"
               "  --gdb [PORT]       wait for gdb on localhost:PORT (default 1234) before the\n"
               "                     first instruction (in gdb: target remote localhost:PORT)\n"
               "  --step[=N]         run the boot one instruction at a time and explain each,\n"
               "                     then N instructions of the program (default 0)\n"
               "  --help             show this help\n"
               "\n"
               "APP defaults to ../vm_src/app beside vm_manager; APP and ARGs become the\n"
               "program's argv. Options end at APP.\n"
               "\n"
               "Exit status: the program's own exit status when it exits;\n"
               "  124  stopped by --timeout or --max-exits\n"
               "  125  the guest crashed, or the VMM failed (see the message)\n"
               "  130  interrupted by Ctrl-C (143: SIGTERM)\n"
               "  137  killed from gdb\n"
               "  2    usage error\n",
               out);
}

Options parse_command_line(int argc, char* argv[])
{
    enum {
        kBoot = 256,
        kMem,
        kWorkdir,
        kDiskQuota,
        kTrace,
        kMaxExits,
        kTimeout,
        kRing,
        kVerbose,
        kMemoryMap,
        kNoSeccomp,
        kGdb,
        kStep,
        kHelp
    };
    static const option long_options[] = {
        {"boot", required_argument, nullptr, kBoot},
        {"mem", required_argument, nullptr, kMem},
        {"workdir", required_argument, nullptr, kWorkdir},
        {"disk-quota", required_argument, nullptr, kDiskQuota},
        {"trace", required_argument, nullptr, kTrace},
        {"max-exits", required_argument, nullptr, kMaxExits},
        {"timeout", required_argument, nullptr, kTimeout},
        {"ring", required_argument, nullptr, kRing},
        {"verbose", no_argument, nullptr, kVerbose},
        {"memory-map", no_argument, nullptr, kMemoryMap},
        {"no-seccomp", no_argument, nullptr, kNoSeccomp},
        {"gdb", optional_argument, nullptr, kGdb},
        {"step", optional_argument, nullptr, kStep},
        {"help", no_argument, nullptr, kHelp},
        {nullptr, 0, nullptr, 0},
    };

    Options options;
    options.memory_size = layout::kDefaultMemorySize;
    options.disk_quota = kDefaultDiskQuota;
    opterr = 0; // we print our own messages
    optind = 0; // 0, not 1: glibc then also forgets any half-parsed "-xy" of an earlier call
    int option;
    // "+": stop at the first non-option, APP: what follows belongs to the program.
    // ":": report a missing value as ':'.
    while ((option = getopt_long(argc, argv, "+:", long_options, nullptr)) != -1) {
        const std::string value = optarg != nullptr ? optarg : "";
        switch (option) {
        case kBoot:
            options.boot_image = value;
            break;
        case kMem:
            options.memory_size = parse_memory_size(value);
            break;
        case kWorkdir:
            options.workdir = value;
            break;
        case kDiskQuota:
            options.disk_quota = parse_size(value, "--disk-quota");
            break;
        case kTrace:
            options.trace_file = value;
            break;
        case kMaxExits:
            options.max_exits = parse_number(value, "--max-exits");
            break;
        case kTimeout: {
            std::size_t used = 0;
            try {
                options.timeout_seconds = std::stod(value, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            // (Written so that NaN fails too.)
            if (used == 0 || used != value.size() ||
                !(options.timeout_seconds >= kMinTimeoutSeconds &&
                  options.timeout_seconds <= kMaxTimeoutSeconds)) {
                char range[64];
                std::snprintf(range, sizeof range, "from %.10g to %.10g", kMinTimeoutSeconds,
                              kMaxTimeoutSeconds);
                throw UsageError(std::string("--timeout wants a number of seconds ") + range +
                                 " (what the timer holds), not '" + value + "'");
            }
            break;
        }
        case kRing:
            if (value != "0" && value != "3") {
                throw UsageError("--ring is 0 or 3, not '" + value + "'");
            }
            options.ring = value == "0" ? 0 : 3;
            break;
        case kVerbose:
            options.verbose = true;
            break;
        case kMemoryMap:
            options.memory_map = true;
            break;
        case kNoSeccomp:
            options.seccomp = false;
            break;
        case kGdb: {
            // "--gdb 1234" as well as "--gdb=1234": a number after --gdb is its port.
            std::string port = value;
            if (optarg == nullptr && optind < argc && is_number(argv[optind])) {
                port = argv[optind++];
            }
            const uint64_t number = port.empty() ? kDefaultGdbPort : parse_number(port, "--gdb");
            if (number == 0 || number > 65535) {
                throw UsageError("--gdb wants a TCP port between 1 and 65535, not " + port);
            }
            options.gdb_port = static_cast<uint16_t>(number);
            break;
        }
        case kStep:
            options.step = value.empty() ? 0 : parse_number(value, "--step");
            break;
        case kHelp:
            options.help = true;
            break;
        case ':':
            throw UsageError(std::string("option ") + argv[optind - 1] + " needs a value");
        default: {
            // A bad short option inside a cluster such as -xy is in optopt;
            // a bad long option is the argument getopt just passed.
            const std::string name =
                optopt != 0 ? std::string("-") + static_cast<char>(optopt) : argv[optind - 1];
            throw UsageError("unknown option " + name + " (vm_manager --help lists them)");
        }
        }
    }
    for (int i = optind; i < argc; ++i) {
        options.arguments.emplace_back(argv[i]);
    }
    if (options.gdb_port && options.step) {
        throw UsageError("--gdb and --step cannot be used together: gdb's stepi steps too");
    }
    if (options.boot_image.empty() || options.arguments.empty()) {
        const std::filesystem::path guest = guest_build_directory();
        if (options.boot_image.empty()) {
            options.boot_image = guest / "boot.bin";
        }
        if (options.arguments.empty()) {
            options.arguments.push_back(guest / "app");
        }
    }
    return options;
}

} // namespace vmm
