#include <scalectl/ops/capacity.hpp>

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/config/config.hpp>
#include <scalectl/core/identifier.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>
#include <scalectl/report.hpp>

namespace scalectl::ops {

namespace {

constexpr double k_max_vcpus = 1'000'000;
constexpr double k_max_ram_gb = 1'000'000'000;
constexpr std::chrono::milliseconds k_min_waiter_ttl{3'000};
constexpr std::chrono::milliseconds k_max_waiter_ttl{3'600'000};

std::int64_t online_cpus()
{
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) {
      return count;
    }
  }
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? online : 1;
}

std::string origin_of(const config::Config& config, const std::string& key)
{
  const auto* entry = config.find(key);
  return entry == nullptr ? std::string("default") : entry->origin.describe();
}

// Returns the number under `key` if set, checked to be finite and within [min, max].
std::optional<double> number_in(const config::Config& config, const std::string& key, double min, double max)
{
  const auto value = config.get_number(key);
  if (value && (!std::isfinite(*value) || *value < min || *value > max)) {
    throw usage_error(fmt::format("{} ({}) is {}; it must be between {} and {}", key, origin_of(config, key), *value,
                                  min, max));
  }
  return value;
}

// Returns the exact amount `value` set under `key`; throws Error(usage) naming the key if it is
// negative, too large or has more than 6 decimals.
core::Amount named_amount_of(const config::Config& config, const std::string& key, double value)
{
  if (const auto amount = core::amount_from_double(value)) {
    return *amount;
  }
  if (std::isfinite(value) && value < 0) {
    throw usage_error(fmt::format("{} ({}) is {}; an amount must be 0 or more", key, origin_of(config, key), value));
  }
  throw usage_error(fmt::format("{} ({}) is {}; use at most {} decimals and at most {}", key, origin_of(config, key),
                                value, core::k_max_decimals, core::k_max_named_amount));
}

// Reads the [TABLE.NAME] resource tables (TABLE: capacity.resources, or a shared pool's
// capacity.shared_pools.POOL.resources).
std::vector<core::NamedResource> named_resources(const config::Config& config,
                                                 const std::string& table = "capacity.resources")
{
  std::vector<core::NamedResource> resources;
  for (const auto& name : config.table_names(table)) {
    const std::string prefix = table + "." + name + ".";
    core::NamedResource resource;
    resource.name = name;
    if (const auto why = core::validate_resource_name(name); !why.empty()) {
      throw usage_error(fmt::format("[{}.{}]: {}; rename the table", table, name, why));
    }
    const auto limit = config.get_number(prefix + "limit");
    if (!limit) {
      throw usage_error(fmt::format("{}limit is not set; give the budget of '{}', e.g. limit = 1600", prefix, name));
    }
    resource.limit = named_amount_of(config, prefix + "limit", *limit);
    if (const auto reserve = config.get_number(prefix + "reserve")) {
      resource.reserve = named_amount_of(config, prefix + "reserve", *reserve);
    }
    resource.unit = config.get_string(prefix + "unit").value_or("");
    if (resource.unit.size() > 20 || !core::is_identifier(resource.unit.empty() ? "x" : resource.unit)) {
      throw usage_error(fmt::format("{}unit ({}) must be 1 to 20 letters, digits, '-', '_', '.' or ':', e.g. \"RPM\"",
                                    prefix, origin_of(config, prefix + "unit")));
    }
    if (const auto why = core::validate_named_resource(resource); !why.empty()) {
      throw usage_error(fmt::format("[{}.{}]: {}; fix the configuration", table, name, why));
    }
    resources.push_back(std::move(resource));
  }
  return resources;
}

// Reads the named-resource amounts of worker type `name` (every key of its table other than
// cpu, ram_gb and priority) into `type`.
void read_named_needs(const config::Config& config, const std::vector<core::NamedResource>& resources,
                      const std::string& name, core::WorkerType& type)
{
  const std::string prefix = "capacity.worker_types." + name + ".";
  for (const auto& [key, entry] : config.entries()) {
    if (!key.starts_with(prefix)) {
      continue;
    }
    const std::string field = key.substr(prefix.size());
    if (field == "cpu" || field == "ram_gb" || field == "priority" || field.find('.') != std::string::npos) {
      continue;
    }
    const auto it = std::find_if(resources.begin(), resources.end(),
                                 [&](const core::NamedResource& r) { return r.name == field; });
    if (it == resources.end()) {
      throw usage_error(fmt::format("{} ({}) names resource '{}', but no [capacity.resources.{}] table declares it "
                                    "(nor a shared pool's [capacity.shared_pools.POOL.resources.{}]); declare it with "
                                    "a limit or remove the key",
                                    key, entry.origin.describe(), field, field, field));
    }
    const auto value = config.get_number(key);
    const auto amount = named_amount_of(config, key, value.value_or(0));
    if (amount.units > 0 && core::usable_amount(*it).units <= 0) {
      throw usage_error(fmt::format("worker type '{}' needs {} {} ({}), but [capacity.resources.{}] leaves none to "
                                    "use (limit {}, reserve {}); raise the limit or set {} = 0",
                                    name, core::decimal_text(amount), field, entry.origin.describe(), field,
                                    core::decimal_text(it->limit), core::decimal_text(it->reserve), key));
    }
    if (amount.units > 0) {
      type.need.named[field] = amount;
    }
  }
}

// --- several pools per worker ------------------------------------------------------------------

// Reads [capacity.shared_pools.NAME] tables; throws Error(usage) for a pool without resources, a
// pool named like this host's pool or another shared pool, or a resource declared in two pools.
std::vector<SharedPool> shared_pools_of(const config::Config& config, const std::string& host_pool,
                                        const std::vector<core::NamedResource>& host_resources)
{
  std::vector<SharedPool> pools;
  std::map<std::string, std::string> declared;  // resource name -> where it is declared
  for (const auto& resource : host_resources) {
    declared[resource.name] = "[capacity.resources." + resource.name + "]";
  }
  for (const auto& table : config.table_names("capacity.shared_pools")) {
    const std::string prefix = "capacity.shared_pools." + table;
    SharedPool pool;
    pool.table = table;
    pool.pool = config.get_string(prefix + ".name").value_or(table);
    std::string bare = pool.pool;  // braces allowed: a Redis Cluster hash tag such as {gemini}
    std::erase_if(bare, [](char c) { return c == '{' || c == '}'; });
    if (pool.pool.size() > 200 || !core::is_identifier(bare)) {
      throw usage_error(fmt::format("{}.name ({}) must be 1 to 200 letters, digits, '-', '_', '.', ':' or a "
                                    "{{hash tag}}, e.g. \"{{gemini}}\"",
                                    prefix, origin_of(config, prefix + ".name")));
    }
    if (pool.pool == host_pool) {
      throw usage_error(fmt::format("[{}] uses pool '{}', which is this host's pool (capacity.pool); give the shared "
                                    "pool its own name with {}.name",
                                    prefix, pool.pool, prefix));
    }
    for (const auto& other : pools) {
      if (other.pool == pool.pool) {
        throw usage_error(fmt::format("[{}] and [capacity.shared_pools.{}] both use pool '{}'; give each shared pool "
                                      "its own name",
                                      prefix, other.table, pool.pool));
      }
    }
    pool.resources = named_resources(config, prefix + ".resources");
    if (pool.resources.empty()) {
      throw usage_error(fmt::format("[{}] declares no resources; add [{}.resources.NAME] with a limit, or remove the "
                                    "table",
                                    prefix, prefix));
    }
    for (const auto& resource : pool.resources) {
      const std::string here = "[" + prefix + ".resources." + resource.name + "]";
      if (const auto it = declared.find(resource.name); it != declared.end()) {
        throw usage_error(fmt::format("resource '{}' is declared in two pools, {} and {}; keep one (each resource "
                                      "lives in exactly one pool)",
                                      resource.name, it->second, here));
      }
      declared[resource.name] = here;
      pool.usable.named[resource.name] = core::usable_amount(resource);
    }
    pools.push_back(std::move(pool));
  }
  return pools;
}

std::string known_types(const CapacitySettings& settings)
{
  std::string names;
  for (const auto& type : settings.types) {
    names += names.empty() ? type.name : ", " + type.name;
  }
  return names;
}

}  // namespace

