#include "cli/capacity_pools_cmd.hpp"

#include <unistd.h>

#include <iostream>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/ops/capacity_multi.hpp>
#include <scalectl/report.hpp>

#include "cli/audited.hpp"
#include "cli/capacity_flags.hpp"
#include "cli/columns.hpp"
#include "cli/context.hpp"
#include "cli/render.hpp"

namespace scalectl::cli {

using nlohmann::json;
using Outcome = state::AllocateResult::Outcome;
using namespace capacity_view;

namespace {

std::int64_t wall_ms(Context& ctx)
{
  return std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock().now().time_since_epoch()).count();
}

std::chrono::milliseconds since(Context& ctx, std::chrono::steady_clock::time_point started)
{
  return std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock().monotonic() - started);
}

std::string pool_list(const std::vector<ops::PoolPart>& parts)
{
  std::string out;
  for (const auto& part : parts) {
    out += fmt::format("{}'{}'", out.empty() ? "" : " and ", part.pool);
  }
  return out;
}

// Returns "7.2 gemini_rpm, 242000 gemini_tpm" (a shared pool's share has no CPU or RAM).
std::string share_text(const ops::PoolPart& part)
{
  if (!part.shared) {
    return amount_text(part.need);
  }
  std::string out;
  for (const auto& [name, amount] : part.need.named) {
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", core::decimal_text(amount), name);
  }
  return out;
}

std::string refusal_message(const ops::MultiAllocateRequest& request, const ops::MultiAllocateOutcome& outcome)
{
  const auto& part = request.parts[*outcome.refused];
  const auto& result = outcome.pools.back().result;
  const auto& lease = request.lease;
  const std::string nothing = outcome.rolled_back.empty()
                                ? std::string()
                                : fmt::format("; the lease taken in pool '{}' was released again, nothing is held",
                                              outcome.rolled_back.front());
  if (outcome.never_fits) {
    return fmt::format("a {} worker needs {} of pool '{}', which can use at most {} ({}); raise the pool's limits or "
                       "lower the worker type's amounts",
                       lease.type, share_text(part), part.pool, amount_text(part.usable), result.fit.reason);
  }
  if (outcome.wrong_type) {
    return fmt::format("{} already holds a live {} lease in pool '{}', not {}; release it first (`scalectl capacity "
                       "release {}`) or use another --id{}",
                       lease.id, result.lease.type, part.pool, lease.type, lease.id, nothing);
  }
  if (outcome.attempts > 1) {
    return fmt::format("no capacity for {} worker {} in pool '{}' after waiting {} ({} attempts): {}{}; see `scalectl "
                       "capacity status`",
                       lease.type, lease.id, part.pool, format_duration(outcome.waited), outcome.attempts,
                       result.fit.reason, nothing);
  }
  return fmt::format("no capacity for {} worker {} in pool '{}': {}{}; retry later, pass --wait DURATION, or see "
                     "`scalectl capacity status`",
                     lease.type, lease.id, part.pool, result.fit.reason, nothing);
}

json pools_json(const std::vector<ops::PoolAllocation>& pools, std::int64_t now)
{
  json out = json::array();
  for (const auto& [pool, result] : pools) {
    out.push_back({{"pool", pool},
                   {"result", result.outcome == Outcome::allocated      ? "allocated"
                              : result.outcome == Outcome::already_held ? "already_held"
                                                                        : "insufficient"},
                   {"lease", result.outcome == Outcome::insufficient ? json(nullptr) : lease_json(result.lease, now)},
                   {"reason", result.fit.reason},
                   {"reaped", result.reaped}});
  }
  return out;
}

}  // namespace

bool has_shared_pools(Context& ctx)
{
  return !ctx.config().table_names("capacity.shared_pools").empty();
}

