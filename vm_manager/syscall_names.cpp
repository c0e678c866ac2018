#include "syscall_names.hpp"

#include <asm/unistd_64.h>

namespace vmm {

namespace {

struct NamedCall {
    uint64_t number;
    std::string_view name;
};

// The number comes from the same header as the name: SYSCALL(write) is
// {__NR_write, "write"}.
#define SYSCALL(name) {__NR_##name, #name},
constexpr NamedCall kCalls[] = {
#include "syscall_names.inc" // generated from asm/unistd_64.h
};
#undef SYSCALL

} // namespace

std::string_view syscall_name(uint64_t number)
{
    for (const NamedCall& call : kCalls) {
        if (call.number == number) {
            return call.name;
        }
    }
    return {};
}

} // namespace vmm
