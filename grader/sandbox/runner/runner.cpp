// runner: runs one untrusted command under limits, and says what happened.
//
// The grader runs everything a submission brings (its compiler runs, its
// VMM) through this program, wherever that happens: as PID 1 of a bubblewrap
// sandbox on the grading machine, or inside the emulated machine. So a
// submission meets the same limits, and its runs are reported the same way,
// on every machine.
//
//   runner [OPTION]... -- COMMAND [ARG]...
//
// It starts COMMAND in a session of its own, with /dev/null as standard input
// and pipes as standard output and error; keeps the first --capture bytes of
// each, and stops the command when both together pass --output bytes (a
// flood) or when --seconds have passed. When the command ends, whatever it
// left running is killed. Then it lists the files left in each --collect
// directory and writes one JSON report on its standard output (see report()).
// Its own failures: one line on standard error, exit status 111.
#include "error.hpp"
#include "files.hpp"
#include "json.hpp"
#include "processes.hpp"
#include "unique_fd.hpp"
#include "watch.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <grp.h>
#include <optional>
#include <string>
#include <vector>

namespace runner {

namespace {

constexpr int kRunnerFailed = 111;
constexpr int kCommandNiceness = 10;
using Clock = std::chrono::steady_clock;

// vmm::check, with a call named at run time.
long check(long result, const std::string& call)
{
    return vmm::check(result, call.c_str());
}

struct Device {
    std::string path;
    unsigned major, minor;
};

struct Settings {
    double seconds = 10;
    std::size_t capture = 256 << 10;
    std::size_t output = 16 << 20;
    std::optional<rlim_t> processes, memory, file_size, file_size_hard;
    std::optional<uid_t> uid;
    gid_t gid = 0;
    std::vector<std::pair<std::string, std::string>> tmpfs; // directory, size
    std::vector<std::string> own;
    std::vector<Device> devices;
    std::string cwd = "/";
    std::vector<std::string> collect;
    CollectLimits collect_limits{64 << 10, 200};
    bool watch = false;
    std::vector<std::string> writable;
    std::vector<std::string> environment;
    std::vector<std::string> command;
};

uint64_t number(const std::string& text, const std::string& option)
{
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0') {
        throw vmm::VmmError(option + " wants a number, not '" + text + "'");
    }
    return value;
}

Settings parse(int argc, char* argv[])
{
    Settings settings;
    int i = 1;
    auto value = [&](const std::string& option) -> std::string {
        if (i + 1 >= argc) {
            throw vmm::VmmError(option + " needs a value");
        }
        return argv[++i];
    };
    for (; i < argc; ++i) {
        const std::string option = argv[i];
        if (option == "--") {
            ++i;
            break;
        } else if (option == "--seconds") {
            settings.seconds = std::strtod(value(option).c_str(), nullptr);
        } else if (option == "--capture") {
            settings.capture = number(value(option), option);
        } else if (option == "--output") {
            settings.output = number(value(option), option);
        } else if (option == "--processes") {
            settings.processes = number(value(option), option);
        } else if (option == "--memory") {
            settings.memory = number(value(option), option);
        } else if (option == "--file-size") {
            settings.file_size = number(value(option), option);
        } else if (option == "--file-size-hard") {
            settings.file_size_hard = number(value(option), option);
        } else if (option == "--user") {
            const std::string text = value(option);
            const std::size_t colon = text.find(':');
            settings.uid = static_cast<uid_t>(number(text.substr(0, colon), option));
            settings.gid = static_cast<gid_t>(
                number(colon == std::string::npos ? text : text.substr(colon + 1), option));
        } else if (option == "--tmpfs") {
            const std::string text = value(option);
            const std::size_t colon = text.rfind(':');
            settings.tmpfs.emplace_back(text.substr(0, colon), text.substr(colon + 1));
        } else if (option == "--own") {
            settings.own.push_back(value(option));
        } else if (option == "--device") {
            // PATH:MAJOR:MINOR
            const std::string text = value(option);
            const std::size_t minor_at = text.rfind(':');
            const std::size_t major_at = text.rfind(':', minor_at - 1);
            settings.devices.push_back(
                {text.substr(0, major_at),
                 static_cast<unsigned>(
                     number(text.substr(major_at + 1, minor_at - major_at - 1), option)),
                 static_cast<unsigned>(number(text.substr(minor_at + 1), option))});
        } else if (option == "--cwd") {
            settings.cwd = value(option);
        } else if (option == "--collect") {
            settings.collect.push_back(value(option));
        } else if (option == "--file-capture") {
            settings.collect_limits.data_bytes = number(value(option), option);
        } else if (option == "--max-files") {
            settings.collect_limits.max_entries = number(value(option), option);
        } else if (option == "--watch") {
            settings.watch = true;
        } else if (option == "--writable") {
            settings.writable.push_back(value(option));
        } else if (option == "--env") {
            settings.environment.push_back(value(option));
        } else {
            throw vmm::VmmError("unknown option " + option);
        }
    }
    for (; i < argc; ++i) {
        settings.command.emplace_back(argv[i]);
    }
    if (settings.command.empty()) {
        throw vmm::VmmError("no command: runner [OPTION]... -- COMMAND [ARG]...");
    }
    if (settings.environment.empty()) {
        settings.environment = {"PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=/tmp", "TMPDIR=/tmp"};
    }
    return settings;
}

// What the command will find, made before it starts (as root, where it is).
void prepare(const Settings& settings)
{
    for (const auto& [directory, size] : settings.tmpfs) {
        const std::string options = "size=" + size + ",mode=0755";
        check(::mount("tmpfs", directory.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()),
              "mounting a tmpfs on " + directory);
    }
    for (const Device& device : settings.devices) {
        ::unlink(device.path.c_str());
        check(::mknod(device.path.c_str(), S_IFCHR | 0600, makedev(device.major, device.minor)),
              "mknod " + device.path);
        if (settings.uid) {
            check(::chown(device.path.c_str(), *settings.uid, settings.gid),
                  "chown " + device.path);
        }
    }
    for (const std::string& directory : settings.own) {
        if (settings.uid) {
            check(::chown(directory.c_str(), *settings.uid, settings.gid), "chown " + directory);
        }
    }
}

void set_limit(int resource, std::optional<rlim_t> soft, std::optional<rlim_t> hard,
               const char* name)
{
    if (soft) {
        const rlimit limit{*soft, hard.value_or(*soft)};
        check(::setrlimit(resource, &limit), std::string("setrlimit(") + name + ")");
    }
}

// Passes a file descriptor to the other end of a socket pair (SCM_RIGHTS).
void send_fd(int channel, int fd)
{
    char byte = 0;
    iovec data{&byte, 1};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
    check(::sendmsg(channel, &message, 0), "sendmsg");
}

vmm::UniqueFd receive_fd(int channel)
{
    char byte;
    iovec data{&byte, 1};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    if (::recvmsg(channel, &message, MSG_CMSG_CLOEXEC) <= 0) {
        return {};
    }
    const cmsghdr* header = CMSG_FIRSTHDR(&message);
    if (header == nullptr || header->cmsg_type != SCM_RIGHTS) {
        return {};
    }
    int fd;
    std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
    return vmm::UniqueFd(fd);
}

// The program to execute: `name` itself when it holds a slash, otherwise the
// first executable of that name in the command's PATH (as a shell finds it).
std::string find_program(const std::string& name, const std::vector<std::string>& environment)
{
    if (name.find('/') != std::string::npos) {
        return name;
    }
    for (const std::string& variable : environment) {
        if (variable.starts_with("PATH=")) {
            std::size_t start = 5;
            while (start <= variable.size()) {
                const std::size_t end = std::min(variable.find(':', start), variable.size());
                const std::string candidate = variable.substr(start, end - start) + "/" + name;
                if (::access(candidate.c_str(), X_OK) == 0) {
                    return candidate;
                }
                start = end + 1;
            }
        }
    }
    return name;
}

// In the child: becomes the command. Never returns.
[[noreturn]] void become_command(const Settings& settings, int out, int err, int channel)
{
    try {
        check(::setsid(), "setsid");
        const int null = check(::open("/dev/null", O_RDONLY), "open(/dev/null)");
        check(::dup2(null, 0), "dup2");
        check(::dup2(out, 1), "dup2");
        check(::dup2(err, 2), "dup2");
        // Nothing of the runner's is inherited but the channel, moved to fd 3.
        int first_closed = 3;
        if (channel >= 0) {
            check(::dup2(channel, 3), "dup2");
            first_closed = 4;
        }
        ::close_range(static_cast<unsigned>(first_closed), ~0U, 0);
        check(::chdir(settings.cwd.c_str()), "chdir " + settings.cwd);
        // Without a uid of its own the command shares the runner's, and the
        // runner is one of that uid's processes: one more.
        if (settings.processes) {
            const rlim_t processes = *settings.processes + (settings.uid ? 0 : 1);
            const rlimit limit{processes, processes};
            check(::setrlimit(RLIMIT_NPROC, &limit), "setrlimit(RLIMIT_NPROC)");
        }
        set_limit(RLIMIT_AS, settings.memory, std::nullopt, "RLIMIT_AS");
        set_limit(RLIMIT_FSIZE, settings.file_size, settings.file_size_hard, "RLIMIT_FSIZE");
        const rlimit no_core{0, 0};
        check(::setrlimit(RLIMIT_CORE, &no_core), "setrlimit(RLIMIT_CORE)");
        if (settings.uid) {
            check(::setgroups(0, nullptr), "setgroups");
            check(::setresgid(settings.gid, settings.gid, settings.gid), "setresgid");
            check(::setresuid(*settings.uid, *settings.uid, *settings.uid), "setresuid");
        }
        ::umask(022);
        ::signal(SIGPIPE, SIG_DFL);
        // Below the runner's priority: a command that spins or forks without
        // end cannot starve the runner that watches it and must stop it.
        ::setpriority(PRIO_PROCESS, 0, kCommandNiceness);
        if (channel >= 0) {
            vmm::UniqueFd listener = Watch::install();
            send_fd(3, listener.get());
            ::close(3);
        }
        std::vector<char*> arguments, environment;
        for (const std::string& word : settings.command) {
            arguments.push_back(const_cast<char*>(word.c_str()));
        }
        for (const std::string& variable : settings.environment) {
            environment.push_back(const_cast<char*>(variable.c_str()));
        }
        arguments.push_back(nullptr);
        environment.push_back(nullptr);
        const std::string program = find_program(settings.command[0], settings.environment);
        ::execve(program.c_str(), arguments.data(), environment.data());
        throw vmm::SystemError("running " + settings.command[0], errno);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "runner: %s\n", error.what());
        std::fflush(stderr);
        ::_exit(127);
    }
}

