// Reading one [autoscale.policies.NAME] table into a validated PolicyConfig.

#include <scalectl/core/identifier.hpp>
#include <scalectl/ops/autoscale.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/config/config.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>

#include "util/sha1.hpp"

namespace scalectl::ops {

namespace {

constexpr std::string_view k_policies = "autoscale.policies";

// Reads one policy's keys, naming the key and its origin in every error.
class PolicyReader {
 public:
  PolicyReader(const config::Config& config, std::string name)
      : m_config(config), m_name(std::move(name)), m_prefix(fmt::format("{}.{}.", k_policies, m_name))
  {
  }

  std::string key(std::string_view leaf) const { return m_prefix + std::string(leaf); }

  std::string where(std::string_view leaf) const
  {
    const auto* entry = m_config.find(key(leaf));
    return entry == nullptr ? key(leaf) : fmt::format("{} ({})", key(leaf), entry->origin.describe());
  }

  std::string string(std::string_view leaf) const { return m_config.get_string(key(leaf)).value_or(""); }
  std::optional<std::int64_t> integer(std::string_view leaf) const { return m_config.get_int(key(leaf)); }
  std::optional<double> number(std::string_view leaf) const { return m_config.get_number(key(leaf)); }
  std::optional<std::vector<std::string>> strings(std::string_view leaf) const
  {
    return m_config.get_strings(key(leaf));
  }
  std::optional<std::chrono::milliseconds> duration_opt(std::string_view leaf) const
  {
    return m_config.get_duration(key(leaf));
  }

  std::chrono::milliseconds duration(std::string_view leaf, std::chrono::milliseconds fallback) const
  {
    return m_config.get_duration(key(leaf)).value_or(fallback);
  }

  template <class T>
  T required(std::optional<T> value, std::string_view leaf, std::string_view example) const
  {
    if (!value) {
      throw usage_error(fmt::format("autoscale policy {} has no {}; set {} = {} under [autoscale.policies.{}]", m_name,
                                    leaf, leaf, example, m_name));
    }
    return *value;
  }

  [[noreturn]] void fail(std::string_view leaf, const std::string& problem) const
  {
    throw usage_error(fmt::format("{}: {}", where(leaf), problem));
  }

  // Returns a digest of every effective value in the table (not the origins).
  std::string digest() const
  {
    std::string text;
    for (const auto& [k, entry] : m_config.entries()) {
      if (!k.starts_with(m_prefix)) {
        continue;
      }
      text += k.substr(m_prefix.size());
      text += '=';
      std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            text += fmt::format("[{}]", fmt::join(v, ","));
          } else {
            text += fmt::format("{}", v);
          }
        },
        entry.value);
      text += '\n';
    }
    return "sha1:" + util::sha1_hex(text);
  }

 private:
  const config::Config& m_config;
  std::string m_name;
  std::string m_prefix;
};

MetricSpec read_metric_spec(const PolicyReader& r)
{
  MetricSpec spec;
  std::vector<std::string> given;
  if (const auto value = r.number("metric.value")) {
    spec.kind = MetricSpec::Kind::value;
    spec.value = *value;
    given.emplace_back("value");
  }
  if (spec.command = r.string("metric.command"); !spec.command.empty()) {
    spec.kind = MetricSpec::Kind::command;
    given.emplace_back("command");
  }
  if (spec.redis_key = r.string("metric.redis"); !spec.redis_key.empty()) {
    spec.kind = MetricSpec::Kind::redis;
    given.emplace_back("redis");
  }
  if (spec.http_url = r.string("metric.http"); !spec.http_url.empty()) {
    spec.kind = MetricSpec::Kind::http;
    given.emplace_back("http");
  }
  if (given.size() > 1) {
    r.fail("metric", fmt::format("sets {}; give exactly one of value, command, redis or http", fmt::join(given, " and ")));
  }
  spec.redis_url = r.string("metric.redis_url");
  spec.json_pointer = r.string("metric.json_pointer");
  if (!spec.json_pointer.empty() && !spec.json_pointer.starts_with('/')) {
    r.fail("metric.json_pointer", fmt::format("\"{}\" is not a JSON pointer; write it like \"/data/queue/depth\"",
                                              spec.json_pointer));
  }
  spec.timeout = r.duration("metric.timeout", spec.timeout);
  return spec;
}

