#pragma once
// A clock for unit tests: time moves only when the test (or sleep_for) advances it.

#include <scalectl/clock.hpp>

namespace scalectl::test {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(SystemTime start = SystemTime(std::chrono::milliseconds(1'795'000'000'000))) : m_now(start) {}

  SystemTime now() const override { return m_now; }
  std::chrono::steady_clock::time_point monotonic() const override { return m_monotonic; }
  void sleep_for(Millis duration) override { advance(duration); }

  // Moves both clocks forward by `duration`.
  void advance(Millis duration)
  {
    m_now += duration;
    m_monotonic += duration;
  }

 private:
  SystemTime m_now;
  std::chrono::steady_clock::time_point m_monotonic{};
};

}  // namespace scalectl::test
