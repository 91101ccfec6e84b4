// `scalectl capacity repair`: rewrites the seed's counters of a pool from its leases and prints
// what changed. Explicit only: nothing runs it automatically.

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>
#include <scalectl/ops/capacity.hpp>

#include "cli/context.hpp"
#include "cli/render.hpp"

namespace scalectl::cli {

namespace {

struct RepairFlags {
  std::string wait_lock = "30s";
};

std::string shown(const std::string& text)
{
  return text.empty() ? std::string("(missing)") : text;
}

void run_repair(Context& ctx, const RepairFlags& flags)
{
  const auto wait = parse_duration(flags.wait_lock);
  if (!wait) {
    throw usage_error(fmt::format("--wait-lock: \"{}\" is not a duration (e.g. 30s, 2m)", flags.wait_lock));
  }
  const std::string pool = ops::capacity_settings(ctx.config()).pool;
  const auto report = ops::repair_counters(ctx.store(), ctx.lock_owner(), pool, *wait);
  const auto& r = report.result;
  const bool changed = r.before.cpu_text != r.after.cpu_text || r.before.ram_text != r.after.ram_text;
  if (ctx.output() == OutputFormat::json) {
    print_json({{"pool", pool},
                {"has_counters", r.has_counters},
                {"changed", r.has_counters && changed},
                {"before", {{"cpu", r.before.cpu_text}, {"ram", r.before.ram_text}}},
                {"after", {{"cpu", r.after.cpu_text}, {"ram", r.after.ram_text}}}});
    return;
  }
  if (!r.has_counters) {
    std::cout << fmt::format("pool {}: this backend keeps no counters (only Redis does); nothing to repair\n", pool);
    return;
  }
  if (!changed) {
    std::cout << fmt::format("pool {}: counters already equal the leases ({}:cpu:allocated = {}, "
                             "{}:ram:allocated = {}); nothing changed\n",
                             pool, pool, shown(r.after.cpu_text), pool, shown(r.after.ram_text));
    return;
  }
  std::cout << fmt::format("pool {}: {}:cpu:allocated {} -> {}\n", pool, pool, shown(r.before.cpu_text),
                           r.after.cpu_text);
  std::cout << fmt::format("pool {}: {}:ram:allocated {} -> {}\n", pool, pool, shown(r.before.ram_text),
                           r.after.ram_text);
}

}  // namespace

void setup_capacity_repair_command(CLI::App& capacity, Context& ctx)
{
  auto flags = std::make_shared<RepairFlags>();
  auto* cmd = capacity.add_subcommand(
      "repair", "Rewrite the pool's counters (<pool>:cpu:allocated, <pool>:ram:allocated) from its leases, under "
                "the pool's lock, and print what changed");
  cmd->add_option("--wait-lock", flags->wait_lock, "Wait up to DURATION for the pool's lock (default 30s)");
  cmd->callback([&ctx, flags] { ctx.action = [&ctx, flags] { run_repair(ctx, *flags); }; });
}

}  // namespace scalectl::cli
