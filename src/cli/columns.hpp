#pragma once
// Tables for listing commands, with doctl's --format COL,... and --no-header.

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace scalectl::cli {

// What a listing command shows: doctl's `--format ID,HOST` and `--no-header`.
struct ColumnOptions {
  std::string format;      // comma-separated column names, case-insensitive; "" = every column
  bool no_header = false;

  // Returns true when either flag was given (the command then prints only its table).
  bool given() const { return !format.empty() || no_header; }
};

// Adds --format and --no-header to `cmd`, writing into `options` (which must outlive `cmd`).
void add_column_flags(CLI::App& cmd, ColumnOptions& options);

// Returns `rows` (rows[0] is the header) as aligned text, two spaces between columns.
std::string table_text(const std::vector<std::vector<std::string>>& rows);

// Returns `rows` (rows[0] is the header) as aligned text with only the columns `options.format`
// names, in that order, and without the header when `options.no_header`. Throws Error(usage)
// naming an unknown column and listing the known ones.
std::string table_text(const std::vector<std::vector<std::string>>& rows, const ColumnOptions& options);

}  // namespace scalectl::cli