TargetSpec read_target_spec(const PolicyReader& r)
{
  TargetSpec spec;
  spec.kind = r.string("target");
  if (spec.kind.empty()) {
    spec.kind = "manual";
  }
  spec.app = r.string("app");
  spec.component = r.string("component");
  spec.compose_project = r.string("compose_project");
  spec.compose_service = r.string("compose_service");
  spec.compose_file = r.string("compose_file");
  spec.k8s_deployment = r.string("k8s_deployment");
  spec.k8s_namespace = r.string("k8s_namespace");
  spec.k8s_context = r.string("k8s_context");
  spec.command = r.string("command");
  spec.timeout = r.duration("apply_timeout", spec.timeout);

  const auto need = [&](const std::string& value, std::string_view leaf, std::string_view example) {
    if (value.empty()) {
      r.fail("target", fmt::format("target \"{}\" needs {}; set {} = {}", spec.kind, leaf, leaf, example));
    }
  };
  if (spec.kind == "do-app") {
    need(spec.app, "app", "\"APP-ID or name\"");
    need(spec.component, "component", "\"worker\"");
  } else if (spec.kind == "docker-compose") {
    need(spec.compose_project, "compose_project", "\"warmup\"");
    need(spec.compose_service, "compose_service", "\"worker\"");
  } else if (spec.kind == "kubernetes") {
    need(spec.k8s_deployment, "k8s_deployment", "\"warmup-workers\"");
  } else if (spec.kind == "command") {
    need(spec.command, "command", "\"my-scaler --replicas {replicas}\"");
  } else if (spec.kind != "manual") {
    r.fail("target", fmt::format("unknown target \"{}\"; use manual, do-app, docker-compose, kubernetes or command",
                                 spec.kind));
  }
  return spec;
}

constexpr std::size_t k_max_list = 16;  // entries of metrics = [...] and of each policies = [...]

// Reads one inline table of an array (given as JSON text by the config reader).
nlohmann::json list_item(const PolicyReader& r, std::string_view leaf, const std::string& text, std::size_t index)
{
  nlohmann::json item = nlohmann::json::parse(text, nullptr, false);
  if (!item.is_object()) {
    r.fail(leaf, fmt::format("entry {} is not a table; write {} = [{{ ... }}, ...]", index + 1, leaf));
  }
  return item;
}

// Returns a number in (0, top] from `item[key]`, checked as a float before any conversion.
std::optional<double> item_number(const PolicyReader& r, std::string_view leaf, const nlohmann::json& item,
                                  const char* key, double top)
{
  const auto it = item.find(key);
  if (it == item.end()) {
    return std::nullopt;
  }
  if (!it->is_number()) {
    r.fail(leaf, fmt::format("{} must be a number", key));
  }
  const double v = it->get<double>();
  if (!std::isfinite(v) || !(v > 0) || v > top) {
    r.fail(leaf, fmt::format("{} must be above 0 and at most {}, not {}", key, top, v));
  }
  return v;
}

core::ScalingRules read_rules(const PolicyReader& r, const std::string& direction, core::ScalingRules rules)
{
  if (const auto window = r.duration_opt(direction + ".stabilization")) {
    rules.stabilization = *window;
  }
  if (const auto tolerance = r.number(direction + ".tolerance")) {
    rules.tolerance = *tolerance;
  }
  const std::string select = r.string(direction + ".select");
  rules.configured = r.strings(direction + ".policies").has_value() || (!select.empty() && select != "max");
  if (select == "min") {
    rules.select = core::SelectPolicy::min;
  } else if (select == "disabled") {
    rules.select = core::SelectPolicy::disabled;
  } else if (!select.empty() && select != "max") {
    r.fail(direction + ".select", fmt::format("\"{}\" is not max, min or disabled", select));
  }
  const std::string leaf = direction + ".policies";
  if (const auto items = r.strings(leaf)) {
    if (items->size() > k_max_list) {
      r.fail(leaf, fmt::format("has {} entries; at most {}", items->size(), k_max_list));
    }
    rules.policies.clear();
    for (std::size_t i = 0; i < items->size(); ++i) {
      const nlohmann::json item = list_item(r, leaf, (*items)[i], i);
      core::RatePolicy policy;
      const auto pods = item_number(r, leaf, item, "pods", 1e6);
      const auto percent = item_number(r, leaf, item, "percent", 1e6);
      if (pods.has_value() == percent.has_value()) {
        r.fail(leaf, fmt::format("entry {} must set exactly one of pods or percent", i + 1));
      }
      const double value = pods ? *pods : *percent;
      if (value != std::floor(value)) {
        r.fail(leaf, fmt::format("entry {}: {} must be a whole number, not {}", i + 1, pods ? "pods" : "percent", value));
      }
      policy.kind = pods ? core::RatePolicy::Kind::pods : core::RatePolicy::Kind::percent;
      policy.value = static_cast<std::int64_t>(value);
      const auto period = item.find("period");
      if (period == item.end() || !period->is_string()) {
        r.fail(leaf, fmt::format("entry {} needs period = \"15s\"", i + 1));
      }
      const auto parsed = parse_duration(period->get<std::string>());
      if (!parsed) {
        r.fail(leaf, fmt::format("entry {}: period \"{}\" is not a duration like 15s or 1m", i + 1,
                                 period->get<std::string>()));
      }
      policy.period = *parsed;
      for (const auto& [key, unused] : item.items()) {
        if (key != "pods" && key != "percent" && key != "period") {
          r.fail(leaf, fmt::format("entry {}: unknown key {}; use pods or percent, and period", i + 1, key));
        }
      }
      rules.policies.push_back(policy);
    }
  }
  return rules;
}

