// `scalectl capacity check|allocate|renew|release|status|plan`: one CPU/RAM budget shared by
// workers, kept as leases in the state store (file or Redis).

#include <unistd.h>

#include <charconv>
#include <iostream>
#include <map>
#include <random>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/core/numeric.hpp>
#include <scalectl/error.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/ops/capacity.hpp>
#include <scalectl/ops/capacity_multi.hpp>
#include <scalectl/state/store.hpp>

#include "cli/capacity_pools_cmd.hpp"
#include "cli/audited.hpp"
#include "cli/capacity_flags.hpp"
#include "cli/capacity_view.hpp"
#include "cli/context.hpp"
#include "cli/render.hpp"

namespace scalectl::cli {

using nlohmann::json;
using Outcome = state::AllocateResult::Outcome;
using namespace capacity_view;

namespace {

struct CheckFlags {
  std::string type;
  std::int64_t count = 1;
};

struct AllocateFlags {
  std::string type;
  std::string id;
  std::string ttl;
  std::string wait;
  bool notify = false;
};

struct RenewFlags {
  std::string id;
  std::string ttl;
};

struct ReleaseFlags {
  std::string id;
  bool all = false;
  bool force = false;
};

struct PlanFlags {
  double cpu = 0;
  double ram = 0;
  CLI::Option* cpu_option = nullptr;
  CLI::Option* ram_option = nullptr;
  std::vector<std::string> wants;
  std::string strategy = "balanced";
};

std::string lease_resource(const std::string& pool, const std::string& id)
{
  return fmt::format("pool-{}/{}", pool, id);
}

std::chrono::milliseconds since(Context& ctx, std::chrono::steady_clock::time_point started)
{
  return std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock().monotonic() - started);
}

std::int64_t wall_ms(Context& ctx)
{
  return std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock().now().time_since_epoch()).count();
}

std::string ttl_text(const std::optional<std::chrono::milliseconds>& ttl)
{
  return ttl ? "expires in " + format_duration(*ttl) : std::string("no expiry");
}

// --- check ------------------------------------------------------------------------------------

void run_check(Context& ctx, const CheckFlags& flags)
{
  if (flags.count < 1) {
    throw usage_error(fmt::format("--count must be 1 or more, not {}", flags.count));
  }
  const auto settings = ops::capacity_settings(ctx.config());
  const auto& type = ops::require_worker_type(settings, flags.type);
  if (ops::draws_from_shared_pool(settings, type)) {
    return run_check_pools(ctx, settings, type, flags.count);  // several pools (issue 13)
  }
  const auto check = ops::check_pool(ctx.store(), settings, type, flags.count);
  const auto& fit = check.fit;
  ctx.exit_code = fit.fits ? to_int(ExitCode::ok) : to_int(ExitCode::refused);

  if (ctx.output() == OutputFormat::json) {
    print_json({{"pool", settings.pool},
                {"type", type.name},
                {"count", flags.count},
                {"fits", fit.fits},
                {"reason", fit.reason},
                {"need", amount_json(type.need * flags.count)},
                {"allocated", amount_json(check.allocated)},
                {"available", amount_json(fit.available)},
                {"usable", amount_json(settings.usable)}});
    return;
  }
  if (ctx.globals.quiet) {
    return;
  }
  if (fit.fits) {
    std::cout << fmt::format("OK: {} {} worker{} fit{} (need {}; available {})\n", flags.count, type.name,
                             flags.count == 1 ? "" : "s", flags.count == 1 ? "s" : "",
                             amount_text(type.need * flags.count), amount_text(fit.available));
  } else {
    std::cout << fit.reason << "\n";
  }
}

// --- allocate ---------------------------------------------------------------------------------

void emit_allocate(Context& ctx, const state::AllocateRequest& request, const ops::AllocateOutcome& outcome,
                   const std::string& result, const std::string& reason, std::chrono::milliseconds duration)
{
  const auto before = request.usable - outcome.result.fit.available;
  const auto after = outcome.result.outcome == Outcome::allocated ? before + request.lease.resources : before;
  json details = amount_json(request.lease.resources);
  details["type"] = request.lease.type;
  details["ttl_ms"] = request.ttl ? json(request.ttl->count()) : json(nullptr);
  details["host"] = request.lease.host;
  details["pid"] = request.lease.pid;
  details["attempts"] = outcome.attempts;
  details["waited_ms"] = outcome.waited.count();
  details["reaped"] = outcome.result.reaped;
  details["usable"] = amount_json(request.usable);
  ctx.emit(Event{"capacity.allocate", lease_resource(request.pool, request.lease.id), amount_text(before),
                 amount_text(after), reason, result, duration, details});
}

