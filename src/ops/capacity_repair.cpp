// `capacity repair`: the explicit way back from counters that drifted (e.g. written by an older
// scalectl that rewrote them while seed workers were between their INCRBYFLOAT and HSET).

#include <scalectl/ops/capacity.hpp>

#include <scalectl/state/store.hpp>

namespace scalectl::ops {

RepairReport repair_counters(state::Store& store, const state::LockOwner& me, const std::string& pool,
                             std::chrono::milliseconds wait)
{
  const auto lock = store.lock("capacity-" + pool, me, wait);
  RepairReport report;
  report.pool = pool;
  report.result = store.repair(pool);
  return report;
}

}  // namespace scalectl::ops
