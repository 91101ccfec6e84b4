// `scalectl log`: the audit log of every change scalectl made, from the state store.

#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>
#include <scalectl/core/text.hpp>
#include <scalectl/ops/audit.hpp>

#include "cli/columns.hpp"
#include "cli/context.hpp"
#include "cli/since.hpp"
#include "cli/render.hpp"

namespace scalectl::cli {

namespace {

struct LogFlags {
  std::string since;
  std::string resource;
  std::string what;
  int count = 0;
  ColumnOptions columns;  // --format/--no-header: a table of these columns instead of the lines
};

std::string change_of(const Event& event)
{
  if (event.from.empty() && event.to.empty()) {
    return "-";
  }
  return fmt::format("{} -> {}", event.from.empty() ? "?" : event.from, event.to.empty() ? "?" : event.to);
}

void render(const ops::AuditLogReport& report, const LogFlags& flags)
{
  if (report.records.empty() && !flags.columns.given()) {
    std::cout << "no audit entries" << (flags.since.empty() ? "" : " since " + flags.since)
              << (flags.resource.empty() ? "" : " for " + flags.resource) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> table{{"TIME", "WHO", "WHAT", "RESOURCE", "CHANGE", "RESULT", "TOOK", "REASON"}};
  for (const auto& r : report.records) {
    table.push_back({format_rfc3339(SystemTime(std::chrono::milliseconds(r.who.since_ms))),
                     fmt::format("{}@{}[{}]", r.who.user, r.who.host, r.who.pid), r.event.what, r.event.resource,
                     change_of(r.event), r.event.result, format_duration(r.event.duration), r.event.reason});
  }
  if (flags.columns.given()) {
    std::cout << table_text(table, flags.columns);
    return;
  }
  // The plain form: aligned columns, the reason (free text) last and only when there is one.
  std::vector<std::size_t> width(table.front().size(), 0);
  for (std::size_t row = 1; row < table.size(); ++row) {
    for (std::size_t c = 1; c + 2 < table[row].size(); ++c) {
      width[c] = std::max(width[c], table[row][c].size());
    }
  }
  for (std::size_t row = 1; row < table.size(); ++row) {
    const auto& r = table[row];
    std::string line = fmt::format("{}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}", r[0], r[1], width[1], r[2],
                                   width[2], r[3], width[3], r[4], width[4], r[5], width[5], r[6]);
    if (!r[7].empty()) {
      line += "  " + r[7];
    }
    std::cout << core::escape_control(line) << "\n";
  }
}

void run_log(Context& ctx, const LogFlags& flags)
{
  ops::AuditQuery query;
  query.since_ms = flags.since.empty() ? 0 : parse_time_flag(flags.since, ctx.clock().now(), "--since");
  query.resource = flags.resource;
  query.what = flags.what;
  query.last = static_cast<std::size_t>(flags.count);
  const auto report = ops::read_audit_log(ctx.store(), query);
  if (ctx.output() == OutputFormat::json) {
    print_json(report.to_json());
    return;
  }
  render(report, flags);
}

}  // namespace

void setup_log_command(CLI::App& app, Context& ctx)
{
  auto flags = std::make_shared<LogFlags>();
  auto* log = app.add_subcommand("log", "Show the audit log: every change scalectl made, who, when and the result");
  log->add_option("--since", flags->since,
                  "Only entries from this long ago (30d, 12h) or since this RFC 3339 time");
  log->add_option("--resource", flags->resource, "Only entries for this resource, e.g. droplet-123");
  log->add_option("--what", flags->what, "Only entries of this kind, e.g. droplet.resize");
  log->add_option("-n,--lines", flags->count, "Show only the last N entries (0: all)")
    ->check(CLI::Range(0, 1'000'000));
  add_column_flags(*log, flags->columns);
  log->callback([&ctx, flags] { ctx.action = [&ctx, flags] { run_log(ctx, *flags); }; });
}

}  // namespace scalectl::cli
