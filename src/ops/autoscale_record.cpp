// The per-policy state record as JSON: tolerant reading, so older records still load.

#include <scalectl/ops/autoscale.hpp>

namespace scalectl::ops {

namespace {

using nlohmann::json;

std::int64_t to_ms(SystemTime t)
{
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SystemTime from_ms(std::int64_t ms)
{
  return SystemTime(std::chrono::milliseconds(ms));
}

json time_json(const std::optional<SystemTime>& t)
{
  if (!t) {
    return nullptr;
  }
  return {{"time_ms", to_ms(*t)}, {"time", format_rfc3339(*t)}};
}

std::optional<SystemTime> read_time(const json& j, const char* key)
{
  const auto it = j.find(key);
  if (it == j.end() || !it->is_object() || !it->contains("time_ms") || !(*it)["time_ms"].is_number_integer()) {
    return std::nullopt;
  }
  return from_ms((*it)["time_ms"].get<std::int64_t>());
}

template <class T>
std::optional<T> optional_value(const json& j, const char* key)
{
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return std::nullopt;
  }
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::vector<std::string> strings(const json& j, const char* key)
{
  std::vector<std::string> out;
  if (const auto it = j.find(key); it != j.end() && it->is_array()) {
    for (const auto& s : *it) {
      if (s.is_string()) {
        out.push_back(s.get<std::string>());
      }
    }
  }
  return out;
}

}  // namespace

json AutoscaleEvent::to_json() const
{
  return {{"time_ms", to_ms(time)},   {"time", format_rfc3339(time)}, {"from", from},
          {"to", to},                 {"direction", direction},       {"result", result},
          {"reasons", reasons},       {"note", note}};
}

json AutoscaleRecord::to_json() const
{
  json recs = json::array();
  for (const auto& r : history.recommendations) {
    recs.push_back({{"time_ms", to_ms(r.time)}, {"replicas", r.replicas}});
  }
  json evs = json::array();
  for (const auto& e : events) {
    evs.push_back(e.to_json());
  }
  json metric = nullptr;
  if (last_metric_time) {
    metric = time_json(last_metric_time);
    metric["value"] = last_metric ? json(*last_metric) : json(nullptr);
    metric["error"] = last_metric_error;
    metric["source"] = last_metric_source;
  }
  json run = nullptr;
  if (last_run_time) {
    run = time_json(last_run_time);
    run["desired"] = last_desired ? json(*last_desired) : json(nullptr);
    run["reasons"] = last_reasons;
  }
  return {
    {"version", 1},
    {"lineage", lineage},
    {"serial", serial},
    {"replicas", replicas ? json(*replicas) : json(nullptr)},
    {"last_scale_up", time_json(history.last_scale_up)},
    {"last_scale_down", time_json(history.last_scale_down)},
    {"recommendations", recs},
    {"last_metric", metric},
    {"last_run", run},
    {"events", evs},
  };
}

AutoscaleRecord AutoscaleRecord::from_json(const json& j)
{
  AutoscaleRecord r;
  if (!j.is_object()) {
    return r;
  }
  r.lineage = j.value("lineage", "");
  r.serial = optional_value<std::int64_t>(j, "serial").value_or(0);
  r.replicas = optional_value<std::int64_t>(j, "replicas");
  r.history.last_scale_up = read_time(j, "last_scale_up");
  r.history.last_scale_down = read_time(j, "last_scale_down");
  if (const auto it = j.find("recommendations"); it != j.end() && it->is_array()) {
    for (const auto& e : *it) {
      const auto time = optional_value<std::int64_t>(e, "time_ms");
      const auto replicas = optional_value<std::int64_t>(e, "replicas");
      if (time && replicas) {
        r.history.recommendations.push_back({from_ms(*time), *replicas});
      }
    }
  }
  if (const auto it = j.find("last_metric"); it != j.end() && it->is_object()) {
    r.last_metric_time = read_time(j, "last_metric");
    r.last_metric = optional_value<double>(*it, "value");
    r.last_metric_error = it->value("error", "");
    r.last_metric_source = it->value("source", "");
  }
  if (const auto it = j.find("last_run"); it != j.end() && it->is_object()) {
    r.last_run_time = read_time(j, "last_run");
    r.last_desired = optional_value<std::int64_t>(*it, "desired");
    r.last_reasons = strings(*it, "reasons");
  }
  if (const auto it = j.find("events"); it != j.end() && it->is_array()) {
    for (const auto& e : *it) {
      const auto time = optional_value<std::int64_t>(e, "time_ms");
      if (!time || !e.is_object()) {
        continue;
      }
      AutoscaleEvent ev;
      ev.time = from_ms(*time);
      ev.from = optional_value<std::int64_t>(e, "from").value_or(0);
      ev.to = optional_value<std::int64_t>(e, "to").value_or(0);
      ev.direction = e.value("direction", "");
      ev.result = e.value("result", "");
      ev.reasons = strings(e, "reasons");
      ev.note = e.value("note", "");
      r.events.push_back(std::move(ev));
    }
  }
  return r;
}

}  // namespace scalectl::ops
