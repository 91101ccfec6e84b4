#pragma once
// Droplet size as desired state: claims that workloads record, and the pure decision of what
// size a droplet should have now. No I/O: the store, the API and the clock are the caller's.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace scalectl::core {

// A size as /v2/sizes describes it: what ordering and "satisfies" compare.
struct SizeSpec {
  std::string slug;
  std::int64_t memory_mb = 0;
  int vcpus = 0;
};

// Returns true when `have` is at least as large as `want` in memory and in vCPUs.
bool satisfies(const SizeSpec& have, const SizeSpec& want);

// Returns the size of `sizes` named `slug`, or nullopt.
std::optional<SizeSpec> find_size(const std::vector<SizeSpec>& sizes, std::string_view slug);

// Returns the slug of the largest of `slugs` (memory, then vCPUs) among known `sizes`; a slug
// not in `sizes` ranks lowest. Returns "" when `slugs` is empty.
std::string largest_size(const std::vector<SizeSpec>& sizes, const std::vector<std::string>& slugs);

// One workload's claim on a droplet size.
struct Claim {
  std::string id;
  std::string size;
  std::string host;
  long pid = 0;
  std::int64_t created_ms = 0;
  std::int64_t renewed_ms = 0;
  std::optional<std::int64_t> expires_at_ms;  // nullopt: never expires (--ttl 0)

  // Returns true when the claim counts at `now_ms`.
  bool live(std::int64_t now_ms) const { return !expires_at_ms || *expires_at_ms > now_ms; }
  nlohmann::json to_json() const;
  // Throws Error(failure) when `j` is not a claim record.
  static Claim from_json(const nlohmann::json& j);
};

// Every claim on one droplet, as one state-store record ("droplet-<id>-claims").
struct ClaimSet {
  std::map<std::string, Claim> claims;
  std::int64_t last_ended_ms = 0;  // when the last claim was removed or expired (0: never)

  // Drops claims expired at `now_ms`, moving last_ended_ms to their expiry.
  void prune(std::int64_t now_ms);
  // Returns the live claims at `now_ms`, oldest first.
  std::vector<Claim> live(std::int64_t now_ms) const;
  nlohmann::json to_json() const;
  // Returns an empty set for null; throws Error(failure) when `j` is not a claims record.
  static ClaimSet from_json(const nlohmann::json& j);
};

// Returns nullopt when `id` is a usable claim id (1-128 printable ASCII characters, no spaces
// or controls), else why it is not.
std::optional<std::string> claim_id_problem(std::string_view id);

// What a reconcile sees of one droplet and its signals.
struct ReconcileInput {
  std::int64_t now_ms = 0;
  std::string current_size;
  std::string status;                       // droplet status from the API
  bool resume_pending = false;              // the last recorded operation did not finish
  std::vector<Claim> claims;                // live claims
  std::vector<std::string> scheduled;       // sizes of the schedule windows open now
  std::string down_size;
  std::int64_t last_claim_ended_ms = 0;
  std::chrono::milliseconds down_delay{600'000};
  int live_leases = 0;                      // live leases in the droplet's capacity pool
  std::vector<SizeSpec> sizes;              // from /v2/sizes
};

// What a reconcile should do now.
struct ReconcileDecision {
  enum class Kind { none, resize, blocked } kind = Kind::none;
  std::string desired;   // the size the droplet should have
  std::string source;    // "claim <id>", "schedule <window size>", "down_size"
  std::string reason;    // one sentence for logs and reports
  std::optional<std::int64_t> not_before_ms;  // blocked by down_delay: when it may go down
};

// Returns the decision for `in`: the largest live claim, else the largest scheduled size,
// else down_size. Growing happens at once; shrinking needs no live claim, no live lease and
// down_delay passed since the last claim ended. A droplet that is off or mid-operation is
// resumed toward the desired size.
ReconcileDecision decide_reconcile(const ReconcileInput& in);

}  // namespace scalectl::core
