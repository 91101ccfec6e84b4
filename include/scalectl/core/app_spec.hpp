#pragma once
// Pure edits of an App Platform app spec for `scalectl app scale|status`. The spec is read as
// RawJson and only the fields being scaled are touched: everything else (unknown fields, SECRET
// env values as they came back encrypted, key order, number spelling) is PUT back unchanged.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <scalectl/core/raw_json.hpp>

namespace scalectl::core {

// The instance size App Platform uses when a component names none.
inline constexpr std::string_view k_default_app_size = "apps-s-1vcpu-0.5gb";
// App Platform's bounds for instance_count and the autoscaling range.
inline constexpr std::int64_t k_max_app_instances = 250;
// The name of the env var that sets the number of worker processes per instance.
inline constexpr std::string_view k_web_concurrency = "WEB_CONCURRENCY";

// One App Platform instance size, as the scaling rules need it.
struct AppSize {
  std::string slug;
  std::int64_t memory_bytes = 0;
  double cpus = 0;
  double usd_per_month = 0;
  double usd_per_second = 0;
  bool dedicated = false;             // cpu_type DEDICATED: the only sizes App Platform autoscales
  bool single_instance_only = false;  // instance_count must stay 1
};

// The scaling fields of one service, worker or job, as a spec states them.
struct ComponentScale {
  std::string list;  // "services", "workers" or "jobs"
  std::string kind;  // "service", "worker" or "job"
  std::string name;
  std::string size_slug;        // k_default_app_size when the spec names none
  bool size_defaulted = false;
  std::int64_t instance_count = 1;  // 1 when the spec has neither instance_count nor autoscaling
  std::optional<std::int64_t> autoscale_min;
  std::optional<std::int64_t> autoscale_max;
  std::optional<std::int64_t> cpu_percent;
  std::optional<std::string> web_concurrency;  // the component's env, else the app-level one
  bool web_concurrency_app_level = false;
  bool web_concurrency_secret = false;  // encrypted: the value is not readable

  bool autoscaling() const { return autoscale_min.has_value(); }
};

struct AutoscaleRange {
  std::int64_t min = 0;
  std::int64_t max = 0;
};

struct WorkersSetting {
  bool automatic = false;  // one worker per workers_rule_mb of the size's memory, at least 1
  std::int64_t count = 0;  // when not automatic
};

// What `app scale` was asked to change; unset fields are left as they are.
struct ScaleRequest {
  std::optional<std::string> size;
  std::optional<std::int64_t> count;
  std::optional<AutoscaleRange> autoscale;
  std::optional<std::int64_t> cpu_percent;
  bool no_autoscale = false;
  std::optional<WorkersSetting> workers;

  // Returns true when nothing at all is asked.
  bool empty() const;
};

// One changed field: a readable path and the compact JSON before and after ("" = absent).
struct FieldChange {
  std::string path;  // e.g. services[web].envs[WEB_CONCURRENCY].value
  std::string before;
  std::string after;
};

// The outcome of plan_scale(): the edited spec, what changed, and why it cannot be applied.
struct ScalePlan {
  RawJson spec;
  ComponentScale before;
  ComponentScale after;
  std::vector<FieldChange> changes;
  std::vector<std::string> errors;  // usage errors (exit 2); the spec must not be sent when set

  bool changed() const { return !changes.empty(); }
};

// Lower and upper bound of a monthly cost; `known` is false when a size is not in the list.
struct CostRange {
  double min = 0;
  double max = 0;
  bool known = true;
};

// Returns the range in "MIN:MAX", or nullopt when it is not two non-negative integers.
std::optional<AutoscaleRange> parse_autoscale_range(std::string_view text);

// Returns the setting for "auto" or a positive integer, or nullopt otherwise.
std::optional<WorkersSetting> parse_workers(std::string_view text);

// Returns the services, workers and jobs of `spec`, in spec order.
std::vector<ComponentScale> list_components(const RawJson& spec);

// Returns the number of workers for an instance with `memory_bytes`: one per `rule_mb` MB, at least 1.
std::int64_t workers_for_memory(std::int64_t memory_bytes, std::int64_t rule_mb);

// Returns the size named `slug` in `sizes`, or nullptr.
const AppSize* find_app_size(const std::vector<AppSize>& sizes, std::string_view slug);

// Returns the monthly cost of `component`: count x price, or min..max x price when autoscaling.
CostRange monthly_cost(const ComponentScale& component, const std::vector<AppSize>& sizes);

// Returns "apps-s-1vcpu-1gb x 2" or "apps-d-1vcpu-1gb autoscaling 2-5 at 80% CPU".
std::string describe_scale(const ComponentScale& component);

// Applies `request` to component `component` of `spec` and validates the result against App
// Platform's rules and the instance `sizes`; only the fields being scaled are edited.
ScalePlan plan_scale(const RawJson& spec, std::string_view component, const ScaleRequest& request,
                     const std::vector<AppSize>& sizes, std::int64_t workers_rule_mb);

// Returns the field-level differences between two specs; array elements with a "name" or "key"
// are matched by it (services[web], envs[WEB_CONCURRENCY]), others by index.
std::vector<FieldChange> diff_spec(const RawJson& before, const RawJson& after);

// Returns the request that applies the scaling fields (instance_size_slug, instance_count,
// autoscaling, WEB_CONCURRENCY) of `component` in a local spec file; fields the file does not
// state are left alone. Accepts a bare spec or one wrapped as {"spec": ...} or {"app": {"spec": ...}}.
// Throws Error(usage) when the component is missing or a field is malformed.
ScaleRequest request_from_spec_file(const RawJson& file, std::string_view component, std::string_view file_name);

}  // namespace scalectl::core
