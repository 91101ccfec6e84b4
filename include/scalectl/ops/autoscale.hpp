#pragma once
// Autoscale policies against real adapters: reading a policy from the configuration, reading
// its metric and its current worker count, the per-policy state record, saved plan files, and
// the plan/apply drivers. The decision itself is core::plan_autoscale (core/autoscale.hpp).

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/core/autoscale.hpp>
#include <scalectl/ops/capacity.hpp>
#include <scalectl/ops/result.hpp>
#include <scalectl/state/store.hpp>

namespace scalectl {
class Reporter;
class ProcessRunner;
namespace config {
class Config;
}
namespace digitalocean {
class Api;
}
namespace net {
class Transport;
}
}  // namespace scalectl

namespace scalectl::ops {

// --- policies ---------------------------------------------------------------------------------

// Where a policy's metric comes from (exactly one of metric.value/command/redis/http).
struct MetricSpec {
  enum class Kind { none, value, command, redis, http } kind = Kind::none;
  double value = 0;
  std::string command;       // shell command; its stdout is the metric
  std::string redis_key;     // key whose length (by type) is the metric
  std::string redis_url;     // the Redis to read it from ("" = state.redis_url)
  std::string http_url;      // URL returning the metric
  std::string json_pointer;  // where the number is in a JSON answer ("" = the whole answer)
  std::chrono::milliseconds timeout{30'000};
};

// One entry of `metrics = [...]`: where it comes from and its own target, if any.
struct MetricEntry {
  MetricSpec spec;
  std::string name;                          // for reasons and logs; "" = "metric N"
  std::optional<double> units_per_worker;    // nullopt: the policy's
  std::optional<double> target_utilisation;  // nullopt: the policy's
};

// Where a policy's worker count lives and how it is changed.
struct TargetSpec {
  std::string kind = "manual";  // manual, do-app, docker-compose, kubernetes, command
  std::string app;
  std::string component;
  std::string compose_project;
  std::string compose_service;
  std::string compose_file;
  std::string k8s_deployment;
  std::string k8s_namespace;
  std::string k8s_context;
  std::string command;  // template with {replicas} and {current}
  std::chrono::milliseconds timeout{300'000};
};

// One [autoscale.policies.NAME] table, validated.
struct PolicyConfig {
  std::string name;
  core::AutoscalePolicy tuning;
  MetricSpec metric;
  MetricEntry metric_own;                 // the first metric's name and target when it came from metrics = [...]
  std::vector<MetricEntry> more_metrics;  // metrics beyond the first; the proposal is the largest
  TargetSpec target;
  std::string capacity_type;  // "" = no capacity limit
  std::chrono::milliseconds plan_ttl{15 * 60'000};
  bool enabled = true;
  std::string digest;  // hash of every effective value of the table, for saved plans
};

// Returns the names of the configured policies, in first-seen order.
std::vector<std::string> policy_names(const config::Config& config);

// Reads and validates policy `name`. Throws Error(usage) naming the key, its origin and the fix
// (unknown policy, missing units_per_worker/min/max, thresholds not ordered, target keys missing).
PolicyConfig load_policy(const config::Config& config, const std::string& name);

// The state-store key and lock resource of a policy ("autoscale-<policy>").
std::string autoscale_key(const std::string& policy);

// --- metric -----------------------------------------------------------------------------------

// Where to find a Redis server for `redis` metrics.
struct RedisAccess {
  std::string url;
  std::string password;  // used when the URL has none
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds command_timeout{5'000};
};

// The length of a Redis key and the type that chose the command.
struct RedisLength {
  std::int64_t length = 0;
  std::string type;     // "list", "zset", "set", "hash", "stream", "none"
  std::string command;  // "LLEN", "ZCARD", "SCARD", "HLEN", "XLEN", "" for a missing key
};

// Returns the length of `key`: TYPE first, then LLEN/ZCARD/SCARD/HLEN/XLEN; a missing key is 0.
// Throws Error(failure) when Redis cannot be reached or the key holds a string or another type.
RedisLength redis_key_length(const RedisAccess& access, const std::string& key);

// What a metric read needs; each member is only used by the matching metric kind.
struct MetricDeps {
  ProcessRunner& processes;
  // Returns a transport without credentials, bounded by `timeout`.
  std::function<std::unique_ptr<net::Transport>(std::chrono::milliseconds timeout)> http;
  // Returns the length of `key` on the Redis at `url` ("" = the state's Redis).
  std::function<RedisLength(const std::string& url, const std::string& key)> redis;
};

// A metric as read, and how.
struct MetricReading {
  core::MetricSample sample;
  std::string source;  // "value 850 (config)", "redis LLEN queue (list)", "command `...`"
};

// Reads the metric. Never throws for a metric that cannot be read: the error goes into
// sample.error, so the pipeline applies on_metric_error.
MetricReading read_metric(const MetricSpec& spec, MetricDeps& deps);

// Returns the number `text` holds: surrounding whitespace allowed, nothing else. With a JSON
// pointer, `text` is JSON and the pointer must reach a number (or a string holding one).
// Returns the reason on failure, e.g. "stdout must be a single number, got \"12 items\"".
std::expected<double, std::string> parse_metric_text(const std::string& text, const std::string& json_pointer,
                                                     const std::string& what);

// --- capacity ---------------------------------------------------------------------------------

// Returns how many more workers of `worker_type` fit in the capacity pool next to its live
// leases, with the budget `capacity check` uses (capacity_settings: limits not set are detected
// with `probe`). Throws Error(usage) for an unknown worker type or invalid [capacity] values.
core::CapacityLimit capacity_limit(const config::Config& config, state::Store& store, const std::string& worker_type,
                                   const HostProbe& probe = {});

// --- targets ----------------------------------------------------------------------------------

// Where the worker count lives. One implementation per TargetSpec::kind.
class ReplicaTarget {
 public:
  virtual ~ReplicaTarget() = default;
  // Returns the current count; throws Error(failure) when it cannot be read.
  virtual std::int64_t current() = 0;
  // Sets the count to `replicas` and returns a short note for the record ("" when none);
  // throws Error(failure) saying what failed and that the count may be partly applied, or
  // Error(lock_held), before changing anything, when another run holds the target's lock.
  virtual std::string apply(std::int64_t replicas) = 0;
  // Returns what is scaled, e.g. "docker compose project warmup, service worker".
  virtual std::string describe() const = 0;
  // Returns where current() reads the count, e.g. "docker compose ps".
  virtual std::string current_source() const = 0;
};

// What a target needs: processes for docker/kubectl/command targets, the DO client for do-app,
// and for manual/command targets the count last applied (from the state) or a --current override.
struct TargetDeps {
  ProcessRunner& processes;
  std::function<digitalocean::Api&()> digitalocean;
  std::optional<std::int64_t> recorded;  // the state's last applied count
  std::optional<std::int64_t> override_current;
  std::int64_t min = 0;
  std::string policy;
  // Takes the operation lock of a resource the target changes (do-app: "app-<id>") without
  // waiting, as the apply takes its own; throws Error(lock_held) naming the holder.
  std::function<std::unique_ptr<state::OperationLock>(const std::string& resource)> lock;
};

// Returns the target for `spec`. Throws Error(usage) when a key it needs is missing, or when
// --current is given for a target whose count is observed.
std::unique_ptr<ReplicaTarget> make_target(const TargetSpec& spec, TargetDeps deps);

// --- state record -----------------------------------------------------------------------------

// One applied (or failed) change, kept in the record's event log.
struct AutoscaleEvent {
  SystemTime time;
  std::int64_t from = 0;
  std::int64_t to = 0;
  std::string direction;  // "up", "down"
  std::string result;     // "ok", "failed"
  std::vector<std::string> reasons;
  std::string note;  // target note or error