MetricEntry read_metric_entry(const PolicyReader& r, const nlohmann::json& item, std::size_t index)
{
  const std::string leaf = "metrics";
  MetricEntry entry;
  std::vector<std::string> given;
  const auto text = [&](const char* key) -> std::string {
    const auto it = item.find(key);
    if (it == item.end()) {
      return "";
    }
    if (!it->is_string() || it->get<std::string>().size() > 4096) {
      r.fail(leaf, fmt::format("entry {}: {} must be a string of at most 4096 bytes", index + 1, key));
    }
    return it->get<std::string>();
  };
  for (const auto& [key, unused] : item.items()) {
    static const std::vector<std::string> known{"name",   "value",        "command",          "redis",
                                                "redis_url", "http",      "json_pointer",     "timeout",
                                                "units_per_worker", "target_utilisation"};
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      r.fail(leaf, fmt::format("entry {}: unknown key {}; known: {}", index + 1, key, fmt::join(known, ", ")));
    }
  }
  entry.name = text("name");
  if (const auto it = item.find("value"); it != item.end()) {
    if (!it->is_number() || !std::isfinite(it->get<double>())) {
      r.fail(leaf, fmt::format("entry {}: value must be a number", index + 1));
    }
    entry.spec.kind = MetricSpec::Kind::value;
    entry.spec.value = it->get<double>();
    given.emplace_back("value");
  }
  if (entry.spec.command = text("command"); !entry.spec.command.empty()) {
    entry.spec.kind = MetricSpec::Kind::command;
    given.emplace_back("command");
  }
  if (entry.spec.redis_key = text("redis"); !entry.spec.redis_key.empty()) {
    entry.spec.kind = MetricSpec::Kind::redis;
    given.emplace_back("redis");
  }
  if (entry.spec.http_url = text("http"); !entry.spec.http_url.empty()) {
    entry.spec.kind = MetricSpec::Kind::http;
    given.emplace_back("http");
  }
  if (given.size() != 1) {
    r.fail(leaf, fmt::format("entry {} must set exactly one of value, command, redis or http", index + 1));
  }
  entry.spec.redis_url = text("redis_url");
  entry.spec.json_pointer = text("json_pointer");
  if (!entry.spec.json_pointer.empty() && !entry.spec.json_pointer.starts_with('/')) {
    r.fail(leaf, fmt::format("entry {}: json_pointer \"{}\" is not a JSON pointer", index + 1, entry.spec.json_pointer));
  }
  if (const std::string timeout = text("timeout"); !timeout.empty()) {
    const auto parsed = parse_duration(timeout);
    if (!parsed || parsed->count() <= 0 || *parsed > std::chrono::minutes{10}) {
      r.fail(leaf, fmt::format("entry {}: timeout \"{}\" must be a duration between 1ms and 10m", index + 1, timeout));
    }
    entry.spec.timeout = *parsed;
  }
  entry.units_per_worker = item_number(r, leaf, item, "units_per_worker", 1e15);
  entry.target_utilisation = item_number(r, leaf, item, "target_utilisation", 100);
  return entry;
}

core::MetricErrorPolicy read_metric_error(const PolicyReader& r)
{
  core::MetricErrorPolicy policy;
  const std::string action = r.string("on_metric_error");
  if (action.empty() || action == "fail") {
    policy.action = core::MetricErrorAction::fail;
  } else if (action == "keep") {
    policy.action = core::MetricErrorAction::keep;
  } else if (action == "replicas") {
    policy.action = core::MetricErrorAction::replicas;
    policy.replicas = r.required(r.integer("on_metric_error.replicas"), "on_metric_error.replicas", "3");
  } else {
    r.fail("on_metric_error", fmt::format("\"{}\" is not fail, keep or {{ replicas = N }}", action));
  }
  return policy;
}

}  // namespace