void run_check_pools(Context& ctx, const ops::CapacitySettings& settings, const core::WorkerType& type,
                     std::int64_t count)
{
  if (count < 1) {
    throw usage_error(fmt::format("--count must be 1 or more, not {}", count));
  }
  const auto report = ops::check_across_pools(ctx.store(), settings, type, count);
  ctx.exit_code = report.fit.fits ? to_int(ExitCode::ok) : to_int(ExitCode::refused);
  const auto parts = ops::pool_parts(settings, type);
  if (ctx.output() == OutputFormat::json) {
    json pools = json::array();
    for (const auto& part : parts) {
      pools.push_back({{"pool", part.pool}, {"shared", part.shared}, {"need", amount_json(part.need * count)}});
    }
    print_json({{"pool", settings.pool},
                {"pools", pools},
                {"type", type.name},
                {"count", count},
                {"fits", report.fit.fits},
                {"reason", report.fit.reason},
                {"need", amount_json(type.need * count)},
                {"allocated", amount_json(report.allocated)},
                {"available", amount_json(report.fit.available)},
                {"usable", amount_json(report.usable)}});
    return;
  }
  if (ctx.globals.quiet) {
    return;
  }
  if (report.fit.fits) {
    std::cout << fmt::format("OK: {} {} worker{} fit{} in pools {} (need {}; available {})\n", count, type.name,
                             count == 1 ? "" : "s", count == 1 ? "s" : "", pool_list(parts),
                             amount_text(type.need * count), amount_text(report.fit.available));
  } else {
    std::cout << report.fit.reason << "\n";
  }
}

void run_allocate_pools(Context& ctx, const ops::CapacitySettings& settings, const core::WorkerType& type,
                        const PoolsAllocateFlags& flags)
{
  const auto owner = ctx.lock_owner();
  ops::MultiAllocateRequest request;
  request.lease.id = flags.id.empty() ? ops::generate_lease_id(type.name, owner.host, ::getpid()) : flags.id;
  ops::require_lease_id(request.lease.id);
  request.lease.type = type.name;
  request.lease.host = owner.host;
  request.lease.pid = static_cast<long>(::getppid());
  request.parts = ops::pool_parts(settings, type);
  request.pending_ttl = settings.pending_ttl;
  request.ttl = lease_ttl(flags.ttl, settings.default_ttl);
  ops::WaitPolicy policy;
  if (!flags.wait.empty()) {
    policy.wait = positive_duration(flags.wait, "--wait");
  }
  const std::string resource = fmt::format("pool-{}/{}", settings.pool, request.lease.id);
  json details = amount_json(type.need);
  details["type"] = type.name;
  details["pools"] = json::array();
  for (const auto& part : request.parts) {
    details["pools"].push_back(part.pool);
  }
  details["ttl_ms"] = request.ttl ? json(request.ttl->count()) : json(nullptr);

  const auto started = ctx.clock().monotonic();
  const FailureAudit audit{Event{"capacity.allocate", resource, "", "", "", "", {}, details}, "", true, false};
  const auto outcome = run_audited(ctx, audit, started, [&] {
    return ops::allocate_across_pools(ctx.store(), ctx.clock(), ctx.reporter(), request, policy,
                                      std::random_device{}());
  });
  details["attempts"] = outcome.attempts;
  details["waited_ms"] = outcome.waited.count();
  details["rolled_back"] = outcome.rolled_back;
  if (outcome.outcome == Outcome::insufficient) {
    const auto message = refusal_message(request, outcome);
    if (flags.notify) {
      ctx.emit(Event{"capacity.allocate", resource, "", "", outcome.pools.back().result.fit.reason, "refused",
                     since(ctx, started), details});
    }
    throw refused_error(message);
  }
  const bool allocated = outcome.outcome == Outcome::allocated;
  ctx.emit(Event{"capacity.allocate", resource, "", "", fmt::format("{} worker", type.name), allocated ? "ok" : "noop",
                 since(ctx, started), details});
  const auto now = wall_ms(ctx);
  if (ctx.output() == OutputFormat::json) {
    print_json({{"result", allocated ? "allocated" : "already_held"},
                {"pool", settings.pool},
                {"id", request.lease.id},
                {"pools", pools_json(outcome.pools, now)},
                {"attempts", outcome.attempts},
                {"waited_ms", outcome.waited.count()}});
  } else {
    std::cout << request.lease.id << std::endl;
    for (std::size_t i = 0; i < request.parts.size(); ++i) {
      const auto& part = request.parts[i];
      const auto& result = outcome.pools[i].result;
      const auto after = part.usable - result.fit.available + (result.outcome == Outcome::allocated ? part.need
                                                                                                   : core::Resources{});
      std::string usage = part.shared ? "" : cpu_usage_line(after.millicores, part.usable.millicores) + ", " +
                                                 ram_usage_line(after.mib, part.usable.mib);
      for (const auto& [name, amount] : part.need.named) {
        usage += fmt::format("{}{}: {} / {}", usage.empty() ? "" : ", ", name,
                             core::compact_text(core::named_amount(after, name)),
                             core::compact_text(core::named_amount(part.usable, name)));
      }
      ctx.reporter().step(fmt::format("{} {} lease {} in {} pool '{}' ({}); now at {}",
                                      allocated ? "allocated" : "holds", type.name, request.lease.id,
                                      part.shared ? "shared" : "host", part.pool, share_text(part), usage));
    }
  }
  std::cout.flush();
  if (!std::cout) {
    if (allocated) {
      ops::release_across_pools(ctx.store(), ops::all_pools(settings), request.lease.id);
    }
    throw Error(fmt::format("cannot write the worker id {} to stdout; {}", request.lease.id,
                            allocated ? "the leases were released again in every pool, fix the output and rerun"
                                      : "the leases were already held and are kept"));
  }
}

