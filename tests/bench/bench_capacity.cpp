// In-process allocate+release cycles per second against one state backend. Prints figures;
// asserts nothing except that the pool ends empty (exit 1 otherwise).
//
// usage: bench_capacity (--state-dir DIR | --redis-url URL) [CYCLES [--populate N | --keep]]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <scalectl/core/capacity.hpp>
#include <scalectl/state/store.hpp>

int main(int argc, char** argv)
{
  using namespace scalectl;
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_capacity (--state-dir DIR | --redis-url URL) [CYCLES]\n");
    return 2;
  }
  state::StoreOptions options;
  const std::string_view kind = argv[1];
  if (kind == "--state-dir") {
    options.backend = "file";
    options.state_dir = argv[2];
  } else if (kind == "--redis-url") {
    options.backend = "redis";
    options.redis_url = argv[2];
  } else {
    std::fprintf(stderr, "bench_capacity: unknown option %s\n", argv[1]);
    return 2;
  }
  const long cycles = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 2'000;
  // "--populate N": only fill pool "bench" with N live leases (no TTL) and exit; "--keep": run the
  // cycles next to the leases already there (tests/bench/capacity_scale.sh).
  const std::string_view mode = argc > 4 ? argv[4] : "";
  const long populate = mode == "--populate" && argc > 5 ? std::strtol(argv[5], nullptr, 10) : 0;
  try {
    auto store = state::open_store(options);
    state::AllocateRequest request;
    request.pool = "bench";
    request.lease.id = "bench-worker";
    request.lease.type = "tenth";
    request.lease.resources = core::resources_from(0.1, 0.125);
    request.usable = core::resources_from(1, 1);
    request.ttl = std::chrono::minutes(5);
    if (mode == "--populate" || mode == "--keep") {
      request.usable = core::resources_from(1'000'000, 1'000'000);
    }
    if (mode == "--populate") {
      store->purge(request.pool);
      state::AllocateRequest live = request;
      live.ttl.reset();
      const auto filled = std::chrono::steady_clock::now();
      for (long i = 0; i < populate; ++i) {
        live.lease.id = fmt::format("live-{}", i);
        if (store->allocate(live).outcome != state::AllocateResult::Outcome::allocated) {
          std::fprintf(stderr, "bench_capacity: could not populate lease %ld\n", i);
          return 1;
        }
      }
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - filled;
      std::printf("%s\n", fmt::format("populated {} live leases in {:.1f} s", populate, took.count()).c_str());
      return 0;
    }
    const bool keep = mode == "--keep";  // no O(n) snapshot: only the lease scripts are measured
    if (!keep) {
      store->purge(request.pool);
    }
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < cycles; ++i) {
      if (store->allocate(request).outcome != state::AllocateResult::Outcome::allocated ||
          store->release(request.pool, request.lease.id).outcome != state::ReleaseResult::Outcome::released) {
        std::fprintf(stderr, "bench_capacity: cycle %ld did not allocate and release\n", i);
        return 1;
      }
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    const auto left = keep ? core::Resources{} : store->snapshot(request.pool).allocated;
    std::printf("%s\n", fmt::format("{}: {} allocate+release cycles in {:.2f} s = {:.0f} cycles/s ({:.3f} ms per "
                                    "cycle); allocated afterwards: {} millicores, {} MiB",
                                    store->describe(), cycles, elapsed.count(),
                                    static_cast<double>(cycles) / elapsed.count(),
                                    elapsed.count() * 1000.0 / static_cast<double>(cycles), left.millicores,
                                    left.mib)
                          .c_str());
    return left == core::Resources{} ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_capacity: %s\n", e.what());
    return 1;
  }
}
