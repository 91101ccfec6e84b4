#include <scalectl/core/app_spec.hpp>

#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>

#include <scalectl/error.hpp>

namespace scalectl::core {

namespace {

struct ListInfo {
  std::string_view list;
  std::string_view kind;
  bool scalable;
};

constexpr std::array<ListInfo, 5> k_lists{{
  {"services", "service", true},
  {"workers", "worker", true},
  {"jobs", "job", true},
  {"static_sites", "static site", false},
  {"functions", "functions component", false},
}};

constexpr std::int64_t k_default_cpu_percent = 80;
constexpr std::int64_t k_max_workers = 1024;

std::optional<std::int64_t> parse_int(std::string_view text)
{
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::string string_field(const RawJson& object, std::string_view key)
{
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool is_web_concurrency(const RawJson& env)
{
  return env.is_object() && string_field(env, "key") == k_web_concurrency;
}

// Finds the WEB_CONCURRENCY entry of an envs array, or nullptr.
const RawJson* find_web_concurrency(const RawJson& holder)
{
  const auto envs = holder.find("envs");
  if (envs == holder.end() || !envs->is_array()) {
    return nullptr;
  }
  for (const auto& env : *envs) {
    if (is_web_concurrency(env)) {
      return &env;
    }
  }
  return nullptr;
}

ComponentScale read_component(const RawJson& spec, const RawJson& item, const ListInfo& info)
{
  ComponentScale c;
  c.list = info.list;
  c.kind = info.kind;
  c.name = string_field(item, "name");
  c.size_slug = string_field(item, "instance_size_slug");
  if (c.size_slug.empty()) {
    c.size_slug = k_default_app_size;
    c.size_defaulted = true;
  }
  if (const auto it = item.find("instance_count"); it != item.end()) {
    c.instance_count = integral_value(*it).value_or(1);
  }
  if (const auto it = item.find("autoscaling"); it != item.end() && it->is_object()) {
    const auto lo = it->find("min_instance_count");
    const auto hi = it->find("max_instance_count");
    c.autoscale_min = lo != it->end() ? integral_value(*lo).value_or(0) : 0;
    c.autoscale_max = hi != it->end() ? integral_value(*hi).value_or(0) : 0;
    if (const auto metrics = it->find("metrics"); metrics != it->end() && metrics->is_object()) {
      if (const auto cpu = metrics->find("cpu"); cpu != metrics->end() && cpu->is_object()) {
        if (const auto percent = cpu->find("percent"); percent != cpu->end()) {
          c.cpu_percent = integral_value(*percent);
        }
      }
    }
  }
  const RawJson* env = find_web_concurrency(item);
  if (env == nullptr && spec.is_object()) {
    env = find_web_concurrency(spec);
    c.web_concurrency_app_level = env != nullptr;
  }
  if (env != nullptr) {
    c.web_concurrency_secret = string_field(*env, "type") == "SECRET";
    const auto value = env->find("value");
    if (value != env->end()) {
      c.web_concurrency = value->is_string() ? value->get<std::string>() : dump_raw_json(*value);
    }
  }
  return c;
}

struct Located {
  const ListInfo* info = nullptr;
  std::size_t index = 0;
};

std::optional<Located> locate(const RawJson& spec, std::string_view name)
{
  for (const auto& info : k_lists) {
    const auto list = spec.find(info.list);
    if (list == spec.end() || !list->is_array()) {
      continue;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].is_object() && string_field((*list)[i], "name") == name) {
        return Located{&info, i};
      }
    }
  }
  return std::nullopt;
}

std::string component_names(const RawJson& spec)
{
  std::string names;
  for (const auto& info : k_lists) {
    const auto list = spec.find(info.list);
    if (list == spec.end() || !list->is_array()) {
      continue;
    }
    for (const auto& item : *list) {
      if (item.is_object()) {
        names += fmt::format("{}{} ({})", names.empty() ? "" : ", ", string_field(item, "name"), info.kind);
      }
    }
  }
  return names.empty() ? "none" : names;
}

// Sets an integer field unless it already holds that number (kept in its spelling then).
void set_integer(RawJson& object, std::string_view key, std::int64_t value)
{
  const auto it = object.find(key);
  if (it != object.end() && integral_value(*it) == value) {
    return;
  }
  object[std::string(key)] = value;
}

void set_string(RawJson& object, std::string_view key, const std::string& value)
{
  const auto it = object.find(key);
  if (it != object.end() && it->is_string() && it->get<std::string>() == value) {
    return;
  }
  object[std::string(key)] = value;
}

RawJson& child_object(RawJson& object, std::string_view key)
{
  RawJson& child = object[std::string(key)];
  if (!child.is_object()) {
    child = RawJson::object();
  }
  return child;
}

void set_web_concurrency(RawJson& component, const std::string& value)
{
  RawJson& envs = component["envs"];
  if (!envs.is_array()) {
    envs = RawJson::array();
  }
  bool found = false;
  for (auto& env : envs) {
    if (!is_web_concurrency(env)) {
      continue;
    }
    found = true;
    set_string(env, "value", value);
    if (string_field(env, "scope") == "BUILD_TIME") {
      env["scope"] = "RUN_TIME";  // a build-time-only value never reaches the running processes
    }
  }
  if (!found) {
    RawJson env = RawJson::object();
    env["key"] = k_web_concurrency;
    env["value"] = value;
    env["scope"] = "RUN_TIME";
    env["type"] = "GENERAL";
    envs.push_back(std::move(env));
  }
}

std::string suggest_sizes(const std::vector<AppSize>& sizes, std::string_view slug)
{
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& s : sizes) {
    std::size_t common = 0;
    while (common < s.slug.size() && common < slug.size() && s.slug[common] == slug[common]) {
      ++common;
    }
    scored.emplace_back(common, s.slug);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string hint;
  for (std::size_t i = 0; i < scored.size() && i < 4; ++i) {
    hint += (hint.empty() ? "" : ", ") + scored[i].second;
  }
  return hint;
}

bool is_dedicated(const std::vector<AppSize>& sizes, std::string_view slug)
{
  if (const auto* size = find_app_size(sizes, slug)) {
    return size->dedicated;
  }
  return slug.starts_with("apps-d-");
}

// Names the cheapest dedicated size with at least the memory of `slug`, for the autoscaling hint.
std::string dedicated_alternative(const std::vector<AppSize>& sizes, std::string_view slug)
{
  const auto* current = find_app_size(sizes, slug);
  const AppSize* best = nullptr;
  for (const auto& s : sizes) {
    if (!s.dedicated || (current != nullptr && s.memory_bytes < current->memory_bytes)) {
      continue;
    }
    if (best == nullptr || s.usd_per_month < best->usd_per_month ||
        (s.usd_per_month == best->usd_per_month && s.memory_bytes < best->memory_bytes)) {
      best = &s;
    }
  }
  return best != nullptr ? best->slug : std::string("apps-d-1vcpu-0.5gb");
}

void check_request(const ScaleRequest& r, const std::vector<AppSize>& sizes, const ComponentScale& current,
                   std::vector<std::string>& errors)
{
  if (r.count && r.autoscale) {
    errors.push_back("--count and --autoscale cannot be combined: a component has either a fixed instance_count "
                     "or an autoscaling range, never both; pass one of them");
  }
  if (r.autoscale && r.no_autoscale) {
    errors.push_back("--autoscale and --no-autoscale contradict each other; pass one of them");
  }
  if (r.cpu_percent && r.no_autoscale) {
    errors.push_back("--cpu-percent sets the autoscaling CPU target and cannot be combined with --no-autoscale");
  }
  if (r.count && (*r.count < 1 || *r.count > k_max_app_instances)) {
    errors.push_back(fmt::format("--count must be between 1 and {} (App Platform's limit per component), not {}",
                                 k_max_app_instances, *r.count));
  }
  if (r.autoscale) {
    const auto& a = *r.autoscale;
    if (a.min < 1 || a.max < 1 || a.min > k_max_app_instances || a.max > k_max_app_instances) {
      errors.push_back(fmt::format("--autoscale {}:{}: both bounds must be between 1 and {}", a.min, a.max,
                                   k_max_app_instances));
    } else if (a.min > a.max) {
      errors.push_back(fmt::format("--autoscale {}:{}: the minimum is greater than the maximum; pass MIN:MAX with "
                                   "MIN <= MAX",
                                   a.min, a.max));
    }
  }
  if (r.cpu_percent && (*r.cpu_percent < 1 || *r.cpu_percent > 100)) {
    errors.push_back(fmt::format("--cpu-percent must be between 1 and 100, not {}", *r.cpu_percent));
  }
  if (r.cpu_percent && !r.autoscale && !current.autoscaling()) {
    errors.push_back(fmt::format("--cpu-percent needs --autoscale MIN:MAX: component '{}' does not autoscale",
                                 current.name));
  }
  if (r.workers && !r.workers->automatic && (r.workers->count < 1 || r.workers->count > k_max_workers)) {
    errors.push_back(fmt::format("--workers must be 'auto' or between 1 and {}, not {}", k_max_workers,
                                 r.workers->count));
  }
  if (r.size && !sizes.empty() && find_app_size(sizes, *r.size) == nullptr) {
    errors.push_back(fmt::format("unknown instance size '{}' (not in GET /v2/apps/tiers/instance_sizes); did you "
                                 "mean one of: {}?",
                                 *r.size, suggest_sizes(sizes, *r.size)));
  }
  if ((r.autoscale || r.cpu_percent) && current.list == "jobs") {
    errors.push_back(fmt::format("component '{}' is a job: App Platform autoscales services and workers only; "
                                 "use --count",
                                 current.name));
  }
}

void check_result(const ComponentScale& after, const std::vector<AppSize>& sizes, std::vector<std::string>& errors)
{
  if (after.autoscaling() && !is_dedicated(sizes, after.size_slug)) {
    errors.push_back(fmt::format(
      "autoscaling needs a dedicated instance size: App Platform autoscales only components on dedicated CPU "
      "sizes (apps-d-*), and component '{}' would be on the shared size {}; add --size {} (or another apps-d-* "
      "size)",
      after.name, after.size_slug, dedicated_alternative(sizes, after.size_slug)));
  }
  if (!after.autoscaling() && after.instance_count > 1) {
    if (const auto* size = find_app_size(sizes, after.size_slug); size != nullptr && size->single_instance_only) {
      errors.push_back(fmt::format("instance size {} runs a single instance only, so component '{}' cannot have {} "
                                   "instances; pick a larger size with --size",
                                   after.size_slug, after.name, after.instance_count));
    }
  }
}

void apply_request(RawJson& item, const ScaleRequest& r, const ComponentScale& current)
{
  if (r.size) {
    set_string(item, "instance_size_slug", *r.size);
  }
  if (r.count) {
    item.erase("autoscaling");
    set_integer(item, "instance_count", *r.count);
  } else if (r.no_autoscale && current.autoscaling()) {
    item.erase("autoscaling");
    set_integer(item, "instance_count", std::max<std::int64_t>(1, current.autoscale_min.value_or(1)));
  }
  if (r.autoscale) {
    item.erase("instance_count");
    RawJson& scaling = child_object(item, "autoscaling");
    set_integer(scaling, "min_instance_count", r.autoscale->min);
    set_integer(scaling, "max_instance_count", r.autoscale->max);
  }
  std::optional<std::int64_t> percent;
  if (r.cpu_percent && (r.autoscale || current.autoscaling())) {
    percent = r.cpu_percent;
  } else if (r.autoscale && !current.autoscaling()) {
    percent = k_default_cpu_percent;  // App Platform's default target, stated so the spec is explicit
  }
  if (percent) {
    RawJson& cpu = child_object(child_object(child_object(item, "autoscaling"), "metrics"), "cpu");
    set_integer(cpu, "percent", *percent);
  }
}

std::string element_label(const RawJson& element, std::size_t index)
{
  if (element.is_object()) {
    for (const char* id : {"name", "key"}) {
      if (const auto it = element.find(id); it != element.end() && it->is_string()) {
        return it->get<std::string>();
      }
    }
  }
  return std::to_string(index);
}

void diff_into(const RawJson& before, const RawJson& after, const std::string& path, std::vector<FieldChange>& out)
{
  if (before == after) {
    return;
  }
  const auto join = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (before.is_object() && after.is_object()) {
    for (const auto& [key, value] : before.items()) {
      const auto it = after.find(key);
      if (it == after.end()) {
        out.push_back({join(key), dump_raw_json(value), ""});
      } else {
        diff_into(value, *it, join(key), out);
      }
    }
    for (const auto& [key, value] : after.items()) {
      if (!before.contains(key)) {
        out.push_back({join(key), "", dump_raw_json(value)});
      }
    }
    return;
  }
  if (before.is_array() && after.is_array()) {
    std::vector<std::string> before_labels;
    for (std::size_t i = 0; i < before.size(); ++i) {
      before_labels.push_back(element_label(before[i], i));
    }
    std::vector<bool> matched(before.size(), false);
    for (std::size_t j = 0; j < after.size(); ++j) {
      const auto label = element_label(after[j], j);
      const auto it = std::find(before_labels.begin(), before_labels.end(), label);
      const auto element_path = fmt::format("{}[{}]", path, label);
      if (it == before_labels.end()) {
        out.push_back({element_path, "", dump_raw_json(after[j])});
        continue;
      }
      const auto i = static_cast<std::size_t>(it - before_labels.begin());
      matched[i] = true;
      diff_into(before[i], after[j], element_path, out);
    }
    for (std::size_t i = 0; i < before.size(); ++i) {
      if (!matched[i]) {
        out.push_back({fmt::format("{}[{}]", path, before_labels[i]), dump_raw_json(before[i]), ""});
      }
    }
    return;
  }
  out.push_back({path, dump_raw_json(before), dump_raw_json(after)});
}

const RawJson* unwrap_spec(const RawJson& file)
{
  if (!file.is_object()) {
    return nullptr;
  }
  const bool has_components = file.contains("services") || file.contains("workers") || file.contains("jobs") ||
                              file.contains("static_sites");
  if (has_components) {
    return &file;
  }
  if (const auto spec = file.find("spec"); spec != file.end() && spec->is_object()) {
    return &*spec;
  }
  if (const auto app = file.find("app"); app != file.end() && app->is_object()) {
    if (const auto spec = app->find("spec"); spec != app->end() && spec->is_object()) {
      return &*spec;
    }
  }
  return &file;
}

std::int64_t file_integer(const RawJson& value, std::string_view file_name, std::string_view field)
{
  if (const auto v = integral_value(value)) {
    return *v;
  }
  if (value.is_string()) {
    if (const auto v = parse_int(value.get<std::string>())) {
      return *v;
    }
  }
  throw usage_error(fmt::format("{}: {} must be an integer, not {}", file_name, field, dump_raw_json(value)));
}

}  // namespace

bool ScaleRequest::empty() const
{
  return !size && !count && !autoscale && !cpu_percent && !no_autoscale && !workers;
}

std::optional<AutoscaleRange> parse_autoscale_range(std::string_view text)
{
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  const auto lo = parse_int(text.substr(0, colon));
  const auto hi = parse_int(text.substr(colon + 1));
  if (!lo || !hi || *lo < 0 || *hi < 0) {
    return std::nullopt;
  }
  return AutoscaleRange{*lo, *hi};
}

std::optional<WorkersSetting> parse_workers(std::string_view text)
{
  if (text == "auto") {
    return WorkersSetting{true, 0};
  }
  const auto n = parse_int(text);
  if (!n || *n < 0) {
    return std::nullopt;
  }
  return WorkersSetting{false, *n};
}

std::vector<ComponentScale> list_components(const RawJson& spec)
{
  std::vector<ComponentScale> out;
  for (const auto& info : k_lists) {
    if (!info.scalable) {
      continue;
    }
    const auto list = spec.find(info.list);
    if (list == spec.end() || !list->is_array()) {
      continue;
    }
    for (const auto& item : *list) {
      if (item.is_object()) {
        out.push_back(read_component(spec, item, info));
      }
    }
  }
  return out;
}

std::int64_t workers_for_memory(std::int64_t memory_bytes, std::int64_t rule_mb)
{
  if (rule_mb <= 0) {
    return 1;
  }
  return std::max<std::int64_t>(1, memory_bytes / (rule_mb * 1024 * 1024));
}

const AppSize* find_app_size(const std::vector<AppSize>& sizes, std::string_view slug)
{
  const auto it = std::find_if(sizes.begin(), sizes.end(), [&](const AppSize& s) { return s.slug == slug; });
  return it == sizes.end() ? nullptr : &*it;
}

CostRange monthly_cost(const ComponentScale& component, const std::vector<AppSize>& sizes)
{
  const auto* size = find_app_size(sizes, component.size_slug);
  if (size == nullptr) {
    return CostRange{0, 0, false};
  }
  if (component.autoscaling()) {
    return CostRange{static_cast<double>(component.autoscale_min.value_or(0)) * size->usd_per_month,
                     static_cast<double>(component.autoscale_max.value_or(0)) * size->usd_per_month, true};
  }
  const double cost = static_cast<double>(component.instance_count) * size->usd_per_month;
  return CostRange{cost, cost, true};
}

std::string describe_scale(const ComponentScale& component)
{
  if (component.autoscaling()) {
    return fmt::format("{} autoscaling {}-{} at {}% CPU", component.size_slug, component.autoscale_min.value_or(0),
                       component.autoscale_max.value_or(0), component.cpu_percent.value_or(k_default_cpu_percent));
  }
  return fmt::format("{} x {}", component.size_slug, component.instance_count);
}

ScalePlan plan_scale(const RawJson& spec, std::string_view component, const ScaleRequest& request,
                     const std::vector<AppSize>& sizes, std::int64_t workers_rule_mb)
{
  ScalePlan plan;
  plan.spec = spec;
  const auto where = locate(spec, component);
  if (!where) {
    plan.errors.push_back(fmt::format("the app has no component named '{}'; its components are: {}", component,
                                      component_names(spec)));
    return plan;
  }
  if (!where->info->scalable) {
    plan.errors.push_back(fmt::format("component '{}' is a {}: App Platform runs it without instances to size or "
                                      "count; scale one of its services, workers or jobs instead",
                                      component, where->info->kind));
    return plan;
  }
  RawJson& item = plan.spec[std::string(where->info->list)][where->index];
  plan.before = read_component(spec, spec[std::string(where->info->list)][where->index], *where->info);
  if (request.empty()) {
    plan.errors.push_back("nothing to change: pass --size, --count, --autoscale, --no-autoscale, --cpu-percent, "
                          "--workers or --from-file");
    plan.after = plan.before;
    return plan;
  }
  check_request(request, sizes, plan.before, plan.errors);
  if (!plan.errors.empty()) {
    plan.after = plan.before;
    return plan;
  }
  apply_request(item, request, plan.before);
  if (request.workers) {
    std::int64_t workers = request.workers->count;
    if (request.workers->automatic) {
      const auto slug = request.size ? *request.size : plan.before.size_slug;
      const auto* size = find_app_size(sizes, slug);
      if (size == nullptr) {
        plan.errors.push_back(fmt::format("--workers auto needs the memory of size {}, which is not in GET "
                                          "/v2/apps/tiers/instance_sizes; pass --workers N",
                                          slug));
      } else {
        workers = workers_for_memory(size->memory_bytes, workers_rule_mb);
      }
    }
    if (plan.errors.empty()) {
      set_web_concurrency(item, std::to_string(workers));
    }
  }
  plan.after = read_component(plan.spec, item, *where->info);
  check_result(plan.after, sizes, plan.errors);
  plan.changes = diff_spec(spec, plan.spec);
  return plan;
}

std::vector<FieldChange> diff_spec(const RawJson& before, const RawJson& after)
{
  std::vector<FieldChange> out;
  diff_into(before, after, "", out);
  return out;
}

ScaleRequest request_from_spec_file(const RawJson& file, std::string_view component, std::string_view file_name)
{
  const RawJson* spec = unwrap_spec(file);
  if (spec == nullptr) {
    throw usage_error(fmt::format("{} is not an app spec (expected an object with services, workers or jobs)",
                                  file_name));
  }
  const auto where = locate(*spec, component);
  if (!where) {
    throw usage_error(fmt::format("{} has no component named '{}'; its components are: {}", file_name, component,
                                  component_names(*spec)));
  }
  if (!where->info->scalable) {
    throw usage_error(fmt::format("component '{}' in {} is a {} and has no instances to scale", component, file_name,
                                  where->info->kind));
  }
  const RawJson& item = (*spec)[std::string(where->info->list)][where->index];
  ScaleRequest request;
  if (const auto it = item.find("instance_size_slug"); it != item.end()) {
    if (!it->is_string()) {
      throw usage_error(fmt::format("{}: instance_size_slug of '{}' must be a string", file_name, component));
    }
    request.size = it->get<std::string>();
  }
  const auto scaling = item.find("autoscaling");
  if (scaling != item.end() && !scaling->is_null()) {
    if (!scaling->is_object() || !scaling->contains("min_instance_count") || !scaling->contains("max_instance_count")) {
      throw usage_error(fmt::format("{}: autoscaling of '{}' needs min_instance_count and max_instance_count",
                                    file_name, component));
    }
    request.autoscale = AutoscaleRange{
      file_integer(scaling->at("min_instance_count"), file_name, "autoscaling.min_instance_count"),
      file_integer(scaling->at("max_instance_count"), file_name, "autoscaling.max_instance_count")};
    if (const auto metrics = scaling->find("metrics"); metrics != scaling->end() && metrics->is_object()) {
      if (const auto cpu = metrics->find("cpu"); cpu != metrics->end() && cpu->is_object() && cpu->contains("percent")) {
        request.cpu_percent = file_integer(cpu->at("percent"), file_name, "autoscaling.metrics.cpu.percent");
      }
    }
    if (item.contains("instance_count")) {
      throw usage_error(fmt::format("{}: component '{}' has both instance_count and autoscaling; App Platform "
                                    "accepts only one of them",
                                    file_name, component));
    }
  } else if (const auto it = item.find("instance_count"); it != item.end()) {
    request.count = file_integer(*it, file_name, "instance_count");
  }
  if (const RawJson* env = find_web_concurrency(item)) {
    const auto value = env->find("value");
    if (value != env->end() && string_field(*env, "type") != "SECRET") {
      request.workers = WorkersSetting{false, file_integer(*value, file_name, "WEB_CONCURRENCY")};
    }
  }
  if (request.empty()) {
    throw usage_error(fmt::format("component '{}' in {} states none of instance_size_slug, instance_count, "
                                  "autoscaling or WEB_CONCURRENCY; nothing to apply",
                                  component, file_name));
  }
  return request;
}

}  // namespace scalectl::core
