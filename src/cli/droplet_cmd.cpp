// `scalectl droplet status|up|down`: vertical scaling of one droplet.

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/ops/droplet.hpp>

#include "cli/context.hpp"
#include "cli/metrics.hpp"

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

std::int64_t selected_droplet(Context& ctx)
{
  const auto spec = ctx.config().get_string("droplet.id");
  if (!spec || spec->empty()) {
    throw usage_error("no droplet given; pass --droplet ID|NAME, set DROPLET_ID, or set [droplet] id in the config");
  }
  return ops::resolve_droplet(ctx.digitalocean(), *spec);
}

ops::DropletDeps droplet_deps(Context& ctx)
{
  return ops::DropletDeps{ctx.digitalocean(), ctx.store(), ctx.clock(), ctx.reporter(), ctx.processes(),
                          ctx.lock_owner()};
}

void run_resize(Context& ctx, const std::string& direction, const ResizeFlags& flags)
{
  const auto& cfg = ctx.config();
  ops::ResizeOptions options;
  options.direction = direction;
  options.target_size = !flags.size.empty() ? flags.size : cfg.get_string("droplet." + direction + "_size").value_or("");
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

  const auto id = selected_droplet(ctx);
  auto deps = droplet_deps(ctx);
  const auto started = ctx.clock().monotonic();
  ops::ResizeReport report;
  try {
    report = ops::resize_droplet(deps, id, options);
  } catch (const Error& e) {
    if (!options.dry_run && e.code() != ExitCode::usage && e.code() != ExitCode::lock_held) {
      ctx.emit(Event{"droplet.resize", ops::droplet_lock_resource(id), "", options.target_size,
                     fmt::format("{}: {}", direction, e.what()), result_word(e.code()),
                     std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock().monotonic() - started),
                     json::object()});
    }
    throw;
  }
  if (!options.dry_run) {
    json actions = json::array();
    for (const auto& a : report.actions) {
      actions.push_back({{"id", a.id}, {"type", a.type}, {"status", a.status}});
    }
    ctx.emit(Event{"droplet.resize", ops::droplet_lock_resource(id), report.from_size, report.to_size, direction,
                   report.result == "already_at_size" ? "noop" : (report.result == "submitted" ? "submitted" : "ok"),
                   report.duration,
                   {{"actions", actions},
                    {"memory_before_mb", report.memory_before_mb},
                    {"memory_after_mb", report.memory_after_mb},
                    {"api_requests", report.api_requests}}});
  }

  if (report.droplet_after.id != 0) {
    record_droplet_metrics(ctx, report.droplet_after);
  }

  if (ctx.output() == OutputFormat::json) {
    std::cout << report.to_json().dump(2) << std::endl;
    return;
  }
  if (report.result == "dry_run" || (flags.dry_run && report.result == "already_at_size")) {
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
  if (report.result == "already_at_size") {
    std::cout << fmt::format("droplet {} ({}) is already at {} and {}; nothing to do\n", report.droplet_id,
                             report.droplet_name, report.to_size, report.status);
  } else if (report.result == "submitted") {
    const auto& last = report.actions.back();
    std::cout << fmt::format("submitted action {} ({}) for droplet {}; rerun `scalectl droplet {}` to continue\n",
                             last.id, last.type, report.droplet_id, direction);
  } else {
    std::cout << fmt::format("droplet {} ({}) is {} at {} ({} MB -> {} MB) after {}; {} API requests\n",
                             report.droplet_id, report.droplet_name, report.status, report.to_size,
                             report.memory_before_mb, report.memory_after_mb, format_duration(report.duration),
                             report.api_requests);
  }
}

