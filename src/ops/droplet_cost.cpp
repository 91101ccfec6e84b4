// `droplet cost`: the recorded resizes of one droplet, priced by core::compute_cost.

#include <scalectl/ops/droplet.hpp>

namespace scalectl::ops {

namespace {

std::vector<core::ResizeRecord> resize_history(state::Store& store, std::int64_t droplet_id, std::int64_t since_ms)
{
  std::vector<core::ResizeRecord> out;
  for (const auto& line : store.read_log(k_droplet_resizes_log, since_ms)) {
    const auto entry = ResizeLogEntry::from_json(line);
    if (!entry || entry->droplet_id != droplet_id) {
      continue;
    }
    core::ResizeRecord r;
    r.time_ms = entry->time_ms;
    r.from = entry->from;
    r.to = entry->to;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

DropletCostReport droplet_cost(DropletDeps& deps, const DropletCostOptions& options)
{
  const auto id = selected_droplet(deps.api, options.droplet);
  DropletCostReport report;
  report.droplet = deps.api.get_droplet(id);
  core::CostInput input;
  input.start_ms = options.start_ms;
  input.end_ms = options.end_ms;
  input.resizes = resize_history(deps.store(), id, options.start_ms);
  input.current_size = report.droplet.size_slug;
  input.baseline_size = options.baseline_size;
  for (const auto& size : deps.api.list_sizes()) {
    input.prices[size.slug] = {size.price_hourly, size.price_monthly};
  }
  report.cost = core::compute_cost(input);
  return report;
}

}  // namespace scalectl::ops