std::string denial_message(const state::AllocateRequest& request, const ops::AllocateOutcome& outcome)
{
  const auto& lease = request.lease;
  if (outcome.never_fits) {
    return fmt::format("a {} worker needs {} but pool '{}' can use at most {} ({}); raise [capacity] max_cpu / "
                       "max_ram_gb or lower the worker type's cpu / ram_gb",
                       lease.type, amount_text(lease.resources), request.pool, amount_text(request.usable),
                       outcome.result.fit.reason);
  }
  if (outcome.attempts > 1) {
    return fmt::format("no capacity for {} worker {} in pool '{}' after waiting {} ({} attempts): {}; see "
                       "`scalectl capacity status`",
                       lease.type, lease.id, request.pool, format_duration(outcome.waited), outcome.attempts,
                       ops::refusal_reason(outcome.result));
  }
  return fmt::format("no capacity for {} worker {} in pool '{}': {}; retry later, pass --wait DURATION, or see "
                     "`scalectl capacity status`",
                     lease.type, lease.id, request.pool, ops::refusal_reason(outcome.result));
}

void print_allocation(Context& ctx, const state::AllocateRequest& request, const ops::AllocateOutcome& outcome)
{
  const auto& lease = outcome.result.lease;
  const bool allocated = outcome.result.outcome == Outcome::allocated;
  const auto before = request.usable - outcome.result.fit.available;
  const auto after = allocated ? before + lease.resources : before;
  if (ctx.output() == OutputFormat::json) {
    print_json({{"result", allocated ? "allocated" : "already_held"},
                {"pool", request.pool},
                {"lease", lease_json(lease, wall_ms(ctx))},
                {"reaped", outcome.result.reaped},
                {"attempts", outcome.attempts},
                {"waited_ms", outcome.waited.count()},
                {"allocated", amount_json(after)},
                {"usable", amount_json(request.usable)}});
    return;
  }
  std::cout << lease.id << std::endl;
  std::optional<std::chrono::milliseconds> left;
  if (lease.expires_at_ms) {
    left = std::chrono::milliseconds(std::max<std::int64_t>(0, *lease.expires_at_ms - wall_ms(ctx)));
  }
  if (allocated) {
    ctx.reporter().step(fmt::format("allocated {} lease {} ({}; {}); pool '{}' now at {}, {}", lease.type, lease.id,
                                    amount_text(lease.resources), ttl_text(left), request.pool,
                                    cpu_usage_line(after.millicores, request.usable.millicores),
                                    ram_usage_line(after.mib, request.usable.mib)));
  } else {
    ctx.reporter().step(fmt::format("{} already holds a live {} lease since {} ({}); nothing changed", lease.id,
                                    lease.type, format_rfc3339(SystemTime(std::chrono::milliseconds(lease.started_at_ms))),
                                    ttl_text(left)));
  }
  for (const auto& id : outcome.result.reaped) {
    ctx.reporter().step(fmt::format("reaped expired lease {}", id));
  }
}

