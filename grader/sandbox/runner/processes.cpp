#include "processes.hpp"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>

namespace runner {

namespace {

struct ProcessInfo {
    char state;
    pid_t parent;
    pid_t session;
    uid_t real_uid;
};

// From /proc/PID/stat ("pid (comm) state ppid pgrp session ...") and the Uid
// line of /proc/PID/status. Nothing when the process is already gone.
std::optional<ProcessInfo> read_info(pid_t pid)
{
    const std::string base = "/proc/" + std::to_string(pid);
    std::ifstream stat(base + "/stat");
    std::string line;
    if (!std::getline(stat, line)) {
        return std::nullopt;
    }
    // The command name may hold spaces and parentheses: it ends at the last ')'.
    const std::size_t name_end = line.rfind(')');
    if (name_end == std::string::npos) {
        return std::nullopt;
    }
    ProcessInfo info{};
    int group = 0;
    if (std::sscanf(line.c_str() + name_end + 1, " %c %d %d %d", &info.state, &info.parent, &group,
                    &info.session) != 4) {
        return std::nullopt;
    }
    std::ifstream status(base + "/status");
    while (std::getline(status, line)) {
        if (line.rfind("Uid:", 0) == 0) {
            info.real_uid = static_cast<uid_t>(std::strtoul(line.c_str() + 4, nullptr, 10));
            return info;
        }
    }
    return std::nullopt;
}

struct CloseDir {
    void operator()(DIR* directory) const { ::closedir(directory); }
};

} // namespace

RunProcesses::RunProcesses(std::optional<uid_t> user)
    : user_(user), self_(::getpid()), namespace_init_(::getpid() == 1)
{
}

bool RunProcesses::contains(pid_t pid) const
{
    if (pid <= 0 || pid == self_) {
        return false;
    }
    if (namespace_init_) {
        return true;
    }
    const std::optional<ProcessInfo> info = read_info(pid);
    if (!info) {
        return false;
    }
    if (user_) {
        return info->real_uid == *user_;
    }
    return info->session == command_ || info->parent == self_;
}

std::vector<pid_t> RunProcesses::list() const
{
    std::vector<pid_t> found;
    std::unique_ptr<DIR, CloseDir> proc(::opendir("/proc"));
    if (!proc) {
        return found;
    }
    while (const dirent* entry = ::readdir(proc.get())) {
        char* end = nullptr;
        const long pid = std::strtol(entry->d_name, &end, 10);
        if (*end != '\0' || pid <= 0 || pid == self_) {
            continue;
        }
        // A zombie is already dead: only its parent can make it go away.
        const std::optional<ProcessInfo> info = read_info(static_cast<pid_t>(pid));
        if (info && info->state != 'Z' && contains(static_cast<pid_t>(pid))) {
            found.push_back(static_cast<pid_t>(pid));
        }
    }
    return found;
}

void RunProcesses::sample()
{
    peak_ = std::max(peak_, list().size());
}

void RunProcesses::reap()
{
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == command_) {
            command_status_ = status;
        }
    }
}

// Sends `signal` to every process of `user` at once: kill(-1, ...) from a
// process of that user reaches all of them (but itself), those born a moment
// ago included, which a list read from /proc could miss.
void signal_every_process_of(uid_t user, int signal)
{
    const pid_t helper = ::fork();
    if (helper == 0) {
        if (::setresuid(user, user, user) == 0) {
            ::kill(-1, signal);
        }
        ::_exit(0);
    }
    if (helper > 0) {
        ::waitpid(helper, nullptr, 0);
    }
}

std::size_t RunProcesses::kill_all()
{
    std::set<pid_t> killed;
    // A process may fork between two rounds; stopping them all first (SIGSTOP)
    // ends the forking, so that a fork bomb is over in a round or two even on
    // a slow machine.
    for (int round = 0; round < 500; ++round) {
        const std::vector<pid_t> pids = list();
        if (pids.empty()) {
            break;
        }
        for (int signal : {SIGSTOP, SIGKILL}) {
            if (user_) {
                signal_every_process_of(*user_, signal);
            } else if (namespace_init_) {
                ::kill(-1, signal); // every process of the namespace but its init
            }
        }
        for (pid_t pid : pids) {
            ::kill(pid, SIGKILL);
            killed.insert(pid); // it was running a moment ago
        }
        reap();
        const timespec pause{0, 1'000'000}; // 1 ms: let the kernel finish the killing
        ::nanosleep(&pause, nullptr);
    }
    reap();
    return killed.size();
}

} // namespace runner
