#pragma once
// Small POSIX I/O helpers for the file backend; errors become Error(failure) naming the file.

#include <cstddef>
#include <string>
#include <string_view>

namespace scalectl::state {

// Returns strerror(errno) for the current errno.
std::string errno_text();

// Writes all of `data` to `fd` (retrying short writes and EINTR); throws naming `display`.
void write_all(int fd, std::string_view data, const std::string& display);

// The largest state, lock or log file the file backend reads (a state file with 100,000 leases
// is about 25 MB).
inline constexpr std::size_t k_max_state_file_bytes = std::size_t{256} << 20;

// Reads `fd` from offset 0 to its end; throws naming `display` unless `fd` is a regular file of
// at most `max_bytes` (a FIFO, a device or a runaway file is refused, never read).
std::string read_all(int fd, const std::string& display, std::size_t max_bytes = k_max_state_file_bytes);

// Flushes `fd` to stable storage (fsync); throws naming `display`.
void sync_fd(int fd, const std::string& display);

}  // namespace scalectl::state
