// `scalectl droplet claim|unclaim|claims|reconcile|schedule`: droplet size as desired state.
// Workloads claim a size; a reconciler on another host converges the droplet on it.

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/ops/droplet_claims.hpp>

#include "cli/columns.hpp"
#include "cli/context.hpp"
#include "cli/render.hpp"

namespace scalectl::cli {

using nlohmann::json;

namespace {

struct ClaimFlags {
  std::string size = "up";
  std::string id;
  std::string ttl;
  std::string wait;
};

struct ReconcileFlags {
  std::string tag;
  std::string every;
  bool dry_run = false;
};

ops::DropletDeps deps_of(Context& ctx)
{
  return ctx.droplet_deps();
}

std::string droplet_spec(Context& ctx)
{
  const auto spec = ctx.config().get_string("droplet.id");
  if (!spec || spec->empty()) {
    throw usage_error("no droplet given; pass --droplet ID|NAME, set DROPLET_ID, or set [droplet] id in the config");
  }
  return *spec;
}

ops::SelfCheckOptions self_check_of(const config::Config& cfg)
{
  ops::SelfCheckOptions o;
  o.dmi_path = cfg.get_string("droplet.dmi_path").value_or(o.dmi_path);
  o.metadata_url = cfg.get_string("droplet.metadata_url").value_or(o.metadata_url);
  o.metadata_timeout = cfg.get_duration("droplet.metadata_timeout").value_or(o.metadata_timeout);
  return o;
}

ops::StateLocation state_of(const config::Config& cfg)
{
  const auto url = cfg.get_string("state.redis_url").value_or("");
  const auto backend = cfg.get_string("state.backend").value_or(url.empty() ? "file" : "redis");
  return ops::StateLocation{backend == "redis" ? url : ""};
}

std::vector<core::ScheduleWindow> schedule_of(const config::Config& cfg)
{
  constexpr std::string_view k_prefix = "droplet.schedule.";
  std::vector<core::ScheduleWindow> out;
  for (const auto& [key, entry] : cfg.entries()) {
    if (!key.starts_with(k_prefix)) {
      continue;
    }
    const auto* size = std::get_if<std::string>(&entry.value);
    if (size == nullptr) {
      throw usage_error(fmt::format("[droplet.schedule] \"{}\" ({}) must be a size slug string",
                                    key.substr(k_prefix.size()), entry.origin.describe()));
    }
    out.push_back(core::parse_schedule_window(std::string_view(key).substr(k_prefix.size()), *size));
  }
  return out;
}

std::string size_word(const config::Config& cfg, const std::string& word)
{
  if (word == "up" || word == "down") {
    const auto sizes = word == "up" ? cfg.get_slugs("droplet.up_size").value_or(std::vector<std::string>{})
                                    : std::vector<std::string>{cfg.get_string("droplet.down_size").value_or("")};
    const std::string slug = sizes.empty() ? std::string() : sizes.front();
    if (slug.empty()) {
      throw usage_error(fmt::format("no [droplet] {}_size configured; name a size slug instead", word));
    }
    return slug;
  }
  return word;
}

std::string format_ms(std::int64_t ms)
{
  return format_rfc3339(SystemTime(std::chrono::milliseconds(ms)));
}

void run_claim(Context& ctx, const ClaimFlags& flags)
{
  const auto& cfg = ctx.config();
  ops::ClaimOptions options;
  options.droplet = droplet_spec(ctx);
  options.id = flags.id;
  options.size = size_word(cfg, flags.size);
  std::chrono::milliseconds ttl = cfg.get_duration("droplet.claim_ttl").value_or(std::chrono::hours(2));
  if (!flags.ttl.empty()) {
    if (flags.ttl.starts_with('-')) {
      throw usage_error(fmt::format("--ttl {} is negative; give a duration such as 30m, or 0 for a claim that never "
                                    "expires",
                                    flags.ttl));
    }
    ttl = duration_flag(flags.ttl, "--ttl");
  }
  if (ttl.count() > 0) {
    options.ttl = ttl;
  }
  if (!flags.wait.empty()) {
    options.wait = duration_flag(flags.wait, "--wait");
  }
  options.self_check = self_check_of(cfg);
  options.state = state_of(cfg);
  auto deps = deps_of(ctx);
  const auto report = ops::claim_droplet(deps, options);
  if (ctx.output() == OutputFormat::json) {
    print_json(report.to_json());
    return;
  }
  std::cout << report.state << "\n";
  ctx.reporter().step(fmt::format("claim {} {} droplet {} ({}) at {}: it is {} at {}{}", report.claim.id,
                                  report.renewed ? "renewed on" : "recorded on", report.droplet.id,
                                  report.droplet.name, report.claim.size, report.droplet.status,
                                  report.droplet.size_slug,
                                  report.claim.expires_at_ms ? ", expires " + format_ms(*report.claim.expires_at_ms)
                                                             : ", never expires"));
}

void run_unclaim(Context& ctx, const std::string& id)
{
  auto deps = deps_of(ctx);
  const bool removed = ops::unclaim_droplet(deps, droplet_spec(ctx), id);
  if (ctx.output() == OutputFormat::json) {
    print_json(json{{"id", id}, {"removed", removed}});
    return;
  }
  std::cout << (removed ? fmt::format("claim {} removed\n", id) : fmt::format("claim {} was not held\n", id));
}

void run_claims(Context& ctx, const ColumnOptions& columns)
{
  auto deps = deps_of(ctx);
  std::int64_t now = 0;
  const auto [id, claims] = ops::list_claims(deps, droplet_spec(ctx), &now);
  if (ctx.output() == OutputFormat::json) {
    json list = json::array();
    for (const auto& c : claims) {
      auto j = c.to_json();
      j["age_ms"] = now - c.created_ms;
      list.push_back(j);
    }
    print_json(json{{"droplet_id", id}, {"claims", list}});
    return;
  }
  if (claims.empty() && !columns.given()) {
    std::cout << fmt::format("no live claims on droplet {}\n", id);
    return;
  }
  std::vector<std::vector<std::string>> rows{{"ID", "SIZE", "HOST", "PID", "AGE", "EXPIRES"}};
  for (const auto& c : claims) {
    rows.push_back({c.id, c.size, c.host, std::to_string(c.pid),
                    format_duration(std::chrono::milliseconds((now - c.created_ms) / 1000 * 1000)),
                    c.expires_at_ms ? format_ms(*c.expires_at_ms) : "never"});
  }
  std::cout << table_text(rows, columns);
}

ops::ReconcileOptions reconcile_options(Context& ctx, const ReconcileFlags& flags)
{
  const auto& cfg = ctx.config();
  ops::ReconcileOptions o;
  o.tag = flags.tag;
  if (!o.tag.empty()) {
    if (o.tag.size() > 255 || o.tag.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                                      ":-_") != std::string::npos) {
      throw usage_error(fmt::format("--tag '{}' is not a tag name: letters, digits, ':', '-' and '_', at most 255",
                                    o.tag.substr(0, 64)));
    }
  } else {
    o.droplet = droplet_spec(ctx);
  }
  o.dry_run = flags.dry_run;
  // up_size = ["s-8vcpu-16gb", "s-8vcpu-16gb-amd"]: the first is wanted, the rest are tried in order
  // when DigitalOcean refuses it as unavailable; up_size_fallbacks are tried after them.
  const auto up_sizes = cfg.get_slugs("droplet.up_size").value_or(std::vector<std::string>{});
  o.up_size = up_sizes.empty() ? std::string() : up_sizes.front();
  if (up_sizes.size() > 1) {
    o.up_fallbacks.assign(up_sizes.begin() + 1, up_sizes.end());
  }
  for (auto& fallback : cfg.get_strings("droplet.up_size_fallbacks").value_or(std::vector<std::string>{})) {
    o.up_fallbacks.push_back(std::move(fallback));
  }
  o.down_size = cfg.get_string("droplet.down_size").value_or("");
  o.down_delay = cfg.get_duration("droplet.down_delay").value_or(o.down_delay);
  o.capacity_pool = cfg.get_string("droplet.capacity_pool").value_or("");
  o.schedule = schedule_of(cfg);
  o.tag_trail = cfg.get_bool("droplet.tag_trail").value_or(false);
  o.state = state_of(cfg);
  o.resize.self_check = self_check_of(cfg);
  o.resize.resize_disk = cfg.get_bool("droplet.resize_disk").value_or(false);
  o.resize.shutdown_timeout = cfg.get_duration("droplet.shutdown_timeout").value_or(o.resize.shutdown_timeout);
  o.resize.action_timeout = cfg.get_duration("droplet.action_timeout").value_or(o.resize.action_timeout);
  o.resize.total_timeout = cfg.get_duration("droplet.timeout").value_or(o.resize.total_timeout);
  o.resize.after_hook.clear();
  return o;
}

void print_cycle(Context& ctx, const ops::ReconcileCycle& cycle)
{
  if (ctx.output() == OutputFormat::json) {
    print_json(cycle.to_json(), -1);
    return;
  }
  for (const auto& d : cycle.droplets) {
    std::string line = fmt::format("droplet {} ({}) {} at {}", d.droplet_id, d.droplet_name, d.result,
                                   d.result == "resized" ? d.size_used : d.current_size);
    if (!d.desired_size.empty() && d.result != "resized") {
      line += fmt::format(", wants {}", d.desired_size);
    }
    if (!d.refused_sizes.empty()) {
      line += fmt::format(" (API refused {})", fmt::join(d.refused_sizes, ", "));
    }
    line += fmt::format(": {}", d.error.empty() ? d.reason : d.error);
    std::cout << line << std::endl;
  }
  ctx.reporter().detail(fmt::format("cycle: {} droplet(s), {} API requests, {}", cycle.droplets.size(),
                                    cycle.api_requests, format_duration(cycle.duration)));
}

void run_reconcile(Context& ctx, const ReconcileFlags& flags)
{
  const auto options = reconcile_options(ctx, flags);
  auto deps = deps_of(ctx);
  if (!flags.every.empty()) {
    const auto every = duration_flag(flags.every, "--every");
    if (every < std::chrono::seconds(1)) {
      throw usage_error("--every must be at least 1s");
    }
    ops::reconcile_every(
      deps, options, every, [&ctx](const ops::ReconcileCycle& c) { print_cycle(ctx, c); },
      [&ctx](const std::string& e) { ctx.reporter().warn(e); });
    return;
  }
  const auto cycle = ops::reconcile_once(deps, options);
  print_cycle(ctx, cycle);
  int code = 0;
  for (const auto& d : cycle.droplets) {
    if (d.exit_code != 0 && code == 0) {
      code = d.exit_code;
    }
  }
  if (code != 0) {
    for (const auto& d : cycle.droplets) {
      if (d.exit_code == code) {
        throw Error(static_cast<ExitCode>(code), fmt::format("droplet {}: {}", d.droplet_id,
                                                             d.error.empty() ? d.reason : d.error));
      }
    }
  }
}

void run_schedule(Context& ctx)
{
  const auto windows = schedule_of(ctx.config());
  const auto report = ops::schedule_report(windows, ctx.clock().now());
  if (ctx.output() == OutputFormat::json) {
    print_json(report.to_json());
    return;
  }
  if (windows.empty()) {
    std::cout << "no [droplet.schedule] windows configured\n";
    return;
  }
  const auto down = ctx.config().get_string("droplet.down_size").value_or("down_size");
  std::cout << fmt::format("now: {}\n", report.open_now.empty() ? "no window open (" + down + ")"
                                                                : fmt::format("{}", fmt::join(report.open_now, ", ")));
  for (const auto& t : report.transitions) {
    std::cout << fmt::format("{}  {}\n", format_rfc3339(t.at),
                             t.sizes.empty() ? "-> " + down + " (no window open)"
                                             : fmt::format("-> {} ({})", fmt::join(t.sizes, ", "),
                                                           fmt::join(t.windows, "; ")));
  }
}

}  // namespace

