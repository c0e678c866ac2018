"""The runner's report (runner.cpp, report()), as Python objects: what a command
did, what it left, and what the containment stopped."""
import base64
import json
from dataclasses import asdict, dataclass, field


def _bytes(text):
    return base64.b64decode(text)


def _name(text):
    """A name from the report: every byte is one code point below 256 (json.hpp)."""
    return text.encode("latin-1").decode("utf-8", errors="surrogateescape")


def killing_signal(status):
    """The signal that killed a command, from its exit status as a shell reports
    it (128 + the signal), or None."""
    if status is not None and 128 < status < 160:
        return status - 128
    return None


@dataclass
class FileInfo:
    kind: str  # "file", "dir", "symlink" or "other"
    mode: int
    size: int
    hash: str = ""  # of a file's whole content (FNV-1a, hex)
    data: bytes = b""  # the first bytes of a file; a symlink's target

    def to_json(self):
        return {**asdict(self), "data": base64.b64encode(self.data).decode()}

    @classmethod
    def from_json(cls, data):
        return cls(**{**data, "data": _bytes(data["data"])})


@dataclass
class Behaviour:
    """What the containment saw and stopped, for the instructor."""
    process_limit: int | None = None
    process_peak: int = 0
    left_running: int = 0  # processes still running when the command ended (killed)
    refused: dict = field(default_factory=dict)  # {"sockets": (count, [shown])...}
    full: list = field(default_factory=list)  # directories whose quota was reached
    # directories holding more files than the runner lists (Limits.max_files)
    too_many_files: list = field(default_factory=list)
    timed_out: bool = False
    flooded: bool = False
    too_many_processes: bool = False

    def notes(self):
        """What happened, in words; nothing for a well-behaved run."""
        out = []
        if self.too_many_processes:
            out.append(f"started {self.process_limit} processes, its limit (a fork bomb?): "
                       "stopped")
        elif self.process_limit and self.process_peak >= self.process_limit - 1:
            out.append(f"reached the limit of {self.process_limit} processes (a fork bomb?)")
        stopped = self.timed_out or self.flooded or self.too_many_processes
        if self.left_running and not stopped:  # a stopped run's processes all are killed
            out.append(f"left {self.left_running} process{'es' * (self.left_running > 1)} "
                       "running after it ended (killed)")
        words = {"sockets": "tried to open network sockets",
                 "signals": "tried to signal processes not its own",
                 "writes_outside": "tried to write outside its directories"}
        for kind, (count, shown) in self.refused.items():
            if count:
                out.append(f"{words[kind]} ({count}, refused): " + ", ".join(shown[:3])
                           + (", ..." if count > 3 else ""))
        for directory in self.full:
            out.append(f"filled its {directory} to the quota")
        for directory in self.too_many_files:
            out.append(f"left more files in {directory} than are compared: only the first "
                       "ones, by name, were")
        if self.timed_out:
            out.append("ran out of time (killed)")
        if self.flooded:
            out.append("flooded its output (killed)")
        return out

    def to_json(self):
        return asdict(self)

    @classmethod
    def from_json(cls, data):
        return cls(**{**data, "refused": {k: tuple(v) for k, v in data["refused"].items()}})


@dataclass
class Outcome:
    status: int | None  # 0-255 as a shell reports it, 128+N when killed by signal N;
    #                     None when a limit stopped it (time, output, processes)
    timed_out: bool
    stdout: bytes
    stdout_size: int  # bytes written in all (only the first `capture` are kept)
    stderr: bytes
    stderr_size: int
    seconds: float
    flooded: bool = False
    files: dict = field(default_factory=dict)  # {directory: {relative path: FileInfo}}
    behaviour: Behaviour = field(default_factory=Behaviour)
    too_many_processes: bool = False  # stopped for filling its limit on processes

    @property
    def signal(self):
        return killing_signal(self.status)


def outcome(text, inside):
    """The Outcome of a runner's report; `inside` maps the directories it names
    to the names the caller knows them by."""
    data = json.loads(text)
    status = data["status"]
    if status is None:
        code = None
    elif "exit" in status:
        code = status["exit"]
    else:
        code = 128 + status["signal"]
    files, full, too_many = {}, [], []
    for directory, listing in data["files"].items():
        name = inside.get(directory, directory)
        files[name] = {_name(e["path"]): FileInfo(e["kind"], e["mode"], e["size"], e["hash"],
                                                  _bytes(e["data"]))
                       for e in listing["entries"]}
        if listing["full"]:
            full.append(name)
        if listing["truncated"]:
            too_many.append(name)
    watch = data.get("watch", {})
    behaviour = Behaviour(
        process_limit=data["processes"]["limit"], process_peak=data["processes"]["peak"],
        left_running=data["processes"]["left_running"],
        refused={kind: (watch[kind]["count"], watch[kind]["shown"]) for kind in watch},
        full=full, too_many_files=too_many, timed_out=data["timed_out"],
        flooded=data["flooded"],
        too_many_processes=data["too_many_processes"])
    return Outcome(code, data["timed_out"], _bytes(data["stdout"]["data"]),
                   data["stdout"]["size"], _bytes(data["stderr"]["data"]), data["stderr"]["size"],
                   data["seconds"], data["flooded"], files, behaviour, data["too_many_processes"])
