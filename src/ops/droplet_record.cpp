// The droplet record and the resize log entry as JSON: tolerant reading, so older records load.

#include <scalectl/ops/droplet_record.hpp>

namespace scalectl::ops {

using nlohmann::json;

namespace {

template <class T>
T value_or(const json& j, const char* key, T fallback)
{
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return fallback;
  }
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return fallback;
  }
}

}  // namespace

bool DropletOperation::pending() const
{
  return result == "submitted" || result == "interrupted" || result == "timeout" || result == "running";
}

json DropletOperation::to_json() const
{
  json actions_json = json::array();
  for (const auto& a : actions) {
    actions_json.push_back({{"id", a.id}, {"type", a.type}, {"status", a.status}});
  }
  json j = {
    {"direction", direction},
    {"from_size", from_size},
    {"to_size", to_size},
    {"phase", phase},
    {"result", result},
    {"actions", actions_json},
    {"resize_disk", resize_disk},
    {"memory_before_mb", memory_before_mb},
    {"started_at", started_at},
    {"updated_at", updated_at},
    {"pid", pid},
    {"host", host},
    {"command", command},
  };
  if (!error.empty()) {
    j["error"] = error;
  }
  if (!ended_at.empty()) {
    j["ended_at"] = ended_at;
  }
  if (memory_after_mb) {
    j["memory_after_mb"] = *memory_after_mb;
  }
  return j;
}

DropletOperation DropletOperation::from_json(const json& j)
{
  DropletOperation op;
  if (!j.is_object()) {
    return op;
  }
  op.direction = value_or<std::string>(j, "direction", "");
  op.from_size = value_or<std::string>(j, "from_size", "");
  op.to_size = value_or<std::string>(j, "to_size", "");
  op.phase = value_or<std::string>(j, "phase", "");
  op.result = value_or<std::string>(j, "result", "");
  if (const auto it = j.find("actions"); it != j.end() && it->is_array()) {
    for (const auto& a : *it) {
      if (a.is_object()) {
        op.actions.push_back({value_or<std::int64_t>(a, "id", 0), value_or<std::string>(a, "type", ""),
                              value_or<std::string>(a, "status", "")});
      }
    }
  }
  op.resize_disk = value_or(j, "resize_disk", false);
  op.memory_before_mb = value_or<std::int64_t>(j, "memory_before_mb", 0);
  if (j.contains("memory_after_mb")) {
    op.memory_after_mb = value_or<std::int64_t>(j, "memory_after_mb", 0);
  }
  op.started_at = value_or<std::string>(j, "started_at", "");
  op.updated_at = value_or<std::string>(j, "updated_at", "");
  op.ended_at = value_or<std::string>(j, "ended_at", "");
  op.pid = value_or<long>(j, "pid", 0);
  op.host = value_or<std::string>(j, "host", "");
  op.command = value_or<std::string>(j, "command", "");
  op.error = value_or<std::string>(j, "error", "");
  return op;
}

json DropletRecord::to_json() const
{
  json j = json::object();
  j["droplet_id"] = droplet_id;
  if (operation) {
    j["operation"] = operation->to_json();
  }
  if (!history.empty()) {
    json h = json::array();
    for (const auto& op : history) {
      h.push_back(op.to_json());
    }
    j["history"] = h;
  }
  if (disk_resized) {
    j["disk_resized"] = {{"to", disk_resized->to}, {"action_id", disk_resized->action_id}, {"at", disk_resized->at}};
  }
  return j;
}

DropletRecord DropletRecord::from_json(const json& j)
{
  DropletRecord rec;
  if (!j.is_object()) {
    return rec;
  }
  rec.droplet_id = value_or<std::int64_t>(j, "droplet_id", 0);
  if (const auto it = j.find("operation"); it != j.end() && it->is_object()) {
    rec.operation = DropletOperation::from_json(*it);
  }
  if (const auto it = j.find("history"); it != j.end() && it->is_array()) {
    for (const auto& op : *it) {
      rec.history.push_back(DropletOperation::from_json(op));
    }
  }
  if (const auto it = j.find("disk_resized"); it != j.end() && it->is_object()) {
    rec.disk_resized = DiskResized{value_or<std::string>(*it, "to", ""), value_or<std::int64_t>(*it, "action_id", 0),
                                   value_or<std::string>(*it, "at", "")};
  }
  return rec;
}

json ResizeLogEntry::to_json() const
{
  return {{"time_ms", time_ms}, {"droplet_id", droplet_id}, {"action_id", action_id},
          {"from", from},       {"to", to},                 {"disk", disk}};
}

std::optional<ResizeLogEntry> ResizeLogEntry::from_json(const json& j)
{
  const auto id = j.is_object() ? j.find("droplet_id") : j.end();
  if (!j.is_object() || id == j.end() || !id->is_number_integer()) {
    return std::nullopt;
  }
  ResizeLogEntry e;
  e.droplet_id = id->get<std::int64_t>();
  e.time_ms = value_or<std::int64_t>(j, "time_ms", 0);
  e.action_id = value_or<std::int64_t>(j, "action_id", 0);
  e.from = value_or<std::string>(j, "from", "");
  e.to = value_or<std::string>(j, "to", "");
  e.disk = value_or(j, "disk", false);
  return e;
}

}  // namespace scalectl::ops
