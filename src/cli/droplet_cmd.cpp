// `scalectl droplet status|up|down`: vertical scaling of one droplet.

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/ops/droplet.hpp>
#include <scalectl/ops/lock_holder.hpp>

#include "cli/audited.hpp"
#include "cli/context.hpp"
#include "cli/metrics.hpp"
#include "cli/render.hpp"

namespace scalectl::cli {

using nlohmann::json;

namespace {

struct ResizeFlags {
  std::string size;
  std::string wait_lock;
  bool dry_run = false;
  bool no_wait = false;
  bool force = false;
  bool allow_self = false;
};

// Returns the resize options for `droplet DIRECTION` from the flags and the configuration.
ops::ResizeOptions resize_options(Context& ctx, const std::string& direction, const ResizeFlags& flags)
{
  const auto& cfg = ctx.config();
  ops::ResizeOptions options;
  options.direction = direction;
  // up_size may be a list (its first entry is the size; the rest are reconcile's fallbacks).
  const auto configured = direction == "up" ? cfg.get_slugs("droplet.up_size").value_or(std::vector<std::string>{})
                                            : std::vector<std::string>{cfg.get_string("droplet.down_size").value_or("")};
  options.target_size = !flags.size.empty() ? flags.size : configured.empty() ? std::string() : configured.front();
  if (options.target_size.empty()) {
    throw usage_error(fmt::format("no target size for `droplet {}`; pass --size SLUG or set [droplet] {}_size",
                                  direction, direction));
  }
  options.resize_disk = direction == "up" && cfg.get_bool("droplet.resize_disk").value_or(false);
  options.dry_run = flags.dry_run;
  options.no_wait = flags.no_wait;
  options.force = flags.force;
  options.allow_self = flags.allow_self;
  options.check_busy = direction == "down";
  options.busy_check = cfg.get_string("droplet.busy_check").value_or("");
  options.after_hook = cfg.get_string("droplet.after_" + direction).value_or("");
  options.capacity_pool = cfg.get_string("droplet.capacity_pool").value_or("");
  options.self_check.dmi_path = cfg.get_string("droplet.dmi_path").value_or(options.self_check.dmi_path);
  options.self_check.metadata_url = cfg.get_string("droplet.metadata_url").value_or(options.self_check.metadata_url);
  options.self_check.metadata_timeout =
    cfg.get_duration("droplet.metadata_timeout").value_or(options.self_check.metadata_timeout);
  options.shutdown_timeout = cfg.get_duration("droplet.shutdown_timeout").value_or(options.shutdown_timeout);
  options.action_timeout = cfg.get_duration("droplet.action_timeout").value_or(options.action_timeout);
  options.total_timeout = cfg.get_duration("droplet.timeout").value_or(options.total_timeout);
  if (!flags.wait_lock.empty()) {
    options.wait_lock = duration_flag(flags.wait_lock, "--wait-lock");
  }
  return options;
}

// Emits the droplet.resize audit event of a finished (or submitted) resize.
void emit_resize(Context& ctx, const std::string& direction, std::int64_t id, const ops::ResizeReport& report)
{
  json actions = json::array();
  for (const auto& a : report.actions) {
    actions.push_back({{"id", a.id}, {"type", a.type}, {"status", a.status}});
  }
  ctx.emit(Event{"droplet.resize", ops::droplet_lock_resource(id), report.from_size, report.to_size, direction,
                 ops::event_result(report.result), report.duration,
                 {{"actions", actions},
                  {"memory_before_mb", report.memory_before_mb},
                  {"memory_after_mb", report.memory_after_mb},
                  {"api_requests", report.api_requests}}});
}

// Prints what a resize did (or would do) as text.
void print_resize_text(const ops::ResizeReport& report, const std::string& direction, bool dry_run)
{
  if (report.result == ops::Result::dry_run || (dry_run && report.result == ops::Result::noop)) {
    if (report.planned.empty()) {
      std::cout << fmt::format("droplet {} ({}) is already at {}; nothing would be done\n", report.droplet_id,
                               report.droplet_name, report.to_size);
    } else {
      std::cout << fmt::format("dry run: droplet {} ({}) {} {} -> {}; would issue:\n", report.droplet_id,
                               report.droplet_name, direction, report.from_size, report.to_size);
      for (const auto& line : report.planned) {
        std::cout << "  " << line << "\n";
      }
    }
    return;
  }
  if (report.result == ops::Result::noop) {
    std::cout << fmt::format("droplet {} ({}) is already at {} and {}; nothing to do\n", report.droplet_id,
                             report.droplet_name, report.to_size, report.status);
  } else if (report.result == ops::Result::submitted) {
    const auto& last = report.actions.back();
    std::cout << fmt::format("submitted action {} ({}) for droplet {}; rerun `scalectl droplet {}` to continue\n",
                             last.id, last.type, report.droplet_id, direction);
  } else {
    const auto memory = report.memory_before_mb == report.memory_after_mb
                          ? fmt::format("{} MB, unchanged", report.memory_after_mb)
                          : fmt::format("{} MB -> {} MB", report.memory_before_mb, report.memory_after_mb);
    std::cout << fmt::format("droplet {} ({}) is {} at {} ({}) after {}; {} API requests\n", report.droplet_id,
                             report.droplet_name, report.status, report.to_size, memory,
                             format_duration(report.duration), report.api_requests);
  }
}

void run_resize(Context& ctx, const std::string& direction, const ResizeFlags& flags)
{
  const auto options = resize_options(ctx, direction, flags);
  auto deps = ctx.droplet_deps();
  const auto id = ops::selected_droplet(deps.api, ctx.config().get_string("droplet.id"));
  const FailureAudit audit{Event{"droplet.resize", ops::droplet_lock_resource(id), "", options.target_size, "", "", {},
                                 json::object()},
                           direction + ": ", !options.dry_run, true};
  const auto report =
    run_audited(ctx, audit, ctx.clock().monotonic(), [&] { return ops::resize_droplet(deps, id, options); });
  if (!options.dry_run) {
    emit_resize(ctx, direction, id, report);
  }
  if (report.droplet_after.id != 0) {
    record_droplet_metrics(ctx, report.droplet_after);
  }
  if (ctx.output() == OutputFormat::json) {
    print_json(report.to_json());
    return;
  }
  print_resize_text(report, direction, flags.dry_run);
}

void print_status(const ops::DropletStatusReport& report)
{
  const auto& d = report.droplet;
  std::cout << fmt::format("droplet   {} ({}) in {}\n", d.id, d.name, d.region);
  std::cout << fmt::format("status    {}{}\n", d.status, d.locked ? " (locked by a pending event)" : "");
  std::cout << fmt::format("size      {}: {} MB memory, {} vCPUs, {} GB disk\n", d.size_slug, d.memory_mb, d.vcpus,
                           d.disk_gb);
  std::cout << fmt::format("price     ${:.2f}/month, ${:.5f}/hour\n", d.price_monthly, d.price_hourly);
  if (const auto& a = report.in_progress) {
    std::cout << fmt::format("action    {} ({}) in progress since {}\n", a->id, a->type, a->started_at);
  }
  if (const auto& disk = report.disk_resized) {
    std::cout << fmt::format("disk      permanently resized to {} on {}; the droplet cannot go below that disk\n",
                             disk->to, disk->at);
  }
  if (const auto& op = report.last_operation) {
    std::cout << fmt::format("last run  {} {} -> {}: {} (phase {}, started {}{})\n", op->direction, op->from_size,
                             op->to_size, op->result, op->phase, op->started_at,
                             op->ended_at.empty() ? std::string() : ", ended " + op->ended_at);
    if (op->pending()) {
      std::cout << fmt::format("pending   rerun `scalectl droplet {}` to finish moving to {}\n",
                               op->direction.empty() ? "up" : op->direction, op->to_size);
    }
  } else {
    std::cout << "last run  none recorded\n";
  }
  if (report.lock.is_object() || report.state_error.empty()) {
    std::cout << fmt::format("lock      {}\n", ops::lock_holder_text(report.lock));
  }
}

void run_status(Context& ctx)
{
  auto deps = ctx.droplet_deps();
  const auto report = ops::droplet_status(deps, ctx.config().get_string("droplet.id").value_or(""));
  record_droplet_metrics(ctx, report.droplet);
  if (ctx.output() == OutputFormat::json) {
    print_json(report.to_json());
    return;
  }
  print_status(report);
  if (!report.state_error.empty()) {
    ctx.reporter().warn(fmt::format("cannot read scalectl's state: {}", report.state_error));
  }
  if (report.droplet.status == "off" && !report.droplet.locked) {
    ctx.reporter().warn(fmt::format("droplet {} is OFF; `scalectl droplet up` or `down` powers it back on",
                                    report.droplet.id));
  }
}

void add_resize_verb(CLI::App& droplet, Context& ctx, const std::string& direction, const std::string& description,
                     std::shared_ptr<ResizeFlags> flags)
{
  auto* cmd = droplet.add_subcommand(direction, description);
  cmd->add_option("--size", flags->size,
                  fmt::format("Target size slug (default: [droplet] {}_size)", direction));
  cmd->add_flag("--dry-run", flags->dry_run, "Print the exact actions it would issue and issue none");
  cmd->add_flag("--no-wait", flags->no_wait,
                "Submit the next action and return; rerun the same command to continue");
  cmd->add_flag("--allow-self", flags->allow_self,
                "Allow resizing the droplet scalectl itself runs on (it will be powered off)");
  cmd->add_option("--wait-lock", flags->wait_lock,
                  "Wait up to DURATION for another scalectl's lock on this droplet instead of exiting 75");
  ctx.bind_flag(*cmd, "--timeout", "droplet.timeout", "Bound the whole command (exit 6), e.g. 30m (default [droplet] timeout, 30m)");
  ctx.bind_flag(*cmd, "--shutdown-timeout", "droplet.shutdown_timeout",
                "Wait this long for a graceful shutdown before power_off (default 2m)");
  if (direction == "up") {
    ctx.bind_switch(*cmd, "--resize-disk", "droplet.resize_disk",
                    "Also grow the disk. PERMANENT: the droplet can never be resized below the new disk size");
  } else {
    cmd->add_flag("--force", flags->force, "Skip the busy_check and live-lease guards");
  }
  cmd->callback([&ctx, direction, flags] { ctx.action = [&ctx, direction, flags] { run_resize(ctx, direction, *flags); }; });
}

}  // namespace

void setup_droplet_command(CLI::App& app, Context& ctx)
{
  auto* droplet = app.add_subcommand("droplet", "Resize one droplet vertically (power off, resize, power on)");
  droplet->require_subcommand(1);
  ctx.bind_flag(*droplet, "--droplet", "droplet.id", "Droplet ID or unique name (default: DROPLET_ID, [droplet] id)");

  auto* status = droplet->add_subcommand("status", "Show size, price, status, running actions and scalectl's lock");
  status->callback([&ctx] { ctx.action = [&ctx] { run_status(ctx); }; });

  add_resize_verb(*droplet, ctx, "up", "Resize to up_size (e.g. 16 GB for a batch) and power back on",
                  std::make_shared<ResizeFlags>());
  add_resize_verb(*droplet, ctx, "down", "Resize to down_size; refuses while busy_check says busy or leases are live",
                  std::make_shared<ResizeFlags>());
}

}  // namespace scalectl::cli
