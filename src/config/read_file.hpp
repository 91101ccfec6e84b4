#pragma once
// Private: reading small regular files (config files, token files) with their permission bits.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace scalectl::config::detail {

struct FileText {
  std::string text;
  unsigned mode = 0;  // permission bits, e.g. 0600
};

// Largest file read by default: config, token, plan and spec files are a few kB.
inline constexpr std::size_t k_max_file_bytes = 4U << 20U;

// Reads the regular file at `path` (following symlinks) and returns its text and mode; returns
// nullopt when it does not exist. Throws Error(usage) naming `what` ("config file", "token
// file") when it exists but is not a regular file (a FIFO, /dev/zero), is larger than
// `max_bytes`, or cannot be read.
std::optional<FileText> read_regular_file(const std::filesystem::path& path, std::string_view what,
                                          std::size_t max_bytes = k_max_file_bytes);

// Returns true when group or others have any access to a file with permission bits `mode`.
constexpr bool group_or_other_access(unsigned mode) { return (mode & 077U) != 0; }

// Returns the permission bits as ssh prints them, e.g. "0644".
std::string mode_text(unsigned mode);

}  // namespace scalectl::config::detail
