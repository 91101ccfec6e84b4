#pragma once
// Opening the file backend's private state directory, and refusing unsafe ones.

#include <cstdint>
#include <filesystem>
#include <string>

#include "state/unique_fd.hpp"

namespace scalectl::state {

// Returns the name of the network filesystem whose statfs f_type is `f_type` ("NFS", "SMB",
// "CIFS", "SMB2"), or "" for a local one; flock is not reliable on network filesystems.
std::string network_filesystem_name(std::int64_t f_type);

// Opens `dir` (O_NOFOLLOW), creating it and its parents with mode 0700 if missing; throws
// Error(usage) saying what to do if it is a symlink, not a directory, owned by another user,
// writable by group or others, or on a network filesystem.
UniqueFd open_state_dir(const std::filesystem::path& dir);

// Opens subdirectory `name` of `dir_fd` (O_NOFOLLOW), creating it 0700; `display` names it in errors.
UniqueFd open_subdir(int dir_fd, const char* name, const std::filesystem::path& display);

}  // namespace scalectl::state
