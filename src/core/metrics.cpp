#include <scalectl/core/metrics.hpp>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace scalectl::core {

using nlohmann::json;

namespace {

std::vector<PromFamily> make_families()
{
  return {
    {"scalectl_droplet_info", "gauge", "Droplet scalectl manages, with its size slug as a label; always 1"},
    {"scalectl_droplet_memory_bytes", "gauge", "Memory of the droplet's current size"},
    {"scalectl_droplet_vcpus", "gauge", "vCPUs of the droplet's current size"},
    {"scalectl_droplet_price_monthly_dollars", "gauge", "Monthly price of the droplet's current size"},
    {"scalectl_capacity_usable_cpu_cores", "gauge", "CPU of the capacity pool after the reserve"},
    {"scalectl_capacity_usable_memory_bytes", "gauge", "Memory of the capacity pool after the reserve"},
    {"scalectl_capacity_allocated_cpu_cores", "gauge", "CPU held by live leases, per worker type"},
    {"scalectl_capacity_allocated_memory_bytes", "gauge", "Memory held by live leases, per worker type"},
    {"scalectl_capacity_available_cpu_cores", "gauge", "CPU still free in the capacity pool"},
    {"scalectl_capacity_available_memory_bytes", "gauge", "Memory still free in the capacity pool"},
    {"scalectl_capacity_available_workers", "gauge", "How many more workers of this type fit right now"},
    {"scalectl_capacity_leases", "gauge", "Live leases, per worker type"},
    {"scalectl_autoscale_current_replicas", "gauge", "Replicas the autoscale target had at the last run"},
    {"scalectl_autoscale_desired_replicas", "gauge", "Replicas the last autoscale run decided on"},
    {"scalectl_autoscale_metric_value", "gauge", "Metric value read by the last autoscale run"},
    {"scalectl_last_run_timestamp_seconds", "gauge", "When a scalectl command last finished, in Unix seconds"},
    {"scalectl_last_run_success", "gauge", "1 if the command's last run exited 0 (or 4, change proposed), else 0"},
    {"scalectl_last_run_exit_code", "gauge", "Exit code of the command's last run"},
    {"scalectl_last_run_duration_seconds", "gauge", "How long the command's last run took"},
  };
}

bool name_char(char c, bool first)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

std::string escape_label_value(std::string_view value)
{
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double value)
{
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  return fmt::format("{}", value);
}

std::string series_key(const PromSample& s)
{
  std::string key = s.name + "{";
  for (const auto& [name, value] : s.labels) {
    key += name + "=\"" + escape_label_value(value) + "\",";
  }
  return key + "}";
}

}  // namespace

const std::vector<PromFamily>& metric_families()
{
  static const std::vector<PromFamily> k_families = make_families();
  return k_families;
}

const PromFamily* find_metric_family(std::string_view name)
{
  for (const auto& family : metric_families()) {
    if (family.name == name) {
      return &family;
    }
  }
  return nullptr;
}

bool valid_metric_name(std::string_view name)
{
  if (name.empty() || !name_char(name.front(), true)) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) { return name_char(c, false); });
}

bool valid_label_name(std::string_view name)
{
  return valid_metric_name(name) && !name.starts_with("__");
}

std::string render_text_format(const std::vector<PromSample>& samples)
{
  // Sorted labels give a stable file; the map dedupes series, the later sample winning.
  std::map<std::string, std::map<std::string, const PromSample*>> by_family;
  for (const auto& sample : samples) {
    if (find_metric_family(sample.name) == nullptr) {
      continue;
    }
    if (!std::all_of(sample.labels.begin(), sample.labels.end(),
                     [](const auto& label) { return valid_label_name(label.first); })) {
      continue;
    }
    by_family[sample.name][series_key(sample)] = &sample;
  }
  std::string out;
  for (const auto& family : metric_families()) {
    const auto it = by_family.find(family.name);
    if (it == by_family.end()) {
      continue;
    }
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", family.name, family.help, family.name, family.type);
    for (const auto& [key, sample] : it->second) {
      out += sample->name;
      if (!sample->labels.empty()) {
        out += '{';
        bool first = true;
        for (const auto& [name, value] : sample->labels) {
          out += fmt::format("{}{}=\"{}\"", first ? "" : ",", name, escape_label_value(value));
          first = false;
        }
        out += '}';
      }
      out += ' ' + format_value(sample->value) + '\n';
    }
  }
  return out;
}

json merge_metric_groups(json state, const std::map<std::string, std::vector<PromSample>>& updates,
                         std::int64_t now_ms)
{
  if (!state.is_object()) {
    state = json::object();
  }
  if (!state.contains("groups") || !state["groups"].is_object()) {
    state["groups"] = json::object();
  }
  for (const auto& [group, samples] : updates) {
    json list = json::array();
    for (const auto& s : samples) {
      json labels = json::array();
      for (const auto& [name, value] : s.labels) {
        labels.push_back({name, value});
      }
      // JSON has no NaN or infinity: such values are not remembered.
      if (std::isfinite(s.value)) {
        list.push_back({{"name", s.name}, {"labels", labels}, {"value", s.value}});
      }
    }
    state["groups"][group] = {{"updated_ms", now_ms}, {"samples", list}};
  }
  return state;
}

std::vector<PromSample> remembered_samples(const json& state)
{
  std::vector<PromSample> out;
  if (!state.is_object() || !state.contains("groups") || !state["groups"].is_object()) {
    return out;
  }
  for (const auto& [group, entry] : state["groups"].items()) {
    if (!entry.is_object() || !entry.contains("samples") || !entry["samples"].is_array()) {
      continue;
    }
    for (const auto& s : entry["samples"]) {
      if (!s.is_object() || !s.contains("name") || !s["name"].is_string() || !s.contains("value") ||
          !s["value"].is_number()) {
        continue;
      }
      PromSample sample;
      sample.name = s["name"].get<std::string>();
      sample.value = s["value"].get<double>();
      bool ok = true;
      for (const auto& label : s.value("labels", json::array())) {
        if (!label.is_array() || label.size() != 2 || !label[0].is_string() || !label[1].is_string()) {
          ok = false;
          break;
        }
        sample.labels.emplace_back(label[0].get<std::string>(), label[1].get<std::string>());
      }
      if (ok) {
        out.push_back(std::move(sample));
      }
    }
  }
  return out;
}

}  // namespace scalectl::core
