// `scalectl droplet cost`: hours at each size and what they cost, from the recorded resizes and
// the prices of GET /v2/sizes, next to the cost of staying at up_size all the time.

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/core/cost.hpp>
#include <scalectl/ops/droplet.hpp>

#include "cli/context.hpp"
#include "cli/since.hpp"
#include "cli/render.hpp"

namespace scalectl::cli {

using nlohmann::json;

namespace {

constexpr const char* k_billing_model =
  "each size billed per hour at price_hourly, capped at price_monthly per calendar month (UTC); "
  "an estimate before taxes, credits and backups";

struct CostFlags {
  std::string since = "30d";
  std::string until;
};

double dollars(std::int64_t cents)
{
  return static_cast<double>(cents) / 100.0;
}

void run_cost(Context& ctx, const CostFlags& flags)
{
  const auto now = ctx.clock().now();
  const std::int64_t start_ms = parse_time_flag(flags.since, now, "--since");
  const std::int64_t end_ms = flags.until.empty() ? unix_ms(now) : parse_time_flag(flags.until, now, "--until");
  if (end_ms > unix_ms(now)) {
    throw usage_error("--until is in the future; the cost report covers time that has passed");
  }
  if (end_ms <= start_ms) {
    throw usage_error(fmt::format("the window is empty: --since {} is not before --until {}",
                                  format_rfc3339(SystemTime(std::chrono::milliseconds(start_ms))),
                                  format_rfc3339(SystemTime(std::chrono::milliseconds(end_ms)))));
  }
  const auto& cfg = ctx.config();
  ops::DropletCostOptions options;
  options.droplet = cfg.get_string("droplet.id").value_or("");
  options.start_ms = start_ms;
  options.end_ms = end_ms;
  const auto up_sizes = cfg.get_slugs("droplet.up_size").value_or(std::vector<std::string>{});
  options.baseline_size = up_sizes.empty() ? std::string() : up_sizes.front();
  auto deps = ctx.droplet_deps();
  const auto result = ops::droplet_cost(deps, options);
  const auto& droplet = result.droplet;
  const auto& report = result.cost;
  const auto start_text = format_rfc3339(SystemTime(std::chrono::milliseconds(start_ms)));
  const auto end_text = format_rfc3339(SystemTime(std::chrono::milliseconds(end_ms)));

  if (ctx.output() == OutputFormat::json) {
    json sizes = json::array();
    for (const auto& row : report.sizes) {
      sizes.push_back({{"size", row.size},
                       {"hours", row.hours},
                       {"price_hourly", row.priced ? json(row.price.price_hourly) : json(nullptr)},
                       {"price_monthly", row.priced ? json(row.price.price_monthly) : json(nullptr)},
                       {"cost", dollars(row.cost_cents)},
                       {"cost_cents", row.cost_cents},
                       {"capped", row.capped},
                       {"priced", row.priced}});
    }
    const json out = {
      {"droplet", {{"id", droplet.id}, {"name", droplet.name}, {"size_slug", droplet.size_slug}}},
      {"window", {{"start", start_text}, {"end", end_text}, {"start_ms", start_ms}, {"end_ms", end_ms},
                  {"hours", report.hours}}},
      {"billing", k_billing_model},
      {"currency", "USD"},
      {"start_size", report.start_size},
      {"resizes", report.resizes},
      {"sizes", sizes},
      {"actual_cost", dollars(report.actual_cents)},
      {"actual_cents", report.actual_cents},
      {"baseline", {{"size", options.baseline_size},
                    {"cost", dollars(report.baseline_cents)},
                    {"cost_cents", report.baseline_cents},
                    {"capped", report.baseline_capped}}},
      {"saving", dollars(report.saving_cents)},
      {"saving_cents", report.saving_cents},
      {"warnings", report.warnings},
    };
    print_json(out);
  } else {
    std::cout << fmt::format("droplet {} ({}), {} to {} ({:.2f} hours, {} resize{})\n", droplet.id, droplet.name,
                             start_text, end_text, report.hours, report.resizes, report.resizes == 1 ? "" : "s");
    std::size_t width = std::string_view("actual cost").size();
    const std::string baseline_label = fmt::format("at {} all the time", options.baseline_size);
    width = std::max(width, baseline_label.size());
    for (const auto& row : report.sizes) {
      width = std::max(width, row.size.size());
    }
    std::cout << fmt::format("{:<{}}  {:>9}  {:>8}  {:>8}  {:>9}\n", "size", width, "hours", "$/hour", "$/month",
                             "cost");
    for (const auto& row : report.sizes) {
      std::cout << fmt::format("{:<{}}  {:>9.2f}  {:>8}  {:>8}  {:>9}{}\n", row.size, width, row.hours,
                               row.priced ? fmt::format("{:.5f}", row.price.price_hourly) : "?",
                               row.priced ? fmt::format("{:.2f}", row.price.price_monthly) : "?",
                               core::format_dollars(row.cost_cents), row.capped ? "  monthly cap" : "");
    }
    const auto total_line = [&](const std::string& label, std::int64_t cents, bool capped) {
      std::cout << fmt::format("{:<{}}  {:>9}  {:>8}  {:>8}  {:>9}{}\n", label, width, "", "", "",
                               core::format_dollars(cents), capped ? "  monthly cap" : "");
    };
    total_line("actual cost", report.actual_cents, false);
    total_line(baseline_label, report.baseline_cents, report.baseline_capped);
    total_line("saving", report.saving_cents, false);
    std::cout << "billing: " << k_billing_model << "\n";
  }
  for (const auto& warning : report.warnings) {
    ctx.reporter().warn(warning);
  }
}

}  // namespace

void setup_droplet_cost_command(CLI::App& app, Context& ctx)
{
  auto* droplet = app.get_subcommand("droplet");
  auto flags = std::make_shared<CostFlags>();
  auto* cost = droplet->add_subcommand(
    "cost", "Hours at each size and their cost from the recorded resizes, against staying at up_size");
  cost->add_option("--since", flags->since, "Start of the window: a duration back from now or an RFC 3339 time")
    ->default_str("30d");
  cost->add_option("--until", flags->until, "End of the window (default: now): a duration back or an RFC 3339 time");
  cost->callback([&ctx, flags] { ctx.action = [&ctx, flags] { run_cost(ctx, *flags); }; });
}

}  // namespace scalectl::cli
