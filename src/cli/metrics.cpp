#include "cli/metrics.hpp"

#include <fmt/format.h>

#include <scalectl/report.hpp>

#include "cli/context.hpp"
#include "sinks/metrics_textfile.hpp"

namespace scalectl::cli {

void record_droplet_metrics(Context& ctx, const core::Droplet& droplet)
{
  ctx.metrics().droplet(droplet);
}

void record_autoscale_metrics(Context& ctx, const std::string& policy, std::int64_t current, std::int64_t desired,
                              std::optional<double> metric)
{
  ctx.metrics().autoscale(policy, current, desired, metric);
}

void write_metrics_file(Context& ctx, const std::string& command, int exit_code, std::chrono::milliseconds duration)
{
  const std::string noun = command.substr(0, command.find(' '));
  if (command.empty() || noun == "completion" || noun == "config" || noun == "log" || noun.starts_with("__")) {
    return;
  }
  auto& textfile = ctx.metrics();
  if (!textfile.enabled()) {
    return;
  }
  try {
    for (const auto& warning : textfile.write_run(command, exit_code, duration)) {
      ctx.reporter().warn(warning);
    }
  } catch (const std::exception& e) {
    ctx.reporter().warn(fmt::format("could not write the metrics file {}: {}", textfile.path().string(), e.what()));
  }
}

}  // namespace scalectl::cli