struct Stream {
    vmm::UniqueFd pipe; // the runner's end; reset at end of file
    std::string kept;
    uint64_t size = 0;
};

// Reads what is there. Returns the number of bytes read.
std::size_t drain(Stream& stream, std::size_t capture)
{
    std::array<char, 65536> chunk;
    const ssize_t got = ::read(stream.pipe.get(), chunk.data(), chunk.size());
    if (got <= 0) {
        if (got == 0 || errno != EAGAIN) {
            stream.pipe.reset();
        }
        return 0;
    }
    if (stream.kept.size() < capture) {
        stream.kept.append(chunk.data(),
                           std::min(static_cast<std::size_t>(got), capture - stream.kept.size()));
    }
    stream.size += static_cast<uint64_t>(got);
    return static_cast<std::size_t>(got);
}

struct Outcome {
    std::optional<int> wait_status; // nothing: the runner stopped it (time, flood, processes)
    bool timed_out = false;
    bool flooded = false;
    bool too_many_processes = false; // it filled its limit on processes
    double seconds = 0;
    std::size_t left_running = 0;
};

// Runs the command to its end, or until a limit stops it.
Outcome supervise(const Settings& settings, RunProcesses& processes, std::optional<Watch>& watch,
                  Stream (&streams)[2])
{
    vmm::UniqueFd channel_child, channel;
    if (settings.watch) {
        int pair[2];
        check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), "socketpair");
        channel = vmm::UniqueFd(pair[0]);
        channel_child = vmm::UniqueFd(pair[1]);
    }
    int pipes[2][2];
    for (auto& p : pipes) {
        check(::pipe2(p, O_CLOEXEC), "pipe2");
    }
    const auto started = Clock::now();
    const pid_t command = check(::fork(), "fork");
    if (command == 0) {
        become_command(settings, pipes[0][1], pipes[1][1], channel_child.get());
    }
    processes.started(command);
    channel_child.reset();
    for (int i = 0; i < 2; ++i) {
        ::close(pipes[i][1]);
        streams[i].pipe = vmm::UniqueFd(pipes[i][0]);
        ::fcntl(pipes[i][0], F_SETFL, O_NONBLOCK);
    }

    Outcome outcome;
    vmm::UniqueFd listener;
    const auto deadline = started + std::chrono::duration<double>(settings.seconds);
    auto next_sample = started;
    for (;;) {
        processes.reap();
        if (processes.command_status()) {
            outcome.seconds = std::chrono::duration<double>(Clock::now() - started).count();
            break;
        }
        const auto now = Clock::now();
        if (now >= deadline) {
            outcome.timed_out = true;
            break;
        }
        if (now >= next_sample) {
            // A run that fills its limit on processes is stopped there: no
            // program of the lab needs that many, and a fork bomb kept at
            // the limit only burns the machine (each refused fork costs the
            // kernel memory it frees later: enough to exhaust a small one).
            processes.sample();
            if (settings.processes && processes.peak() >= *settings.processes) {
                outcome.too_many_processes = true;
                break;
            }
            next_sample = now + std::chrono::milliseconds(50);
        }
        std::vector<pollfd> waiting;
        for (Stream& stream : streams) {
            waiting.push_back({stream.pipe ? stream.pipe.get() : -1, POLLIN, 0});
        }
        waiting.push_back({listener ? listener.get() : -1, POLLIN, 0});
        waiting.push_back({channel ? channel.get() : -1, POLLIN, 0});
        ::poll(waiting.data(), waiting.size(), 10); // also wakes up to reap and sample
        for (int i = 0; i < 2; ++i) {
            if (waiting[i].revents != 0) {
                drain(streams[i], settings.capture);
            }
        }
        if (streams[0].size + streams[1].size > settings.output) {
            outcome.flooded = true;
            break;
        }
        if (listener && (waiting[2].revents & POLLIN)) {
            watch->answer(listener.get(), processes);
        }
        if (channel && waiting[3].revents != 0) {
            listener = receive_fd(channel.get());
            channel.reset();
        }
    }
    processes.sample(); // also what a run that ended between two samples left
    const bool command_running = !processes.command_status();
    if (command_running) {
        outcome.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    }
    // Whatever is still running: the command itself if a limit stopped it,
    // and whatever it left behind.
    const std::size_t killed = processes.kill_all();
    outcome.left_running = killed - (command_running && killed > 0 ? 1 : 0);
    if (!command_running) {
        outcome.wait_status = processes.command_status();
    }
    // The pipes' last bytes; every writer is gone, so they end now.
    const auto give_up = Clock::now() + std::chrono::milliseconds(500);
    while ((streams[0].pipe || streams[1].pipe) && Clock::now() < give_up) {
        for (Stream& stream : streams) {
            if (stream.pipe) {
                pollfd one{stream.pipe.get(), POLLIN, 0};
                ::poll(&one, 1, 50);
                drain(stream, settings.capture);
            }
        }
    }
    return outcome;
}