void run_renew_pools(Context& ctx, const std::string& id, const std::string& ttl_text)
{
  ops::require_lease_id(id);
  const auto settings = ops::capacity_settings(ctx.config());
  std::chrono::milliseconds ttl{0};
  if (!ttl_text.empty()) {
    ttl = positive_duration(ttl_text, "--ttl");
  } else if (settings.default_ttl) {
    ttl = *settings.default_ttl;
  } else {
    throw usage_error("renew needs a TTL; pass --ttl DURATION or set [capacity] default_ttl");
  }
  const auto started = ctx.clock().monotonic();
  const auto report = ops::renew_across_pools(ctx.store(), settings, id, ttl);
  const auto now = wall_ms(ctx);
  json pools = json::array();
  for (const auto& [pool, result] : report.pools) {
    pools.push_back({{"pool", pool},
                     {"result", result.outcome == state::RenewResult::Outcome::renewed   ? "renewed"
                                : result.outcome == state::RenewResult::Outcome::expired ? "expired"
                                                                                         : "unknown"},
                     {"lease", result.outcome == state::RenewResult::Outcome::unknown ? json(nullptr)
                                                                                      : lease_json(result.lease, now)}});
  }
  const std::string resource = fmt::format("pool-{}/{}", settings.pool, id);
  const json details = {{"ttl_ms", ttl.count()}, {"pools", pools}};
  if (!report.lease) {
    ctx.emit(Event{"capacity.renew", resource, "", "", "no such lease", "refused", since(ctx, started), details});
    throw refused_error(fmt::format("no lease {} in any pool ({}) (never allocated, released, or reaped after it "
                                    "expired); allocate again with `scalectl capacity allocate TYPE --id {}`",
                                    id, fmt::join(ops::all_pools(settings), ", "), id));
  }
  if (!report.missing.empty()) {
    ctx.emit(Event{"capacity.renew", resource, "", "", "lease gone in a pool", "refused", since(ctx, started),
                   details});
    throw refused_error(fmt::format(
      "lease {} is gone (expired or reaped) in pool{} {}, so its capacity there may already be taken; the other "
      "pools were renewed; allocate again with `scalectl capacity allocate {} --id {}` (it completes the missing "
      "pools) or release it",
      id, report.missing.size() == 1 ? "" : "s", fmt::join(report.missing, ", "), report.lease->type, id));
  }
  ctx.emit(Event{"capacity.renew", resource, "", "", "renewed", "ok", since(ctx, started), details});
  if (ctx.output() == OutputFormat::json) {
    print_json({{"result", "renewed"}, {"pool", settings.pool}, {"id", id}, {"pools", pools}});
  } else if (!ctx.globals.quiet) {
    std::vector<std::string> renewed;
    for (const auto& [pool, result] : report.pools) {
      if (result.outcome == state::RenewResult::Outcome::renewed) {
        renewed.push_back("'" + pool + "'");
      }
    }
    std::cout << fmt::format("renewed {} lease {} in pool{} {} (expires in {})\n", report.lease->type, id,
                             renewed.size() == 1 ? "" : "s", fmt::join(renewed, " and "), format_duration(ttl));
  }
}

