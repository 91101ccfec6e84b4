// state.json of the file backend: a document that parses has the shape the store relies on, and
// every pool in it survives the lease operations: an allocation that fits keeps the live total
// within the usable budget, and its release gives back exactly what it took.
#include <nlohmann/json.hpp>

#include <scalectl/error.hpp>

#include "state/file_pool.hpp"
#include "state/file_store.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using scalectl::fuzz::require;
  namespace state = scalectl::state;
  constexpr std::int64_t k_now = 1'800'000'000'000;
  nlohmann::json doc;
  try {
    doc = state::parse_state_document(scalectl::fuzz::as_text(data, size), "fuzz/state.json");
  } catch (const scalectl::Error&) {
    return 0;
  }
  require(doc.is_object(), "an accepted state document is an object");
  const auto pools = doc.find("pools");
  if (pools == doc.end()) {
    return 0;
  }
  require(pools->is_object(), "\"pools\" is an object");
  for (auto& [name, pool] : pools->items()) {
    require(pool.is_object(), "every pool is an object");
    state::PoolSnapshot before;
    try {
      before = state::pool_snapshot(pool, k_now, name);
    } catch (const scalectl::Error&) {
      continue;  // an invalid lease is reported, never guessed
    }
    require(before.allocated.millicores >= 0 && before.allocated.mib >= 0, "live totals are not negative");
    state::AllocateRequest request;
    request.pool = name;
    request.lease.id = "fuzz-lease";
    request.lease.type = "t";
    request.lease.resources = {1500, 768};
    request.usable = {8000, 16384};
    nlohmann::json copy = pool;
    const auto result = state::pool_allocate(copy, request, k_now, name);
    if (result.outcome != state::AllocateResult::Outcome::allocated) {
      continue;
    }
    const auto after = state::pool_snapshot(copy, k_now, name);
    require(after.allocated.millicores <= request.usable.millicores && after.allocated.mib <= request.usable.mib,
            "an allocation that fits keeps the pool within its budget");
    state::pool_release(copy, request.lease.id, k_now, name);
    const auto released = state::pool_snapshot(copy, k_now, name);
    require(released.allocated == after.allocated - request.lease.resources, "a release gives back what it took");
  }
  return 0;
}
