// Tables for listing commands, with doctl's --format COL,... and --no-header.

#include "cli/columns.hpp"

#include <algorithm>
#include <cctype>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <scalectl/error.hpp>

namespace scalectl::cli {

namespace {

// Column names are matched without case and without spaces ("per worker" = "PerWorker").
std::string column_key(std::string_view name)
{
  std::string key;
  for (const char c : name) {
    if (c != ' ' && c != '_' && c != '-') {
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return key;
}

std::vector<std::size_t> selected_columns(const std::vector<std::string>& header, const std::string& format)
{
  std::vector<std::size_t> picked;
  if (format.empty()) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      picked.push_back(i);
    }
    return picked;
  }
  if (format.size() > 1024) {
    throw usage_error("--format is longer than 1024 characters; name the columns you want, e.g. --format ID,HOST");
  }
  std::size_t start = 0;
  while (start <= format.size()) {
    const auto comma = std::min(format.find(',', start), format.size());
    const std::string name = format.substr(start, comma - start);
    const auto key = column_key(name);
    const auto it = std::find_if(header.begin(), header.end(),
                                 [&](const std::string& h) { return column_key(h) == key; });
    if (key.empty() || it == header.end()) {
      std::vector<std::string> known;
      for (const auto& h : header) {
        known.push_back(h);
      }
      throw usage_error(fmt::format("--format names an unknown column '{}'; the columns are {}", name,
                                    fmt::join(known, ",")));
    }
    picked.push_back(static_cast<std::size_t>(it - header.begin()));
    start = comma + 1;
  }
  return picked;
}

}  // namespace

void add_column_flags(CLI::App& cmd, ColumnOptions& options)
{
  cmd.add_option("--format", options.format,
                 "Print only the table, with these columns in this order (comma-separated, e.g. ID,HOST)");
  cmd.add_flag("--no-header", options.no_header, "Print only the table, without its header line");
}

std::string table_text(const std::vector<std::vector<std::string>>& rows)
{
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line += std::string(widths[i] - row[i].size() + 2, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line + "\n";
  }
  return out;
}

std::string table_text(const std::vector<std::vector<std::string>>& rows, const ColumnOptions& options)
{
  if (rows.empty()) {
    return "";
  }
  const auto picked = selected_columns(rows.front(), options.format);
  std::vector<std::vector<std::string>> kept;
  for (std::size_t r = options.no_header ? 1 : 0; r < rows.size(); ++r) {
    std::vector<std::string> row;
    for (const auto i : picked) {
      row.push_back(i < rows[r].size() ? rows[r][i] : "");
    }
    kept.push_back(std::move(row));
  }
  return table_text(kept);
}

}  // namespace scalectl::cli