void run_allocate(Context& ctx, const AllocateFlags& flags)
{
  const auto settings = ops::capacity_settings(ctx.config());
  const auto& type = ops::require_worker_type(settings, flags.type);
  if (ops::draws_from_shared_pool(settings, type)) {
    return run_allocate_pools(ctx, settings, type, {flags.id, flags.ttl, flags.wait, flags.notify});  // issue 13
  }
  const auto owner = ctx.lock_owner();

  state::AllocateRequest request;
  request.pool = settings.pool;
  request.lease.id = flags.id.empty() ? ops::generate_lease_id(type.name, owner.host, ::getpid()) : flags.id;
  ops::require_lease_id(request.lease.id);
  request.lease.type = type.name;
  request.lease.resources = type.need;
  request.lease.host = owner.host;
  request.lease.pid = static_cast<long>(::getppid());
  request.usable = settings.usable;
  request.priority = type.priority;
  request.ttl = lease_ttl(flags.ttl, settings.default_ttl);
  ops::WaitPolicy policy;
  policy.heartbeat_ttl = settings.waiter_ttl;
  if (!flags.wait.empty()) {
    policy.wait = positive_duration(flags.wait, "--wait");
  }

  const auto started = ctx.clock().monotonic();
  json details = amount_json(request.lease.resources);
  details["type"] = request.lease.type;
  const FailureAudit audit{
    Event{"capacity.allocate", lease_resource(request.pool, request.lease.id), "", "", "", "", {}, details}, "",
    flags.notify, false};
  const auto outcome = run_audited(ctx, audit, started, [&] {
    return ops::allocate_lease(ctx.store(), ctx.clock(), ctx.reporter(), request, policy, std::random_device{}());
  });

  if (outcome.result.outcome == Outcome::insufficient) {
    const auto message = denial_message(request, outcome);
    if (flags.notify) {
      emit_allocate(ctx, request, outcome, "refused", ops::refusal_reason(outcome.result), since(ctx, started));
    }
    throw refused_error(message);
  }
  if (outcome.result.outcome == Outcome::already_held && outcome.result.lease.type != type.name) {
    throw refused_error(fmt::format("{} already holds a live {} lease in pool '{}', not {}; release it first "
                                    "(`scalectl capacity release {}`) or use another --id",
                                    request.lease.id, outcome.result.lease.type, request.pool, type.name,
                                    request.lease.id));
  }
  emit_allocate(ctx, request, outcome, outcome.result.outcome == Outcome::allocated ? "ok" : "noop",
                fmt::format("{} worker", type.name), since(ctx, started));
  print_allocation(ctx, request, outcome);
  // The id is the only handle on the lease: if it could not be written (a closed or full stdout),
  // give a new lease back rather than leak it until its TTL, and fail.
  std::cout.flush();
  if (!std::cout) {
    if (outcome.result.outcome == Outcome::allocated) {
      ops::release_lease(ctx.store(), request.pool, request.lease.id);
    }
    throw Error(fmt::format("cannot write the worker id {} to stdout; {}", request.lease.id,
                            outcome.result.outcome == Outcome::allocated
                              ? "the lease was released again, fix the output and rerun"
                              : "the lease was already held and is kept"));
  }
}

// --- renew ------------------------------------------------------------------------------------

void run_renew(Context& ctx, const RenewFlags& flags)
{
  if (has_shared_pools(ctx)) {
    return run_renew_pools(ctx, flags.id, flags.ttl);  // every pool of the lease (issue 13)
  }
  ops::require_lease_id(flags.id);
  const auto& cfg = ctx.config();
  const auto pool = ops::capacity_pool(cfg);
  std::chrono::milliseconds ttl{0};
  if (!flags.ttl.empty()) {
    ttl = positive_duration(flags.ttl, "--ttl");
  } else if (const auto fallback = cfg.get_duration("capacity.default_ttl"); fallback && fallback->count() > 0) {
    ttl = *fallback;
  } else {
    throw usage_error("renew needs a TTL; pass --ttl DURATION or set [capacity] default_ttl");
  }
  const auto started = ctx.clock().monotonic();
  const auto result = ops::renew_lease(ctx.store(), pool, flags.id, ttl);
  const auto& lease = result.lease;
  const auto now = wall_ms(ctx);
  json details = {{"ttl_ms", ttl.count()}};
  if (result.outcome != state::RenewResult::Outcome::unknown) {
    details["type"] = lease.type;
    details["expires_at_ms"] = lease.expires_at_ms ? json(*lease.expires_at_ms) : json(nullptr);
  }

  switch (result.outcome) {
  case state::RenewResult::Outcome::renewed:
    ctx.emit(Event{"capacity.renew", lease_resource(pool, flags.id), "", "", "renewed", "ok", since(ctx, started),
                   details});
    if (ctx.output() == OutputFormat::json) {
      print_json({{"result", "renewed"}, {"pool", pool}, {"lease", lease_json(lease, now)}});
    } else if (!ctx.globals.quiet) {
      std::cout << fmt::format("renewed {} lease {} until {} (expires in {})\n", lease.type, lease.id,
                               format_rfc3339(SystemTime(std::chrono::milliseconds(lease.expires_at_ms.value_or(now)))),
                               format_duration(ttl));
    }
    return;
  case state::RenewResult::Outcome::expired: {
    const auto at = lease.expires_at_ms.value_or(now);
    const auto message = fmt::format(
      "lease {} in pool '{}' expired at {} ({} ago) and was not renewed; its capacity may already be taken; "
      "allocate again with `scalectl capacity allocate {} --id {}`",
      flags.id, pool, format_rfc3339(SystemTime(std::chrono::milliseconds(at))),
      format_duration(std::chrono::milliseconds(std::max<std::int64_t>(0, now - at))), lease.type, flags.id);
    ctx.emit(Event{"capacity.renew", lease_resource(pool, flags.id), "", "", "lease expired", "refused",
                   since(ctx, started), details});
    throw refused_error(message);
  }
  case state::RenewResult::Outcome::unknown:
    ctx.emit(Event{"capacity.renew", lease_resource(pool, flags.id), "", "", "no such lease", "refused",
                   since(ctx, started), details});
    throw refused_error(fmt::format("no lease {} in pool '{}' (never allocated, released, or reaped after it "
                                    "expired); allocate again with `scalectl capacity allocate TYPE --id {}`",
                                    flags.id, pool, flags.id));
  }
}

