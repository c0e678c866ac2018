// watch.hpp: refusing, and reporting, what no VMM has any business doing.
//
// A VMM opens /dev/kvm, its input files and the guest's files, writes its
// trace, and runs the vCPU. It has no reason to open a network socket, to
// signal processes that are not its own, or to write outside its working
// directory. The sandbox already makes those fail; the watch makes them
// visible to the instructor, and refuses them where no sandbox could be made.
//
// The mechanism is seccomp's user notification (seccomp_unotify(2)): the
// command's process installs a filter just before exec that, for the calls
// below, suspends the caller and asks the runner, through a "listener" file
// descriptor, whether to let the call go on. Every other call runs at full
// speed. The runner looks at the arguments (reading strings from the caller's
// memory), decides, and records what it refused.
#pragma once

#include "json.hpp"
#include "processes.hpp"
#include "unique_fd.hpp"

#include <seccomp.h>

#include <cstddef>
#include <string>
#include <vector>

namespace runner {

class Watch {
  public:
    // `writable`: the directories where the command may write (its working
    // directory, the trace's directory, /tmp).
    explicit Watch(std::vector<std::string> writable);
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

    // In the command's process, just before exec: installs the filter (which
    // also sets no_new_privs) and returns the listener, for the runner.
    static vmm::UniqueFd install();

    // Answers one notification waiting on `listener`.
    void answer(int listener, const RunProcesses& run);

    // "watch": {"sockets": [...], "signals": [...], "writes_outside": [...], "refused": N}
    void report(Json& json) const;

  private:
    struct Refusals {
        std::vector<std::string> shown; // the first few, described
        std::size_t count = 0;
    };
    void refuse(Refusals& kind, const std::string& description);

    std::vector<std::string> writable_;
    Refusals sockets_, signals_, writes_;
    seccomp_notif* request_ = nullptr;
    seccomp_notif_resp* response_ = nullptr;
};

} // namespace runner
