#pragma once
// App Platform endpoints of the DigitalOcean API v2: apps, their deployments and instance sizes.
// App specs are read as core::RawJson and written back with it, so a PUT sends every field the
// API returned (unknown ones, encrypted SECRET values) unchanged.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include <scalectl/core/app_spec.hpp>
#include <scalectl/core/raw_json.hpp>

namespace scalectl::digitalocean {

class Api;

// One deployment, with its progress summary and, when it failed, the step that failed.
struct Deployment {
  std::string id;
  std::string phase;  // PENDING_BUILD, BUILDING, PENDING_DEPLOY, DEPLOYING, ACTIVE, SUPERSEDED, ERROR, CANCELED
  std::string cause;
  std::string created_at;
  std::string updated_at;
  std::int64_t success_steps = 0;
  std::int64_t error_steps = 0;
  std::int64_t total_steps = 0;
  std::string failed_step;     // e.g. "deploy > web > wait"; "" when no step failed or was canceled
  std::string failure_reason;  // e.g. "DeployHealthChecksFailed: the component did not pass its health checks"

  // Returns true once the phase can no longer change (ACTIVE, SUPERSEDED, ERROR, CANCELED).
  bool finished() const;
};

struct App {
  std::string id;
  std::string name;  // spec.name
  core::RawJson spec;
  std::optional<Deployment> active_deployment;
  std::optional<Deployment> in_progress_deployment;
  std::optional<Deployment> pending_deployment;
  std::string updated_at;
};

struct AppRef {
  std::string id;
  std::string name;
};

// Returns the app with its spec kept as sent (GET /v2/apps/{id}); a 404 names the app.
App get_app(Api& client, const std::string& app_id);

// Returns the id and name of every app, following links.pages.next (GET /v2/apps).
std::vector<AppRef> list_apps(Api& client);

// Replaces the app's spec (PUT /v2/apps/{id}) with update_all_source_versions false, so no new
// source is pulled, and returns the app as answered (with the new deployment when the API shows it).
App update_app_spec(Api& client, const std::string& app_id, const core::RawJson& spec);

// Returns one deployment (GET /v2/apps/{app_id}/deployments/{id}).
Deployment get_deployment(Api& client, const std::string& app_id, const std::string& deployment_id);

// Returns the app's most recent deployments, newest first (first page only).
std::vector<Deployment> list_deployments(Api& client, const std::string& app_id, int per_page);

// Returns every instance size (GET /v2/apps/tiers/instance_sizes); the API sends its numbers as
// JSON strings ("536870912", "5.00"), which are parsed as numbers here.
std::vector<core::AppSize> list_instance_sizes(Api& client);

// Parse API objects (exposed for unit tests).
Deployment parse_deployment(const core::RawJson& j);
core::AppSize parse_instance_size(const nlohmann::json& j);
App parse_app(const core::RawJson& j);

// Returns the PUT body for `spec`: {"spec":<spec as read>,"update_all_source_versions":false}.
std::string app_update_body(const core::RawJson& spec);

}  // namespace scalectl::digitalocean