// --- release ----------------------------------------------------------------------------------

void run_purge(Context& ctx, const std::string& pool)
{
  const auto started = ctx.clock().monotonic();
  const auto removed = ops::purge_pool(ctx.store(), pool);
  const auto now = wall_ms(ctx);
  json ids = json::array();
  json leases = json::array();
  core::Resources total;
  for (const auto& lease : removed) {
    ids.push_back(lease.id);
    leases.push_back(lease_json(lease, now));
    total = total + lease.resources;
  }
  ctx.emit(Event{"capacity.purge", "pool-" + pool, std::to_string(removed.size()), "0", "release --all --force",
                 removed.empty() ? "noop" : "ok", since(ctx, started), {{"removed", ids}}});
  if (ctx.output() == OutputFormat::json) {
    print_json({{"result", "purged"}, {"pool", pool}, {"removed", leases}, {"total", amount_json(total)}});
    return;
  }
  if (removed.empty()) {
    std::cout << fmt::format("pool '{}' had no leases; nothing removed\n", pool);
    return;
  }
  std::cout << fmt::format("removed {} lease{} ({}) from pool '{}':\n", removed.size(),
                           removed.size() == 1 ? "" : "s", amount_text(total), pool);
  std::vector<std::vector<std::string>> rows{{"ID", "TYPE", "CPU", "RAM", "HOST", "PID"}};
  for (const auto& lease : removed) {
    rows.push_back({lease.id, lease.type, core::format_vcpus(lease.resources.millicores),
                    core::format_gb(lease.resources.mib) + " GB", lease.host.empty() ? "-" : lease.host,
                    lease.pid != 0 ? std::to_string(lease.pid) : "-"});
  }
  std::cout << table_text(rows);
}

void run_release(Context& ctx, const ReleaseFlags& flags)
{
  const auto pool = ops::capacity_pool(ctx.config());
  if (flags.all) {
    if (!flags.id.empty()) {
      throw usage_error("give a worker id or --all, not both");
    }
    if (!flags.force) {
      throw usage_error(fmt::format("--all removes every lease of pool '{}', including live workers'; add --force "
                                    "to do it",
                                    pool));
    }
    run_purge(ctx, pool);
    return;
  }
  if (flags.force) {
    throw usage_error("--force only goes with --all");
  }
  if (flags.id.empty()) {
    throw usage_error("give the worker id to release, or --all --force to remove every lease");
  }
  if (has_shared_pools(ctx)) {
    return run_release_pools(ctx, flags.id);  // every pool of the lease (issue 13)
  }
  ops::require_lease_id(flags.id);
  const auto started = ctx.clock().monotonic();
  const auto result = ops::release_lease(ctx.store(), pool, flags.id);
  const auto& lease = result.lease;
  const bool released = result.outcome == state::ReleaseResult::Outcome::released;
  json details = json::object();
  if (released) {
    details = amount_json(lease.resources);
    details["type"] = lease.type;
    details["expired"] = lease.expired;
  }
  ctx.emit(Event{"capacity.release", lease_resource(pool, flags.id), released ? amount_text(lease.resources) : "",
                 released ? "0" : "", released ? "released" : "no such lease", released ? "ok" : "noop",
                 since(ctx, started), details});
  if (ctx.output() == OutputFormat::json) {
    print_json({{"result", released ? "released" : "not_held"},
                {"pool", pool},
                {"id", flags.id},
                {"lease", released ? lease_json(lease, wall_ms(ctx)) : json(nullptr)}});
    return;
  }
  if (ctx.globals.quiet) {
    return;
  }
  if (released) {
    std::cout << fmt::format("released {} lease {} ({}){}\n", lease.type, lease.id, amount_text(lease.resources),
                             lease.expired ? "; it had already expired" : "");
  } else {
    std::cout << fmt::format("no lease {} in pool '{}' (already released, reaped, or never allocated); nothing "
                             "to do\n",
                             flags.id, pool);
  }
}