core::Resources detect_host_resources(const HostProbe& probe)
{
  std::ifstream file(probe.meminfo);
  std::stringstream text;
  if (file) {
    text << file.rdbuf();
  }
  const auto mib = core::meminfo_total_mib(text.str());
  if (!file || !mib) {
    throw Error(fmt::format("cannot read MemTotal from {} to size the capacity pool; set [capacity] max_ram_gb "
                            "(or SERVER_MAX_RAM)",
                            probe.meminfo.string()));
  }
  return {probe.cpus.value_or(online_cpus()) * 1000, *mib};
}

std::string capacity_pool(const config::Config& config)
{
  auto pool = config.get_string("capacity.pool").value_or("server");
  if (pool.empty()) {
    throw usage_error(fmt::format("capacity.pool ({}) is empty; name the pool, e.g. server",
                                  origin_of(config, "capacity.pool")));
  }
  return pool;
}

CapacitySettings capacity_settings(const config::Config& config, const HostProbe& probe, std::optional<double> cpu,
                                   std::optional<double> ram_gb)
{
  CapacitySettings settings;
  settings.pool = capacity_pool(config);
  settings.default_ttl = config.get_duration("capacity.default_ttl");
  if (settings.default_ttl && settings.default_ttl->count() <= 0) {
    settings.default_ttl.reset();
  }
  if (const auto waiter_ttl = config.get_duration("capacity.waiter_ttl")) {
    if (*waiter_ttl < k_min_waiter_ttl || *waiter_ttl > k_max_waiter_ttl) {
      throw usage_error(fmt::format("capacity.waiter_ttl ({}) is {}; it must be from 3s to 1h (more than the 2s "
                                    "longest poll delay of allocate --wait)",
                                    origin_of(config, "capacity.waiter_ttl"), format_duration(*waiter_ttl)));
    }
    settings.waiter_ttl = *waiter_ttl;
  }

  auto max_cpu = number_in(config, "capacity.max_cpu", 0.001, k_max_vcpus);
  auto max_ram = number_in(config, "capacity.max_ram_gb", 0.001, k_max_ram_gb);
  settings.cpu_source = max_cpu ? origin_of(config, "capacity.max_cpu") : "";
  settings.ram_source = max_ram ? origin_of(config, "capacity.max_ram_gb") : "";
  if (cpu) {
    max_cpu = cpu;
    settings.cpu_source = "--cpu";
  }
  if (ram_gb) {
    max_ram = ram_gb;
    settings.ram_source = "--ram";
  }
  core::Resources detected;
  if (!max_cpu || !max_ram) {
    detected = detect_host_resources(probe);
  }
  settings.limits.total = core::resources_from(max_cpu.value_or(0), max_ram.value_or(0));
  if (!max_cpu) {
    settings.limits.total.millicores = detected.millicores;
    settings.cpu_source = "detected on this host";
  }
  if (!max_ram) {
    settings.limits.total.mib = detected.mib;
    settings.ram_source = "detected on this host (MemTotal)";
  }
  settings.limits.reserved_cpu_percent = config.get_number("capacity.reserved_cpu_percent").value_or(20);
  settings.limits.reserved_ram_percent = config.get_number("capacity.reserved_ram_percent").value_or(20);
  if (const auto why = core::validate_limits(settings.limits); !why.empty()) {
    throw usage_error(fmt::format("[capacity] {}; fix the configuration", why));
  }
  settings.usable = core::usable_resources(settings.limits);
  settings.resources = named_resources(config);
  for (const auto& resource : settings.resources) {
    settings.usable.named[resource.name] = core::usable_amount(resource);
  }
  settings.shared_pools = shared_pools_of(config, settings.pool, settings.resources);
  if (const auto pending = config.get_duration("capacity.pending_ttl"); pending && pending->count() > 0) {
    settings.pending_ttl = *pending;
  }
  auto all_resources = settings.resources;  // a worker type may name the resources of every pool
  for (const auto& pool : settings.shared_pools) {
    all_resources.insert(all_resources.end(), pool.resources.begin(), pool.resources.end());
  }

  for (const auto& name : config.table_names("capacity.worker_types")) {
    const std::string prefix = "capacity.worker_types." + name + ".";
    const auto type_cpu = number_in(config, prefix + "cpu", 0, k_max_vcpus);
    const auto type_ram = number_in(config, prefix + "ram_gb", 0, k_max_ram_gb);
    if (!type_cpu || !type_ram) {
      throw usage_error(fmt::format("{}{} is not set; give the {} one '{}' worker needs", prefix,
                                    type_cpu ? "ram_gb" : "cpu", type_cpu ? "RAM in GB" : "vCPUs", name));
    }
    core::WorkerType type{name, core::resources_from(*type_cpu, *type_ram),
                          config.get_int(prefix + "priority").value_or(5)};
    read_named_needs(config, all_resources, name, type);
    if (const auto why = core::validate_worker_type(type); !why.empty()) {
      throw usage_error(fmt::format("{} ([capacity.worker_types.{}])", why, name));
    }
    settings.types.push_back(std::move(type));
  }
  return settings;
}

