#pragma once
// The droplet's state record ("droplet-<id>") and the `droplet-resizes` log entry: written by the
// resize driver, read by `droplet status` and `droplet cost`. One to_json/from_json each.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace scalectl::ops {

// An action as a record remembers it.
struct RecordedAction {
  std::int64_t id = 0;
  std::string type;
  std::string status;
};

// One resize run of a droplet: the current one, or one entry of the history.
struct DropletOperation {
  std::string direction;  // up, down or resize
  std::string from_size;
  std::string to_size;
  std::string phase;   // the step it was at (shutdown, resize, done, failed, ...)
  std::string result;  // running, submitted, ok, failed, timeout, interrupted
  std::vector<RecordedAction> actions;
  bool resize_disk = false;
  std::int64_t memory_before_mb = 0;
  std::optional<std::int64_t> memory_after_mb;  // set once the run ended
  std::string started_at;
  std::string updated_at;
  std::string ended_at;  // "" while running
  long pid = 0;
  std::string host;
  std::string command;
  std::string error;  // "" unless it failed

  // Returns true while the run is unfinished and a rerun would continue it.
  bool pending() const;
  nlohmann::json to_json() const;
  // Reads an operation; unknown fields are ignored and missing ones take their defaults.
  static DropletOperation from_json(const nlohmann::json& j);
};

// A permanent disk resize: the droplet can never go below this size's disk again.
struct DiskResized {
  std::string to;
  std::int64_t action_id = 0;
  std::string at;
};

// Everything scalectl remembers about one droplet.
struct DropletRecord {
  std::int64_t droplet_id = 0;
  std::optional<DropletOperation> operation;
  std::vector<DropletOperation> history;  // finished runs, oldest first, bounded
  std::optional<DiskResized> disk_resized;

  nlohmann::json to_json() const;
  // Reads a record; unknown fields are ignored and missing ones take their defaults.
  static DropletRecord from_json(const nlohmann::json& j);
};

// One completed resize, appended to the `droplet-resizes` log.
struct ResizeLogEntry {
  std::int64_t time_ms = 0;
  std::int64_t droplet_id = 0;
  std::int64_t action_id = 0;
  std::string from;
  std::string to;
  bool disk = false;

  nlohmann::json to_json() const;
  // Returns the entry, or nullopt when `j` has no integer droplet_id.
  static std::optional<ResizeLogEntry> from_json(const nlohmann::json& j);
};

// The name of the log of completed resizes.
inline constexpr const char* k_droplet_resizes_log = "droplet-resizes";

}  // namespace scalectl::ops
