#include <scalectl/clock.hpp>

#include <ctime>
#include <thread>

#include <fmt/format.h>

#include <scalectl/interrupt.hpp>

namespace scalectl {

namespace {

class RealClock final : public Clock {
 public:
  SystemTime now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point monotonic() const override { return std::chrono::steady_clock::now(); }
  void sleep_for(Millis duration) override
  {
    // Sleep in short slices so that SIGINT/SIGTERM end the wait within ~50 ms.
    const auto deadline = std::chrono::steady_clock::now() + duration;
    for (;;) {
      throw_if_interrupted("waiting");
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) {
        return;
      }
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(50)));
    }
  }
};

}  // namespace

Clock& real_clock()
{
  static RealClock clock;
  return clock;
}

double unix_seconds(SystemTime t)
{
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::string format_rfc3339(SystemTime t)
{
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace scalectl
