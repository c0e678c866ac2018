// files.hpp: what a run left in a directory, for the grader to compare.
//
// Read after every process of the run is gone, so nothing changes meanwhile;
// still, the entries were made by the command: symbolic links are never
// followed and only regular files are opened (never a FIFO or a device).
#pragma once

#include "json.hpp"

#include <cstddef>
#include <string>

namespace runner {

struct CollectLimits {
    std::size_t data_bytes;  // of each file, the first bytes kept
    std::size_t max_entries; // past this many entries, the listing stops
};

// Adds "DIRECTORY": {"entries": [{path, kind, mode, size, hash, data}, ...],
// "truncated": past max_entries, "full": no space left} to the open object.
// kind is "file", "dir", "symlink" (data: its target) or "other"; hash is the
// 64-bit FNV-1a of a file's whole content, in hex.
void collect_files(Json& json, const std::string& directory, const CollectLimits& limits);

} // namespace runner
