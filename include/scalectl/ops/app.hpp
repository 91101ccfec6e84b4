#pragma once
// App Platform operations: resolve an app, report its components, and scale one component
// through the API under the per-app operation lock, waiting for the deployment it starts.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <scalectl/core/app_spec.hpp>
#include <scalectl/digitalocean/apps.hpp>
#include <scalectl/ops/result.hpp>
#include <scalectl/state/store.hpp>

namespace scalectl {
class Clock;
class Reporter;
namespace digitalocean {
class Api;
}
}  // namespace scalectl

namespace scalectl::ops {

// The adapters an app operation uses. The store is opened only when asked for (dry runs and
// status work without it).
struct AppDeps {
  digitalocean::Api& api;
  std::function<state::Store&()> store;
  Clock& clock;
  Reporter& reporter;
  state::LockOwner owner;
};

// Returns the app id for `spec`: a UUID is an id; anything else is matched against the names
// (and ids) of GET /v2/apps. Throws Error(usage) when empty and Error(failure) when not found.
std::string resolve_app(digitalocean::Api& api, const std::string& spec);

struct AppScaleOptions {
  std::string component;
  core::ScaleRequest request;
  std::string source = "flags";  // where the request came from: "flags" or the --from-file path
  std::int64_t workers_rule_mb = 512;
  bool dry_run = false;
  bool no_wait = false;
  std::chrono::milliseconds wait_lock{0};
  std::chrono::milliseconds timeout{20 * 60 * 1000};
  std::chrono::milliseconds poll_min{500};
  std::chrono::milliseconds poll_max{5'000};
};

// What a scale did; printed as text or as the stable JSON object of `app scale -o json`.
struct AppScaleReport {
  std::string app_id;
  std::string app_name;
  std::string component;
  Result result = Result::noop;  // changed (scaled), noop, dry_run, submitted
  core::ComponentScale before;
  core::ComponentScale after;
  core::CostRange cost_before;
  core::CostRange cost_after;
  std::vector<core::FieldChange> changes;
  std::optional<digitalocean::Deployment> deployment;  // started (or waited for) by this run
  std::chrono::milliseconds duration{0};
  int api_requests = 0;

  nlohmann::json to_json() const;
};

// Applies options.request to the component and waits for the deployment to be ACTIVE. Idempotent:
// when the spec already matches nothing is sent (a deployment still in progress is waited for).
// Throws Error(usage) for a request App Platform would refuse, Error(lock_held) when another run
// holds the app's lock, Error(failure) naming the failed step when the deployment ends ERROR or
// CANCELED, Error(timeout) past options.timeout and Interrupted on a signal.
AppScaleReport scale_app(AppDeps& deps, const std::string& app_id, const AppScaleOptions& options);

// One component as `app status` shows it.
struct ComponentStatus {
  core::ComponentScale scale;
  core::CostRange cost;
  std::optional<core::AppSize> size;           // nullopt when the slug is not in the sizes list
  std::optional<std::int64_t> rule_workers;    // WEB_CONCURRENCY the size's rule asks for
  std::optional<bool> workers_match;           // nullopt when WEB_CONCURRENCY is unset or unreadable
};

struct AppStatusReport {
  std::string app_id;
  std::string app_name;
  std::string updated_at;
  std::int64_t workers_rule_mb = 512;
  std::vector<ComponentStatus> components;
  core::CostRange total_cost;
  std::optional<digitalocean::Deployment> active_deployment;
  std::optional<digitalocean::Deployment> in_progress_deployment;
  nlohmann::json last_scale;  // the record of scalectl's last scale of this app, or null
  nlohmann::json lock;        // the lock holder, or null
  std::string state_error;    // why the store could not be read ("" when it could)
  int api_requests = 0;

  nlohmann::json to_json() const;
};

// Returns the components (all, or only `component`) with sizes, costs and deployments, and what
// scalectl last did. A store that cannot be read is reported in state_error, not thrown.
AppStatusReport app_status(AppDeps& deps, const std::string& app_id, const std::string& component,
                           std::int64_t workers_rule_mb);

// Returns the component's scaling fields as JSON (size, instance_count or autoscaling, WEB_CONCURRENCY).
nlohmann::json component_json(const core::ComponentScale& component);
// Returns {"min":..,"max":..} in USD per month, or null when unknown.
nlohmann::json cost_json(const core::CostRange& cost);
// Returns the deployment as JSON (id, phase, progress, failed step), or null.
nlohmann::json deployment_json(const std::optional<digitalocean::Deployment>& deployment);

// Returns the app spec in a local file (the `.do/app.yaml` workflow): JSON when the name ends in
// .json or the text starts with '{', YAML otherwise. Throws Error(usage) naming file:line:col when
// it cannot be read or parsed.
core::RawJson read_spec_file(const std::string& path);

// The state-store key of an app's record and the name of its operation lock ("app-<id>").
std::string app_record_key(const std::string& app_id);
std::string app_lock_resource(const std::string& app_id);

}  // namespace scalectl::ops
