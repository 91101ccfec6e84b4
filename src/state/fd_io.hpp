#pragma once
// Small POSIX I/O helpers for the file backend; errors become Error(failure) naming the file.

#include <string>
#include <string_view>

namespace scalectl::state {

// Returns strerror(errno) for the current errno.
std::string errno_text();

// Writes all of `data` to `fd` (retrying short writes and EINTR); throws naming `display`.
void write_all(int fd, std::string_view data, const std::string& display);

// Reads `fd` from offset 0 to its end; throws naming `display`.
std::string read_all(int fd, const std::string& display);

// Flushes `fd` to stable storage (fsync); throws naming `display`.
void sync_fd(int fd, const std::string& display);

}  // namespace scalectl::state