void setup_droplet_claim_command(CLI::App& app, Context& ctx)
{
  auto* droplet = app.get_subcommand("droplet");

  auto cflags = std::make_shared<ClaimFlags>();
  auto* claim = droplet->add_subcommand(
    "claim", "Record that job ID needs the droplet at up_size (or SIZE); prints granted or pending");
  claim->add_option("size", cflags->size, "up, down or a size slug")->default_str("up");
  claim->add_option("--id", cflags->id, "The claim's id (one per job; repeating it renews the claim)")->required();
  claim->add_option("--ttl", cflags->ttl, "The claim expires after DURATION (default [droplet] claim_ttl; 0: never)");
  claim->add_option("--wait", cflags->wait,
                    "Block up to DURATION until the droplet is active at a satisfying size (exit 6 if not); refused "
                    "on the droplet itself");
  claim->callback([&ctx, cflags] { ctx.action = [&ctx, cflags] { run_claim(ctx, *cflags); }; });

  auto uid = std::make_shared<std::string>();
  auto* unclaim = droplet->add_subcommand("unclaim", "Remove claim ID (idempotent)");
  unclaim->add_option("id", *uid, "The claim's id")->required();
  unclaim->callback([&ctx, uid] { ctx.action = [&ctx, uid] { run_unclaim(ctx, *uid); }; });

  auto* claims = droplet->add_subcommand("claims", "List the live claims: id, size, host, pid, age, expiry");
  auto claim_columns = std::make_shared<ColumnOptions>();
  add_column_flags(*claims, *claim_columns);
  claims->callback([&ctx, claim_columns] { ctx.action = [&ctx, claim_columns] { run_claims(ctx, *claim_columns); }; });

  auto rflags = std::make_shared<ReconcileFlags>();
  auto* reconcile = droplet->add_subcommand(
    "reconcile", "Resize the droplet to what its claims, schedule and down_size ask for (run it on another host)");
  reconcile->add_option("--tag", rflags->tag, "Reconcile every droplet with this tag (one list request a cycle)");
  reconcile->add_option("--every", rflags->every, "Loop every DURATION (jittered) until SIGTERM/SIGINT");
  reconcile->add_flag("--dry-run", rflags->dry_run, "Print what it would do and do nothing");
  reconcile->callback([&ctx, rflags] { ctx.action = [&ctx, rflags] { run_reconcile(ctx, *rflags); }; });

  auto* schedule = droplet->add_subcommand("schedule", "Show the [droplet.schedule] windows and the next ten transitions");
  schedule->callback([&ctx] { ctx.action = [&ctx] { run_schedule(ctx); }; });
}

}  // namespace scalectl::cli
