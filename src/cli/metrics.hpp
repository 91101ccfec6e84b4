#pragma once
// The CLI's hooks into the metrics textfile sink (src/sinks/metrics_textfile.hpp): commands record
// their series on the context's sink, and run() writes the file once the command has ended.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace scalectl {
namespace core {
struct Droplet;
}
}  // namespace scalectl

namespace scalectl::cli {

class Context;

// Records the series of `droplet` for this invocation's textfile.
void record_droplet_metrics(Context& ctx, const core::Droplet& droplet);
// Records the series of autoscale policy `policy` for this invocation's textfile.
void record_autoscale_metrics(Context& ctx, const std::string& policy, std::int64_t current, std::int64_t desired,
                              std::optional<double> metric);

// Adds the last-run series of `command` and writes the textfile when one is configured. Never
// throws: a failure is one warning. Commands that only inspect scalectl itself (completion,
// config, log) write nothing.
void write_metrics_file(Context& ctx, const std::string& command, int exit_code, std::chrono::milliseconds duration);

}  // namespace scalectl::cli