// --- status and plan --------------------------------------------------------------------------

void run_status(Context& ctx, const ColumnOptions& columns)
{
  StatusView view;
  view.settings = ops::capacity_settings(ctx.config());
  auto status = ops::pool_status(ctx.store(), view.settings.pool);
  view.snapshot = std::move(status.snapshot);
  view.backend = std::move(status.backend);
  if (!view.settings.shared_pools.empty() && !columns.given()) {
    return run_status_pools(ctx, view);  // one section per shared pool (issue 13)
  }
  if (ctx.output() == OutputFormat::json) {
    print_json(status_json(view));
  } else if (columns.given()) {
    std::cout << table_text(lease_rows(view.snapshot), columns);  // scripts: only the lease table
  } else {
    std::cout << status_text(view);
  }
}

std::map<std::string, std::int64_t> parse_wants(const ops::CapacitySettings& settings,
                                                const std::vector<std::string>& wants)
{
  std::map<std::string, std::int64_t> out;
  for (const auto& want : wants) {
    const auto eq = want.find('=');
    std::int64_t count = -1;
    if (eq != std::string::npos) {
      const auto text = want.substr(eq + 1);
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
      if (ec != std::errc() || end != text.data() + text.size()) {
        count = -1;
      }
    }
    if (eq == std::string::npos || count < 0 || count > core::k_max_workers) {
      throw usage_error(fmt::format("--want takes TYPE=COUNT with a count from 0 to {}, e.g. registre=2, not '{}'",
                                    core::k_max_workers, want));
    }
    const auto& type = ops::require_worker_type(settings, want.substr(0, eq));
    if (!out.emplace(type.name, count).second) {
      throw usage_error(fmt::format("--want {} is given twice", type.name));
    }
  }
  return out;
}

void run_plan(Context& ctx, const PlanFlags& flags)
{
  std::optional<double> cpu;
  std::optional<double> ram;
  if (flags.cpu_option->count() > 0) {
    cpu = flags.cpu;
  }
  if (flags.ram_option->count() > 0) {
    ram = flags.ram;
  }
  PlanView view;
  view.settings = ops::combined_settings(ops::capacity_settings(ctx.config(), {}, cpu, ram));  // + shared pools
  if (view.settings.types.empty()) {
    throw usage_error("no worker types are configured; add [capacity.worker_types.NAME] tables with cpu, ram_gb "
                      "and priority");
  }
  const auto wants = parse_wants(view.settings, flags.wants);
  view.strategy = flags.strategy;
  view.plan = core::plan_workers(view.settings.usable, view.settings.types, wants,
                                 flags.strategy == "priority" ? core::WorkerPlanStrategy::priority
                                                              : core::WorkerPlanStrategy::balanced);
  if (ctx.output() == OutputFormat::json) {
    print_json(plan_json(view));
  } else {
    std::cout << plan_text(view) << shared_pools_note(view.settings);
  }
}

}  // namespace