void report(const Settings& settings, const Outcome& outcome, const RunProcesses& processes,
            const std::optional<Watch>& watch, const Stream (&streams)[2])
{
    Json json;
    json.begin_object().key("status");
    if (outcome.wait_status && WIFEXITED(*outcome.wait_status)) {
        json.begin_object().key("exit").number(WEXITSTATUS(*outcome.wait_status)).end_object();
    } else if (outcome.wait_status && WIFSIGNALED(*outcome.wait_status)) {
        json.begin_object().key("signal").number(WTERMSIG(*outcome.wait_status)).end_object();
    } else {
        json.null();
    }
    json.key("timed_out").boolean(outcome.timed_out).key("flooded").boolean(outcome.flooded);
    json.key("too_many_processes").boolean(outcome.too_many_processes);
    json.key("seconds").real(outcome.seconds);
    const char* names[] = {"stdout", "stderr"};
    for (int i = 0; i < 2; ++i) {
        json.key(names[i]).begin_object();
        json.key("size").number(static_cast<int64_t>(streams[i].size));
        json.key("data").base64(streams[i].kept).end_object();
    }
    json.key("processes").begin_object().key("limit");
    if (settings.processes) {
        json.number(static_cast<int64_t>(*settings.processes));
    } else {
        json.null();
    }
    json.key("peak").number(static_cast<int64_t>(processes.peak()));
    json.key("left_running").number(static_cast<int64_t>(outcome.left_running)).end_object();
    json.key("files").begin_object();
    for (const std::string& directory : settings.collect) {
        collect_files(json, directory, settings.collect_limits);
    }
    json.end_object();
    if (watch) {
        watch->report(json);
    }
    json.end_object();
    const std::string& text = json.text() + "\n";
    for (std::size_t done = 0; done < text.size();) {
        const ssize_t wrote = ::write(1, text.data() + done, text.size() - done);
        if (wrote <= 0) {
            throw vmm::SystemError("writing the report", errno);
        }
        done += static_cast<std::size_t>(wrote);
    }
}

} // namespace

} // namespace runner

int main(int argc, char* argv[])
{
    using namespace runner;
    try {
        const Settings settings = parse(argc, argv);
        std::signal(SIGPIPE, SIG_IGN);
        // Orphans of the run come to the runner, so it can stop them; and no
        // process of the run may read the runner's memory or its fds.
        check(::prctl(PR_SET_CHILD_SUBREAPER, 1), "prctl(PR_SET_CHILD_SUBREAPER)");
        check(::prctl(PR_SET_DUMPABLE, 0), "prctl(PR_SET_DUMPABLE)");
        prepare(settings);
        RunProcesses processes(settings.uid);
        std::optional<Watch> watch;
        if (settings.watch) {
            watch.emplace(settings.writable);
        }
        Stream streams[2];
        const Outcome outcome = supervise(settings, processes, watch, streams);
        report(settings, outcome, processes, watch, streams);
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "runner: %s\n", error.what());
        return kRunnerFailed;
    }
}
