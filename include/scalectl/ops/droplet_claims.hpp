#pragma once
// Droplet size as desired state: claims recorded in the state store by workloads, and the
// reconciler that converges droplets on the size their claims, schedule and down_size ask for.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include <scalectl/core/reconcile.hpp>
#include <scalectl/core/schedule.hpp>
#include <scalectl/ops/droplet.hpp>

namespace scalectl::ops {

// Where the state store lives, to refuse a store on the droplet being resized.
struct StateLocation {
  std::string redis_url;  // "" for the file backend (single host)
};

// `droplet claim`.
struct ClaimOptions {
  std::string droplet;  // id or unique name
  std::string id;
  std::string size;     // a slug; the caller maps "up" to up_size
  std::optional<std::chrono::milliseconds> ttl;  // nullopt: never expires
  std::optional<std::chrono::milliseconds> wait;  // --wait: block until granted
  SelfCheckOptions self_check;
  StateLocation state;
};

struct ClaimReport {
  core::Claim claim;
  bool renewed = false;
  std::string state;  // "granted" or "pending"
  digitalocean::Droplet droplet;
  std::chrono::milliseconds waited{0};

  nlohmann::json to_json() const;
};

// Records (or renews) claim options.id on the droplet and returns whether the droplet already
// satisfies it. Throws Error(usage) for a bad id, unknown size, or --wait on the droplet itself,
// Error(refused) when the Redis store lives on that droplet, Error(timeout) when --wait expires.
ClaimReport claim_droplet(DropletDeps& deps, const ClaimOptions& options);

// Removes claim `id` of the droplet; returns false when it did not exist (not an error).
bool unclaim_droplet(DropletDeps& deps, const std::string& droplet, const std::string& id);

// Returns the droplet's id and its live claims, oldest first.
std::pair<std::int64_t, std::vector<core::Claim>> list_claims(DropletDeps& deps, const std::string& droplet,
                                                              std::int64_t* now_ms = nullptr);

// The state-store key of a droplet's claims ("droplet-<id>-claims").
std::string droplet_claims_key(std::int64_t droplet_id);

// `droplet reconcile`.
struct ReconcileOptions {
  std::string droplet;  // one droplet (id or name), or
  std::string tag;      // every droplet with this tag
  bool dry_run = false;
  std::string up_size;
  std::vector<std::string> up_fallbacks;  // tried in order when the API refuses up_size
  std::string down_size;
  std::chrono::milliseconds down_delay{600'000};
  std::string capacity_pool;
  std::vector<core::ScheduleWindow> schedule;
  bool tag_trail = false;
  StateLocation state;
  ResizeOptions resize;  // timeouts, self check and resize_disk for the driver
};

// What one reconcile did to one droplet.
struct ReconcileOutcome {
  std::int64_t droplet_id = 0;
  std::string droplet_name;
  std::string current_size;
  std::string desired_size;
  std::string source;
  std::string result;  // "idle", "blocked", "resized", "would_resize", "locked", "failed"
  std::string reason;
  std::string size_used;  // the size actually reached (a fallback when the API refused)
  std::vector<std::string> refused_sizes;
  std::optional<ResizeReport> resize;
  std::string error;
  int exit_code = 0;

  nlohmann::json to_json() const;
};

struct ReconcileCycle {
  std::vector<ReconcileOutcome> droplets;
  int api_requests = 0;
  std::chrono::milliseconds duration{0};

  nlohmann::json to_json() const;
};

// Runs one reconcile of the selected droplet(s). Per-droplet failures are in the outcomes;
// throws Error for a failure before any droplet is looked at (API list, bad configuration).
ReconcileCycle reconcile_once(DropletDeps& deps, const ReconcileOptions& options);

// Runs reconcile_once every `every` (jittered by up to a tenth) until SIGINT/SIGTERM, calling
// `on_cycle` after each cycle and `on_error` for a failed one (then backing off).
void reconcile_every(DropletDeps& deps, const ReconcileOptions& options, std::chrono::milliseconds every,
                     const std::function<void(const ReconcileCycle&)>& on_cycle,
                     const std::function<void(const std::string&)>& on_error);

// `droplet schedule`: the windows and the next transitions from now.
struct ScheduleReport {
  std::vector<core::ScheduleWindow> windows;
  std::vector<std::string> open_now;
  std::vector<core::ScheduleTransition> transitions;

  nlohmann::json to_json() const;
};

// Returns the next `count` transitions of `windows` after `now`.
ScheduleReport schedule_report(const std::vector<core::ScheduleWindow>& windows,
                               std::chrono::system_clock::time_point now, std::size_t count = 10);

}  // namespace scalectl::ops
