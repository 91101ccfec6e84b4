#include <scalectl/ops/lock_holder.hpp>
#include <scalectl/ops/app.hpp>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <scalectl/clock.hpp>
#include <scalectl/digitalocean/client.hpp>

namespace scalectl::ops {

using nlohmann::json;

namespace {

bool looks_like_uuid(const std::string& text)
{
  if (text.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : std::isxdigit(static_cast<unsigned char>(text[i])) == 0) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string app_record_key(const std::string& app_id)
{
  return "app-" + app_id;
}

std::string app_lock_resource(const std::string& app_id)
{
  return "app-" + app_id;
}

std::string resolve_app(digitalocean::Api& api, const std::string& spec)
{
  if (spec.empty()) {
    throw usage_error("no app given; pass APP (id or name), set SCALECTL_APP_ID, or set [app] id in the config");
  }
  if (looks_like_uuid(spec)) {
    return spec;
  }
  const auto apps = digitalocean::list_apps(api);
  std::vector<std::string> ids;
  for (const auto& a : apps) {
    if (a.name == spec || a.id == spec) {
      ids.push_back(a.id);
    }
  }
  if (ids.empty()) {
    throw Error(fmt::format("no app is named '{}' among the {} apps this token can see; check the name with "
                            "`doctl apps list` or pass the app id",
                            spec, apps.size()));
  }
  if (ids.size() > 1) {
    throw usage_error(fmt::format("{} apps match '{}' (ids {}); pass the app id", ids.size(), spec,
                                  fmt::join(ids, ", ")));
  }
  return ids.front();
}

json component_json(const core::ComponentScale& c)
{
  json out = {{"name", c.name},
              {"kind", c.kind},
              {"size", c.size_slug},
              {"size_defaulted", c.size_defaulted},
              {"instance_count", c.autoscaling() ? json(nullptr) : json(c.instance_count)},
              {"autoscaling", nullptr},
              {"web_concurrency", c.web_concurrency ? json(*c.web_concurrency) : json(nullptr)},
              {"web_concurrency_source",
               c.web_concurrency ? json(c.web_concurrency_app_level ? "app" : "component") : json(nullptr)},
              {"web_concurrency_secret", c.web_concurrency_secret}};
  if (c.autoscaling()) {
    out["autoscaling"] = {{"min_instance_count", c.autoscale_min.value_or(0)},
                          {"max_instance_count", c.autoscale_max.value_or(0)},
                          {"cpu_percent", c.cpu_percent ? json(*c.cpu_percent) : json(nullptr)}};
  }
  return out;
}

json cost_json(const core::CostRange& cost)
{
  if (!cost.known) {
    return nullptr;
  }
  return {{"min", cost.min}, {"max", cost.max}};
}

json deployment_json(const std::optional<digitalocean::Deployment>& d)
{
  if (!d) {
    return nullptr;
  }
  json out = {{"id", d->id},
              {"phase", d->phase},
              {"cause", d->cause},
              {"created_at", d->created_at},
              {"updated_at", d->updated_at},
              {"progress",
               {{"success_steps", d->success_steps}, {"error_steps", d->error_steps}, {"total_steps", d->total_steps}}}};
  if (!d->failed_step.empty()) {
    out["failed_step"] = d->failed_step;
    out["failure_reason"] = d->failure_reason;
  }
  return out;
}

json AppStatusReport::to_json() const
{
  json components_json = json::array();
  for (const auto& c : components) {
    json entry = component_json(c.scale);
    entry["memory_bytes"] = c.size ? json(c.size->memory_bytes) : json(nullptr);
    entry["cpus"] = c.size ? json(c.size->cpus) : json(nullptr);
    entry["dedicated"] = c.size ? json(c.size->dedicated) : json(nullptr);
    entry["rule_workers"] = c.rule_workers ? json(*c.rule_workers) : json(nullptr);
    entry["workers_match"] = c.workers_match ? json(*c.workers_match) : json(nullptr);
    entry["monthly_cost_usd"] = cost_json(c.cost);
    components_json.push_back(std::move(entry));
  }
  json out = {{"app", {{"id", app_id}, {"name", app_name}, {"updated_at", updated_at}}},
              {"workers_rule_mb", workers_rule_mb},
              {"components", components_json},
              {"monthly_cost_usd", cost_json(total_cost)},
              {"active_deployment", deployment_json(active_deployment)},
              {"in_progress_deployment", deployment_json(in_progress_deployment)},
              {"last_scale", last_scale},
              {"lock", lock},
              {"api_requests", api_requests}};
  if (!state_error.empty()) {
    out["state_error"] = state_error;
  }
  return out;
}

AppStatusReport app_status(AppDeps& deps, const std::string& app_id, const std::string& component,
                           std::int64_t workers_rule_mb)
{
  AppStatusReport report;
  report.app_id = app_id;
  report.workers_rule_mb = workers_rule_mb;
  const auto app = digitalocean::get_app(deps.api, app_id);
  const auto sizes = digitalocean::list_instance_sizes(deps.api);
  report.app_name = app.name;
  report.updated_at = app.updated_at;
  report.active_deployment = app.active_deployment;
  report.in_progress_deployment = app.in_progress_deployment;

  const auto all = core::list_components(app.spec);
  for (const auto& scale : all) {
    if (!component.empty() && scale.name != component) {
      continue;
    }
    ComponentStatus status;
    status.scale = scale;
    status.cost = core::monthly_cost(scale, sizes);
    if (const auto* size = core::find_app_size(sizes, scale.size_slug)) {
      status.size = *size;
      status.rule_workers = core::workers_for_memory(size->memory_bytes, workers_rule_mb);
      if (scale.web_concurrency && !scale.web_concurrency_secret) {
        status.workers_match = *scale.web_concurrency == std::to_string(*status.rule_workers);
      }
    }
    report.components.push_back(std::move(status));
  }
  if (!component.empty() && report.components.empty()) {
    std::string names;
    for (const auto& c : all) {
      names += fmt::format("{}{} ({})", names.empty() ? "" : ", ", c.name, c.kind);
    }
    throw usage_error(fmt::format("app {} has no service, worker or job named '{}'; it has: {}", app.name, component,
                                  names.empty() ? "none" : names));
  }
  for (const auto& c : report.components) {
    report.total_cost.min += c.cost.min;
    report.total_cost.max += c.cost.max;
    report.total_cost.known = report.total_cost.known && c.cost.known;
  }
  report.last_scale = nullptr;
  report.lock = nullptr;
  try {
    auto& store = deps.store();
    if (const auto rec = store.get(app_record_key(app_id))) {
      report.last_scale = rec->value("operation", json(nullptr));
    }
    report.lock = lock_holder_json(store.lock_holder(app_lock_resource(app_id)));
  } catch (const Error& e) {
    report.state_error = e.what();
  }
  report.api_requests = deps.api.request_count();
  return report;
}

}  // namespace scalectl::ops