const core::WorkerType& require_worker_type(const CapacitySettings& settings, std::string_view name)
{
  if (const auto* type = core::find_worker_type(settings.types, name)) {
    return *type;
  }
  if (settings.types.empty()) {
    throw usage_error(fmt::format("unknown worker type '{}': no worker types are configured; add a "
                                  "[capacity.worker_types.{}] table with cpu and ram_gb",
                                  name, name));
  }
  throw usage_error(fmt::format("unknown worker type '{}'; known types: {}", name, known_types(settings)));
}

void require_lease_id(std::string_view id)
{
  if (id.empty() || id.size() > 200) {
    throw usage_error("a worker id must be 1 to 200 characters");
  }
  if (!core::is_identifier(id)) {
    throw usage_error(fmt::format("worker id '{}' has a space, a control character or another character outside the "
                                  "id alphabet; use only ASCII letters, digits, '-', '_', '.' or ':'",
                                  core::escape_for_display(id)));
  }
}

std::string generate_lease_id(std::string_view type, std::string_view host, long pid)
{
  std::random_device device;
  std::uniform_int_distribution<std::uint32_t> digits;
  std::string short_host(host.substr(0, host.find('.')));
  for (char& c : short_host) {
    if (!core::is_identifier(std::string_view(&c, 1))) {
      c = '-';  // generated ids stay inside the id alphabet whatever the host name holds
    }
  }
  return fmt::format("{}-{}-{}-{:08x}", type, short_host.empty() ? "host" : short_host, pid, digits(device));
}