void setup_capacity_command(CLI::App& app, Context& ctx)
{
  auto* capacity = app.add_subcommand("capacity", "Share one CPU/RAM budget between workers with atomic leases");
  capacity->require_subcommand(1);
  ctx.bind_flag(*capacity, "--pool", "capacity.pool",
                "Capacity pool (default: [capacity] pool, else server; Redis keys <pool>:workers, ...)");

  auto check = std::make_shared<CheckFlags>();
  auto* check_cmd = capacity->add_subcommand("check", "Exit 0 if COUNT workers of TYPE fit now, 3 (with the reason) if not");
  check_cmd->add_option("type", check->type, "Worker type ([capacity.worker_types.TYPE])")->required();
  check_cmd->add_option("--count", check->count, "Number of workers (default 1)")
    ->check(CLI::Range(std::int64_t{1}, core::k_max_workers));
  check_cmd->callback([&ctx, check] { ctx.action = [&ctx, check] { run_check(ctx, *check); }; });

  auto allocate = std::make_shared<AllocateFlags>();
  auto* allocate_cmd = capacity->add_subcommand(
    "allocate", "Check and take a lease for one TYPE worker atomically; prints the worker id (exit 3: no room)");
  allocate_cmd->add_option("type", allocate->type, "Worker type ([capacity.worker_types.TYPE])")->required();
  allocate_cmd->add_option("--id", allocate->id,
                           "Worker id; allocating an id that holds a live lease returns it (default: generated)");
  allocate_cmd->add_option("--ttl", allocate->ttl,
                           "Lease expires unless renewed within DURATION, e.g. 5m; 'none' for no expiry "
                           "(default: [capacity] default_ttl)");
  allocate_cmd->add_option("--wait", allocate->wait,
                           "Wait up to DURATION for room (polling with backoff), then exit 3");
  allocate_cmd->add_flag("--notify", allocate->notify, "Also report a denial (no room) as an event");
  allocate_cmd->callback([&ctx, allocate] { ctx.action = [&ctx, allocate] { run_allocate(ctx, *allocate); }; });

  auto renew = std::make_shared<RenewFlags>();
  auto* renew_cmd = capacity->add_subcommand("renew", "Extend a live lease; exit 3 if it expired or is unknown");
  renew_cmd->add_option("id", renew->id, "Worker id")->required();
  renew_cmd->add_option("--ttl", renew->ttl, "New expiry from now, e.g. 5m (default: [capacity] default_ttl)");
  renew_cmd->callback([&ctx, renew] { ctx.action = [&ctx, renew] { run_renew(ctx, *renew); }; });

  auto release = std::make_shared<ReleaseFlags>();
  auto* release_cmd =
    capacity->add_subcommand("release", "Release a lease (exit 0 if it was not held); --all --force purges the pool");
  release_cmd->add_option("id", release->id, "Worker id");
  release_cmd->add_flag("--all", release->all, "Remove every lease of the pool (needs --force)");
  release_cmd->add_flag("--force", release->force, "Confirm --all");
  release_cmd->callback([&ctx, release] { ctx.action = [&ctx, release] { run_release(ctx, *release); }; });

  auto* status_cmd = capacity->add_subcommand(
    "status", "Show limits, reserve, allocated and available CPU/RAM, per-type counts and every lease");
  auto status_columns = std::make_shared<ColumnOptions>();
  add_column_flags(*status_cmd, *status_columns);
  status_cmd->callback([&ctx, status_columns] { ctx.action = [&ctx, status_columns] { run_status(ctx, *status_columns); }; });
  setup_capacity_repair_command(*capacity, ctx);

  auto plan = std::make_shared<PlanFlags>();
  auto* plan_cmd = capacity->add_subcommand(
    "plan", "Recommend how many workers of each type fit a server (this one, or --cpu/--ram)");
  plan->cpu_option = plan_cmd->add_option("--cpu", plan->cpu, "vCPUs of the server (default: [capacity] max_cpu, "
                                                              "else this host)")
                       ->check(CLI::PositiveNumber & CLI::Range(0.0, core::k_max_vcpus));
  plan->ram_option = plan_cmd->add_option("--ram", plan->ram, "RAM of the server in GB (default: [capacity] "
                                                              "max_ram_gb, else this host)")
                       ->check(CLI::PositiveNumber & CLI::Range(0.0, core::k_max_ram_gb));
  plan_cmd->add_option("--want", plan->wants, "At most COUNT workers of TYPE, as TYPE=COUNT (repeatable)");
  plan_cmd->add_option("--strategy", plan->strategy,
                       "balanced: one worker per type per round, higher priority first; priority: fill the "
                       "highest priority first")
    ->check(CLI::IsMember({"balanced", "priority"}))
    ->default_str("balanced");
  plan_cmd->callback([&ctx, plan] { ctx.action = [&ctx, plan] { run_plan(ctx, *plan); }; });
}

}  // namespace scalectl::cli