  // Returns {time_ms, time (RFC 3339), from, to, direction, result, reasons, note}: the one JSON
  // form of an event, in the record and in `autoscale run`'s status API.
  nlohmann::json to_json() const;
};

// The per-policy record under autoscale_key(policy).
struct AutoscaleRecord {
  std::string lineage;  // random id created by the first apply
  std::int64_t serial = 0;  // bumped by every apply
  std::optional<std::int64_t> replicas;  // last applied count
  core::AutoscaleHistory history;
  std::optional<double> last_metric;
  std::string last_metric_error;
  std::string last_metric_source;
  std::optional<SystemTime> last_metric_time;
  std::optional<SystemTime> last_run_time;
  std::optional<std::int64_t> last_desired;
  std::vector<std::string> last_reasons;
  std::vector<AutoscaleEvent> events;  // oldest first, bounded

  nlohmann::json to_json() const;
  // Reads a record; unknown fields are ignored and missing ones take their defaults.
  static AutoscaleRecord from_json(const nlohmann::json& j);
};

// --- plan and apply ---------------------------------------------------------------------------

// The adapters a plan or apply uses. All are owned by the caller.
struct AutoscaleDeps {
  const config::Config& config;
  state::Store& store;
  Clock& clock;
  Reporter& reporter;
  MetricDeps metric;
  TargetDeps target;  // recorded/override/min/policy are filled in per policy
  state::LockOwner owner;
  std::chrono::milliseconds wait_lock{0};  // how long apply waits for a held policy or app lock
};

struct PlanOptions {
  std::optional<double> metric;          // --metric N
  std::optional<std::int64_t> current;   // --current N (manual and command targets)
};

// Everything a plan was made from and what it decided.
struct PlanReport {
  PolicyConfig policy;
  core::PlanInput input;
  core::Plan plan;
  std::string metric_source;
  std::string current_source;
  std::string target;
  std::string lineage;       // the state's lineage when planned ("" before the first apply)
  std::int64_t serial = 0;   // the state's serial when planned
  SystemTime created_at;
  SystemTime expires_at;