std::string autoscale_key(const std::string& policy)
{
  return fmt::format("autoscale-{}", policy);
}

std::vector<std::string> policy_names(const config::Config& config)
{
  return config.table_names(k_policies);
}

PolicyConfig load_policy(const config::Config& config, const std::string& name)
{
  if (!core::is_identifier(name) || name.size() > 100) {
    throw usage_error(fmt::format("policy name '{}' has a character outside the name alphabet; use 1 to 100 ASCII "
                                  "letters, digits, '-', '_', '.' or ':'",
                                  core::escape_for_display(name)));
  }
  const auto names = policy_names(config);
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    throw usage_error(fmt::format("no autoscale policy named \"{}\"{}; define [autoscale.policies.{}] in the config "
                                  "(or set AUTO_SCALER_* with --policy {})",
                                  name,
                                  names.empty() ? std::string(" (none is configured)")
                                                : fmt::format(" (configured: {})", fmt::join(names, ", ")),
                                  name, name));
  }
  const PolicyReader r(config, name);
  PolicyConfig p;
  p.name = name;
  auto& t = p.tuning;
  t.enabled = config.get_bool(r.key("enabled")).value_or(true);
  const std::string mode = r.string("mode");
  if (mode.empty() || mode == "step") {
    t.mode = core::ScaleMode::step;
  } else if (mode == "target") {
    t.mode = core::ScaleMode::target;
  } else {
    r.fail("mode", fmt::format("\"{}\" is not step or target", mode));
  }
  t.units_per_worker = r.required(r.number("units_per_worker"), "units_per_worker", "1000");
  t.min = r.required(r.integer("min"), "min", "1");
  t.max = r.required(r.integer("max"), "max", "10");
  t.scale_up_threshold = r.number("scale_up_threshold").value_or(t.scale_up_threshold);
  t.scale_down_threshold = r.number("scale_down_threshold").value_or(t.scale_down_threshold);
  t.step = r.integer("step").value_or(t.step);
  t.target_utilisation = r.number("target_utilisation").value_or(t.target_utilisation);
  t.tolerance = r.number("tolerance").value_or(t.tolerance);
  t.scale_up_cooldown = r.duration("scale_up_cooldown", t.scale_up_cooldown);
  t.scale_down_cooldown = r.duration("scale_down_cooldown", t.scale_down_cooldown);
  t.scale_down_stabilization = r.duration("scale_down_stabilization", t.scale_down_stabilization);
  t.max_scale_up = r.integer("max_scale_up");
  t.max_scale_down = r.integer("max_scale_down");
  t.on_metric_error = read_metric_error(r);
  t.scale_up = read_rules(r, "scale_up", t.scale_up);
  t.scale_down = read_rules(r, "scale_down", t.scale_down);
  if (!(t.scale_down_threshold < t.scale_up_threshold)) {
    throw usage_error(fmt::format("autoscale policy {}: scale_down_threshold {} from {} must be below "
                                  "scale_up_threshold {} from {}, or every run would flap",
                                  name, t.scale_down_threshold, r.where("scale_down_threshold"),
                                  t.scale_up_threshold, r.where("scale_up_threshold")));
  }
  if (const auto problem = core::validate_policy(t)) {
    throw usage_error(fmt::format("autoscale policy {}: {}; fix it under [autoscale.policies.{}]", name, *problem,
                                  name));
  }
  p.metric = read_metric_spec(r);
  if (const auto items = r.strings("metrics")) {
    if (items->size() > k_max_list) {
      r.fail("metrics", fmt::format("has {} entries; at most {}", items->size(), k_max_list));
    }
    for (std::size_t i = 0; i < items->size(); ++i) {
      MetricEntry entry = read_metric_entry(r, list_item(r, "metrics", (*items)[i], i), i);
      if (p.metric.kind == MetricSpec::Kind::none) {
        p.metric = entry.spec;
        p.metric_own = std::move(entry);
      } else {
        p.more_metrics.push_back(std::move(entry));
      }
    }
  }
  p.target = read_target_spec(r);
  if (p.target.kind == "do-app" && t.min < 1) {
    r.fail("min", "App Platform runs at least one instance of a component; set min = 1 or more for a do-app target");
  }
  p.capacity_type = r.string("capacity_type");
  p.plan_ttl = r.duration("plan_ttl", p.plan_ttl);
  p.enabled = t.enabled;
  p.digest = r.digest();
  return p;
}

}  // namespace scalectl::ops
