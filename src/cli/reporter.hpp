#pragma once
// Reporter implementations for the CLI: a live line on a TTY, timestamped lines otherwise.

#include <memory>

#include <scalectl/report.hpp>

namespace scalectl::cli {

struct ReporterOptions {
  bool quiet = false;    // errors only
  bool verbose = false;  // show detail()
  bool tty = false;      // stderr is a terminal: live progress line
};

// Returns a reporter writing to stderr per `options`.
std::unique_ptr<Reporter> make_stderr_reporter(const ReporterOptions& options);

}  // namespace scalectl::cli