  // Returns the stable JSON object of `autoscale plan -o json`.
  nlohmann::json to_json() const;
};

// Makes a plan for `policy` without changing anything: reads the state, the metric, the current
// count and the capacity. Throws Error(failure) when on_metric_error = fail and the metric
// cannot be read.
PlanReport make_plan(AutoscaleDeps& deps, const PolicyConfig& policy, const PlanOptions& options);

// What an apply did.
struct ApplyReport {
  nlohmann::json plan;  // the plan applied, as PlanReport::to_json() (or the saved plan)
  std::int64_t from = 0;
  std::int64_t to = 0;
  std::string decision;              // core::decision_name
  std::vector<std::string> reasons;  // reason texts
  Result result = Result::noop;  // changed (the target was set), noop, dry_run
  std::string note;    // the target's note ("deployment 1234", "")
  std::int64_t serial = 0;  // the state's serial after the apply (unchanged for a dry run)
  std::chrono::milliseconds duration{0};

  nlohmann::json to_json() const;
};

// Plans and applies under the policy's lock (Error(lock_held) if another run holds it).
// With dry_run it stops right before the single write and changes nothing.
ApplyReport apply_policy(AutoscaleDeps& deps, const PolicyConfig& policy, const PlanOptions& options, bool dry_run);

// A plan saved with `autoscale plan --out`.
struct SavedPlan {
  nlohmann::json document;  // the whole file
  std::string policy;
  std::string policy_digest;
  std::string lineage;
  std::int64_t serial = 0;
  std::int64_t observed = 0;
  std::optional<std::int64_t> current_override;
  std::int64_t desired = 0;
  std::optional<std::int64_t> recommendation;
  std::vector<std::string> reasons;
  SystemTime created_at;
  SystemTime expires_at;
};

// Returns the plan file's JSON for `report`.
nlohmann::json saved_plan_json(const PlanReport& report, const PlanOptions& options);
// Writes `document` to `path` atomically (temp file in the same directory, fsync, rename).
void write_plan_file(const std::filesystem::path& path, const nlohmann::json& document);
// Reads a plan file; throws Error(usage) when it is missing, not JSON or not a scalectl plan.
SavedPlan read_plan_file(const std::filesystem::path& path);

// Applies exactly `saved` under the policy's lock. Throws Error(stale_plan) when the plan expired,
// the policy changed, the state's lineage or serial moved, or the observed count changed.
ApplyReport apply_saved_plan(AutoscaleDeps& deps, const PolicyConfig& policy, const SavedPlan& saved, bool dry_run);

// The status of one policy, as `autoscale status` shows it.
struct PolicyStatus {
  PolicyConfig policy;
  AutoscaleRecord record;
  std::optional<std::int64_t> current;
  std::string current_error;
  std::string target;
  std::optional<SystemTime> up_cooldown_until;
  std::optional<SystemTime> down_cooldown_until;
  SystemTime now;
  std::optional<state::LockOwner> lock;

  nlohmann::json to_json(std::size_t events) const;
};

// Reads one policy's status; the current count is read from the target, and an error there is
// reported in current_error instead of thrown.
PolicyStatus policy_status(AutoscaleDeps& deps, const PolicyConfig& policy);

}  // namespace scalectl::ops
