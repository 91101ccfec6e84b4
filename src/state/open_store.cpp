#include <scalectl/state/store.hpp>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/error.hpp>

#include "state/file_store.hpp"
#include "state/redis_store.hpp"

namespace scalectl::state {

std::unique_ptr<Store> open_store(const StoreOptions& options)
{
  return open_store(options, real_clock());
}

std::unique_ptr<Store> open_store(const StoreOptions& options, Clock& clock)
{
  if (options.backend == "file") {
    return std::make_unique<FileStore>(options.state_dir, clock);
  }
  if (options.backend == "redis") {
    return std::make_unique<RedisStore>(options, clock);
  }
  throw usage_error(fmt::format("unknown state backend \"{}\"; set state.backend to \"file\" or \"redis\"",
                                options.backend));
}

}  // namespace scalectl::state

namespace scalectl::state {

RenewResult Store::persist(std::string_view pool, std::string_view id)
{
  throw Error(fmt::format("{} cannot make lease {} of pool {} permanent; use a --ttl", describe(), id, pool));
}

}  // namespace scalectl::state