void run_release_pools(Context& ctx, const std::string& id)
{
  ops::require_lease_id(id);
  const auto settings = ops::capacity_settings(ctx.config());
  const auto started = ctx.clock().monotonic();
  const auto results = ops::release_across_pools(ctx.store(), ops::all_pools(settings), id);
  const auto now = wall_ms(ctx);
  json pools = json::array();
  std::vector<std::string> released;
  std::string type;
  for (const auto& [pool, result] : results) {
    const bool done = result.outcome == state::ReleaseResult::Outcome::released;
    pools.push_back({{"pool", pool},
                     {"result", done ? "released" : "not_held"},
                     {"lease", done ? lease_json(result.lease, now) : json(nullptr)}});
    if (done) {
      released.push_back("'" + pool + "'");
      type = result.lease.type;
    }
  }
  ctx.emit(Event{"capacity.release", fmt::format("pool-{}/{}", settings.pool, id), "", "",
                 released.empty() ? "no such lease" : "released", released.empty() ? "noop" : "ok",
                 since(ctx, started), {{"pools", pools}}});
  if (ctx.output() == OutputFormat::json) {
    print_json({{"result", released.empty() ? "not_held" : "released"}, {"pool", settings.pool}, {"id", id},
                {"pools", pools}});
    return;
  }
  if (ctx.globals.quiet) {
    return;
  }
  if (released.empty()) {
    std::cout << fmt::format("no lease {} in any pool ({}) (already released, reaped, or never allocated); nothing "
                             "to do\n",
                             id, fmt::join(ops::all_pools(settings), ", "));
  } else {
    std::cout << fmt::format("released {} lease {} in pool{} {}\n", type, id, released.size() == 1 ? "" : "s",
                             fmt::join(released, " and "));
  }
}

void run_status_pools(Context& ctx, const StatusView& view)
{
  const auto shared = ops::shared_pool_states(ctx.store(), view.settings);
  if (ctx.output() == OutputFormat::json) {
    json out = status_json(view);
    json pools = json::array();
    for (const auto& [pool, snapshot] : shared) {
      json leases = json::array();
      for (const auto& lease : snapshot.leases) {
        leases.push_back(lease_json(lease, snapshot.now_ms));
      }
      pools.push_back({{"name", pool.table},
                       {"pool", pool.pool},
                       {"usable", amount_json(pool.usable)},
                       {"allocated", amount_json(snapshot.allocated)},
                       {"resources", named_usage_json(pool.resources, snapshot.allocated, pool.usable)},
                       {"leases", leases}});
    }
    out["shared_pools"] = std::move(pools);
    print_json(out);
    return;
  }
  std::string text = status_text(view);
  for (const auto& [pool, snapshot] : shared) {
    text += fmt::format("\nshared pool {} ([capacity.shared_pools.{}], every host)\n", pool.pool, pool.table);
    for (const auto& resource : pool.resources) {
      text += fmt::format("{}{}\n", &resource == &pool.resources.front() ? "allocated  " : "           ",
                          named_usage_line(resource, core::named_amount(snapshot.allocated, resource.name),
                                                              core::named_amount(pool.usable, resource.name)));
    }
    if (snapshot.leases.empty()) {
      text += "no leases\n";
      continue;
    }
    std::vector<std::vector<std::string>> rows{{"ID", "TYPE", "AMOUNTS", "HOST", "PID", "EXPIRES"}};
    for (const auto& lease : snapshot.leases) {
      std::string amounts;
      for (const auto& [name, amount] : lease.resources.named) {
        amounts += fmt::format("{}{} {}", amounts.empty() ? "" : ", ", core::decimal_text(amount), name);
      }
      std::string expires = "never";
      if (lease.expires_at_ms) {
        expires = lease.expired ? "expired (not yet reaped)"
                                : "in " + format_duration(std::chrono::milliseconds(*lease.expires_at_ms - snapshot.now_ms));
      }
      rows.push_back({lease.id, lease.type, amounts, lease.host.empty() ? "-" : lease.host,
                      lease.pid != 0 ? std::to_string(lease.pid) : "-", expires});
    }
    text += table_text(rows);
  }
  std::cout << text;
}

std::string shared_pools_note(const ops::CapacitySettings& settings)
{
  std::string out;
  for (const auto& pool : settings.shared_pools) {
    std::string names;
    for (const auto& resource : pool.resources) {
      names += (names.empty() ? "" : ", ") + resource.name;
    }
    out += fmt::format("\n{}: shared pool '{}' (every host together), not this server's\n", names, pool.pool);
  }
  return out;
}

}  // namespace scalectl::cli
