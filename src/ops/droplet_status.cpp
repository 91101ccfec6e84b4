// `droplet status`: the droplet as the API sees it, next to scalectl's record and lock.

#include <scalectl/ops/droplet.hpp>

#include <scalectl/error.hpp>
#include <scalectl/ops/lock_holder.hpp>

namespace scalectl::ops {

using nlohmann::json;

json DropletStatusReport::to_json() const
{
  const auto& d = droplet;
  json out = {
    {"droplet",
     {{"id", d.id},
      {"name", d.name},
      {"status", d.status},
      {"locked", d.locked},
      {"size_slug", d.size_slug},
      {"memory_mb", d.memory_mb},
      {"vcpus", d.vcpus},
      {"disk_gb", d.disk_gb},
      {"price_monthly", d.price_monthly},
      {"price_hourly", d.price_hourly},
      {"region", d.region}}},
    {"in_progress_action", in_progress ? json{{"id", in_progress->id},
                                              {"type", in_progress->type},
                                              {"started_at", in_progress->started_at}}
                                       : json(nullptr)},
    {"last_operation", last_operation ? last_operation->to_json() : json(nullptr)},
    {"lock", lock},
    {"disk_resized", disk_resized ? json{{"to", disk_resized->to},
                                         {"action_id", disk_resized->action_id},
                                         {"at", disk_resized->at}}
                                  : json(nullptr)},
  };
  if (!state_error.empty()) {
    out["state_error"] = state_error;
  }
  return out;
}

std::int64_t selected_droplet(digitalocean::Api& api, const std::optional<std::string>& spec)
{
  if (!spec || spec->empty()) {
    throw usage_error("no droplet given; pass --droplet ID|NAME, set DROPLET_ID, or set [droplet] id in the config");
  }
  return resolve_droplet(api, *spec);
}

DropletStatusReport droplet_status(DropletDeps& deps, const std::string& spec)
{
  const auto id = selected_droplet(deps.api, spec);
  DropletStatusReport report;
  report.droplet = deps.api.get_droplet(id);
  if (report.droplet.locked) {
    report.in_progress = digitalocean::in_progress_action(deps.api, id);
  }
  report.lock = nullptr;
  try {
    auto& store = deps.store();
    if (const auto rec = store.get(droplet_record_key(id))) {
      const auto record = DropletRecord::from_json(*rec);
      report.last_operation = record.operation;
      report.disk_resized = record.disk_resized;
    }
    report.lock = lock_holder_json(store.lock_holder(droplet_lock_resource(id)));
  } catch (const Error& e) {
    report.state_error = e.what();
  }
  return report;
}

}  // namespace scalectl::ops
