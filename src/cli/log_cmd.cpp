// `scalectl log`: the audit log of every change scalectl made, from the state store.

#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>
#include <scalectl/state/store.hpp>

#include "cli/columns.hpp"
#include "cli/context.hpp"
#include "cli/since.hpp"
#include "cli/render.hpp"

namespace scalectl::cli {

using nlohmann::json;

namespace {

struct LogFlags {
  std::string since;
  std::string resource;
  std::string what;
  int count = 0;
  ColumnOptions columns;  // --format/--no-header: a table of these columns instead of the lines
};

std::string text_of(const json& entry, const char* key)
{
  const auto it = entry.find(key);
  if (it == entry.end() || it->is_null()) {
    return "";
  }
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string change_of(const json& entry)
{
  const auto from = text_of(entry, "from");
  const auto to = text_of(entry, "to");
  if (from.empty() && to.empty()) {
    return "-";
  }
  return fmt::format("{} -> {}", from.empty() ? "?" : from, to.empty() ? "?" : to);
}

void run_log(Context& ctx, const LogFlags& flags)
{
  if (flags.count < 0) {
    throw usage_error(fmt::format("-n takes a count of 0 or more (0: all), not {}", flags.count));
  }
  const std::int64_t since_ms =
    flags.since.empty() ? 0 : parse_time_flag(flags.since, ctx.clock().now(), "--since");
  auto& store = ctx.store();
  std::vector<json> entries;
  for (auto& entry : store.read_log("audit", since_ms)) {
    if (!flags.resource.empty() && text_of(entry, "resource") != flags.resource) {
      continue;
    }
    if (!flags.what.empty() && text_of(entry, "what") != flags.what) {
      continue;
    }
    entries.push_back(std::move(entry));
  }
  if (flags.count > 0 && entries.size() > static_cast<std::size_t>(flags.count)) {
    entries.erase(entries.begin(), entries.end() - flags.count);
  }

  if (ctx.output() == OutputFormat::json) {
    print_json({{"log", "audit"}, {"store", store.describe()}, {"count", entries.size()}, {"entries", entries}});
    return;
  }
  if (entries.empty() && !flags.columns.given()) {
    std::cout << "no audit entries" << (flags.since.empty() ? "" : " since " + flags.since)
              << (flags.resource.empty() ? "" : " for " + flags.resource) << "\n";
    return;
  }
  struct Row {
    std::string time, who, what, resource, change, result, took, reason;
  };
  std::vector<Row> rows;
  std::size_t w_who = 0;
  std::size_t w_what = 0;
  std::size_t w_resource = 0;
  std::size_t w_change = 0;
  std::size_t w_result = 0;
  for (const auto& e : entries) {
    Row row;
    row.time = text_of(e, "time");
    if (row.time.empty() && e.contains("time_ms") && e["time_ms"].is_number_integer()) {
      row.time = format_rfc3339(SystemTime(std::chrono::milliseconds(e["time_ms"].get<std::int64_t>())));
    }
    row.who = fmt::format("{}@{}[{}]", text_of(e, "user"), text_of(e, "host"), text_of(e, "pid"));
    row.what = text_of(e, "what");
    row.resource = text_of(e, "resource");
    row.change = change_of(e);
    row.result = text_of(e, "result");
    const auto ms = e.contains("duration_ms") && e["duration_ms"].is_number_integer()
                      ? e["duration_ms"].get<std::int64_t>()
                      : 0;
    row.took = format_duration(std::chrono::milliseconds(ms));
    row.reason = text_of(e, "reason");
    w_who = std::max(w_who, row.who.size());
    w_what = std::max(w_what, row.what.size());
    w_resource = std::max(w_resource, row.resource.size());
    w_change = std::max(w_change, row.change.size());
    w_result = std::max(w_result, row.result.size());
    rows.push_back(std::move(row));
  }
  if (flags.columns.given()) {
    std::vector<std::vector<std::string>> table{{"TIME", "WHO", "WHAT", "RESOURCE", "CHANGE", "RESULT", "TOOK", "REASON"}};
    for (const auto& r : rows) {
      table.push_back({r.time, r.who, r.what, r.resource, r.change, r.result, r.took, r.reason});
    }
    std::cout << table_text(table, flags.columns);
    return;
  }
  for (const auto& r : rows) {
    std::string line = fmt::format("{}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}", r.time, r.who, w_who, r.what,
                                   w_what, r.resource, w_resource, r.change, w_change, r.result, w_result, r.took);
    if (!r.reason.empty()) {
      line += "  " + r.reason;
    }
    std::cout << line << "\n";
  }
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
