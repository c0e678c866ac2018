// processes.hpp: which processes belong to the run, and stopping them all.
//
// A command may start others, and they may try to outlive it (a daemon, a
// fork bomb). The runner must find every one of them, count them while the
// run lasts, and kill them all when it ends. How it recognises them depends on
// where it runs:
//   - as PID 1 of a PID namespace (bubblewrap's --as-pid-1): every other
//     process in sight is the run's;
//   - with the command under a uid of its own (--user): every process of that uid;
//   - otherwise: the command's session, and every process reparented to the
//     runner, which is a "subreaper" (PR_SET_CHILD_SUBREAPER): orphans of the
//     run come to it instead of to init.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <set>
#include <vector>

namespace runner {

class RunProcesses {
  public:
    // `user`: the uid the command runs under, if it has one of its own.
    explicit RunProcesses(std::optional<uid_t> user);

    // The command was started: its pid, which is also its session id.
    void started(pid_t command) { command_ = command; }

    // The run's processes now (the runner itself is never one of them).
    std::vector<pid_t> list() const;
    bool contains(pid_t pid) const;

    // Counts the run's processes and remembers the highest count.
    void sample();
    std::size_t peak() const { return peak_; }

    // Reaps every child of the runner that has ended, without waiting; the
    // command's own wait status is kept.
    void reap();
    // The command's wait status (see waitpid(2)), once it has ended and been reaped.
    std::optional<int> command_status() const { return command_status_; }

    // Kills every process of the run and reaps what the runner may reap, until
    // none is left. Returns how many distinct processes it killed.
    std::size_t kill_all();

  private:
    std::optional<uid_t> user_;
    pid_t command_ = -1;
    pid_t self_;
    bool namespace_init_; // the runner is PID 1 of its own PID namespace
    std::size_t peak_ = 0;
    std::optional<int> command_status_;
};

} // namespace runner
