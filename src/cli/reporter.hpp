#pragma once
// Reporter implementations for the CLI: a live line on a TTY, timestamped lines otherwise.

#include <memory>

#include <scalectl/report.hpp>

namespace scalectl::cli {

struct ReporterOptions {
  bool quiet = false;    // errors only
  bool verbose = false;  // show detail()
  bool tty = false;      // stderr is a terminal: live progress line unless TERM is unset or "dumb"
};

// Erases the live progress line, if one is showing, so the next message starts on a fresh line.
void end_live_line();

// Returns a reporter writing to stderr per `options`.
std::unique_ptr<Reporter> make_stderr_reporter(const ReporterOptions& options);

}  // namespace scalectl::cli
