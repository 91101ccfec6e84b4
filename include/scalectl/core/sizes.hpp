#pragma once
// Pure checks of a droplet's target size against the sizes the API offers. No I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <scalectl/core/droplet.hpp>
#include <scalectl/exit_code.hpp>

namespace scalectl::core {

struct SizeCheck {
  std::optional<Size> size;  // set when the target is usable
  ExitCode code = ExitCode::ok;            // usage: unknown slug; refused: unavailable or too small a disk
  std::string message;                     // "" when usable
};

// Returns whether a droplet at `current_slug` with a `current_disk_gb` disk can be resized to
// `target_slug`: the slug must exist (else suggestions), be available, and its disk must not be
// smaller than the droplet's (a disk resized with --resize-disk can never shrink).
SizeCheck check_target_size(const std::vector<Size>& sizes, const std::string& target_slug,
                            const std::string& current_slug, std::int64_t current_disk_gb);

}  // namespace scalectl::core