std::chrono::milliseconds backoff_delay(const WaitPolicy& policy, int attempt, double unit)
{
  auto delay = policy.first_delay;
  for (int i = 1; i < attempt && delay < policy.max_delay; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, policy.max_delay);
  const auto half = delay / 2;
  return half + std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>((delay - half).count()) *
                                                                    std::clamp(unit, 0.0, 1.0)));
}

std::string refusal_reason(const state::AllocateResult& result)
{
  if (!result.blocker) {
    return result.fit.reason;
  }
  const auto& w = *result.blocker;
  std::string where;
  if (result.position > 0) {
    where = fmt::format("; this request is number {} in the queue", result.position);
  }
  return fmt::format("queued behind waiter {} (type {}, priority {}, host {}, pid {}, waiting for {}){}", w.id,
                     core::escape_for_display(w.type), w.priority,
                     w.host.empty() ? "-" : core::escape_for_display(w.host),
                     w.pid != 0 ? std::to_string(w.pid) : "-", fmt::format("{} vCPU, {} GB", core::format_vcpus(w.resources.millicores), core::format_gb(w.resources.mib)),
                     where);
}

AllocateOutcome allocate_lease(state::Store& store, Clock& clock, Reporter& reporter,
                               const state::AllocateRequest& request, const WaitPolicy& policy, std::uint64_t seed)
{
  AllocateOutcome outcome;
  const auto& need = request.lease.resources;
  if (const auto empty = core::check_fit(request.usable, {}, need); !empty.fits) {
    outcome.never_fits = true;
    outcome.result.outcome = state::AllocateResult::Outcome::insufficient;
    outcome.result.fit = empty;
    return outcome;
  }
  state::AllocateRequest queued = request;
  if (policy.wait.count() > 0) {
    queued.queue_ttl = policy.heartbeat_ttl;
  }
  // A poll never sleeps past half the heartbeat TTL, so a live waiter keeps its place.
  const auto longest_sleep = std::max(std::chrono::milliseconds(1), std::min(policy.max_delay, policy.heartbeat_ttl / 2));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto started = clock.monotonic();
  const auto deadline = started + policy.wait;
  const auto give_up = [&]() {
    if (queued.queue_ttl) {
      store.leave_queue(queued.pool, queued.lease.id);
    }
  };
  try {
    for (;;) {
      ++outcome.attempts;
      outcome.result = store.allocate(queued);
      const auto now = clock.monotonic();
      outcome.waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - started);
      if (outcome.result.outcome != state::AllocateResult::Outcome::insufficient) {
        return outcome;
      }
      if (now >= deadline) {
        give_up();
        return outcome;
      }
      reporter.progress(fmt::format("waiting for capacity for {} ({})", request.lease.id, refusal_reason(outcome.result)),
                        outcome.waited);
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
      clock.sleep_for(std::min({backoff_delay(policy, outcome.attempts, unit(rng)), longest_sleep,
                                left + std::chrono::milliseconds(1)}));
    }
  } catch (...) {
    try {
      give_up();
    } catch (...) {
      // The store is unreachable: the waiter's heartbeat expires by itself after heartbeat_ttl.
    }
    throw;
  }
}

}  // namespace scalectl::ops
