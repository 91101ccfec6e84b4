#pragma once
// Replacing a whole file so that a reader, or a process killed half-way, never sees it half-written.

#include <filesystem>
#include <string_view>

#include <sys/types.h>

namespace scalectl {

// Replaces `path` with `text`: a mkstemp() temp file in the same directory, written in full,
// fsync()ed, given `mode` (whatever the umask), renamed over `path`, then the directory fsync()ed.
// Refuses with Error(usage) if `path` exists and is not a regular file (device, FIFO, symlink...).
// On failure the temp file is removed, `path` is untouched, and Error(failure) names the file.
void replace_file(const std::filesystem::path& path, std::string_view text, mode_t mode);

}  // namespace scalectl