void run_status(Context& ctx)
{
  const auto id = selected_droplet(ctx);
  auto& api = ctx.digitalocean();
  const auto d = api.get_droplet(id);
  record_droplet_metrics(ctx, d);
  json in_progress = nullptr;
  if (d.locked) {
    for (const auto& a : api.droplet_actions(id)) {
      if (a.status == "in-progress") {
        in_progress = {{"id", a.id}, {"type", a.type}, {"started_at", a.started_at}};
        break;
      }
    }
  }
  json last_operation = nullptr;
  json lock = nullptr;
  json disk_resized = nullptr;
  std::string store_warning;
  try {
    auto& store = ctx.store();
    if (const auto rec = store.get(ops::droplet_record_key(id))) {
      last_operation = rec->value("operation", json(nullptr));
      disk_resized = rec->value("disk_resized", json(nullptr));
    }
    if (const auto holder = store.lock_holder(ops::droplet_lock_resource(id))) {
      lock = {{"pid", holder->pid},
              {"host", holder->host},
              {"user", holder->user},
              {"command", holder->command},
              {"since", format_rfc3339(SystemTime(std::chrono::milliseconds(holder->since_ms)))}};
    }
  } catch (const Error& e) {
    store_warning = e.what();
  }

  const json droplet = {{"id", d.id},
                        {"name", d.name},
                        {"status", d.status},
                        {"locked", d.locked},
                        {"size_slug", d.size_slug},
                        {"memory_mb", d.memory_mb},
                        {"vcpus", d.vcpus},
                        {"disk_gb", d.disk_gb},
                        {"price_monthly", d.price_monthly},
                        {"price_hourly", d.price_hourly},
                        {"region", d.region}};
  if (ctx.output() == OutputFormat::json) {
    json out = {{"droplet", droplet},
                {"in_progress_action", in_progress},
                {"last_operation", last_operation},
                {"lock", lock},
                {"disk_resized", disk_resized}};
    if (!store_warning.empty()) {
      out["state_error"] = store_warning;
    }
    std::cout << out.dump(2) << std::endl;
    return;
  }
  std::cout << fmt::format("droplet   {} ({}) in {}\n", d.id, d.name, d.region);
  std::cout << fmt::format("status    {}{}\n", d.status, d.locked ? " (locked by a pending event)" : "");
  std::cout << fmt::format("size      {}: {} MB memory, {} vCPUs, {} GB disk\n", d.size_slug, d.memory_mb, d.vcpus,
                           d.disk_gb);
  std::cout << fmt::format("price     ${:.2f}/month, ${:.5f}/hour\n", d.price_monthly, d.price_hourly);
  if (!in_progress.is_null()) {
    std::cout << fmt::format("action    {} ({}) in progress since {}\n", in_progress["id"].get<std::int64_t>(),
                             in_progress["type"].get<std::string>(), in_progress["started_at"].get<std::string>());
  }
  if (!disk_resized.is_null()) {
    std::cout << fmt::format("disk      permanently resized to {} on {}; the droplet cannot go below that disk\n",
                             disk_resized.value("to", ""), disk_resized.value("at", ""));
  }
  if (!last_operation.is_null()) {
    const auto result = last_operation.value("result", "");
    std::cout << fmt::format("last run  {} {} -> {}: {} (phase {}, started {}{})\n",
                             last_operation.value("direction", ""), last_operation.value("from_size", ""),
                             last_operation.value("to_size", ""), result, last_operation.value("phase", ""),
                             last_operation.value("started_at", ""),
                             last_operation.contains("ended_at")
                               ? ", ended " + last_operation.value("ended_at", "")
                               : std::string());
    if (result == "submitted" || result == "interrupted" || result == "timeout" || result == "running") {
      std::cout << fmt::format("pending   rerun `scalectl droplet {}` to finish moving to {}\n",
                               last_operation.value("direction", "up"), last_operation.value("to_size", ""));
    }
  } else {
    std::cout << "last run  none recorded\n";
  }
  if (!lock.is_null()) {
    std::cout << fmt::format("lock      held by pid {} on {} ({}) since {}\n", lock["pid"].get<long>(),
                             lock["host"].get<std::string>(), lock["command"].get<std::string>(),
                             lock["since"].get<std::string>());
  } else if (store_warning.empty()) {
    std::cout << "lock      free\n";
  }
  if (!store_warning.empty()) {
    ctx.reporter().warn(fmt::format("cannot read scalectl's state: {}", store_warning));
  }
  if (d.status == "off" && !d.locked) {
    ctx.reporter().warn(fmt::format("droplet {} is OFF; `scalectl droplet up` or `down` powers it back on", d.id));
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
  ctx.bind_flag(*cmd, "--timeout", "droplet.timeout", "Bound the whole command (exit 6), e.g. 30m");
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
