#include <doctest/doctest.h>

#include <stdexcept>

#include <scalectl/state/store.hpp>

#include "scratch_dir.hpp"
#include "sinks/audit_log.hpp"
#include "sinks/sink_list.hpp"
#include "support/fake_clock.hpp"
#include "support/recording_reporter.hpp"

using namespace scalectl;
using namespace scalectl::sinks;

namespace {

state::LockOwner operator_at_worker()
{
  return state::LockOwner{.pid = 4242, .host = "worker-1", .user = "ops",
                          .command = "scalectl droplet reconcile --every 5m", .since_ms = 0};
}

class CountingSink final : public EventSink {
 public:
  void emit(const Event& event) override { seen.push_back(event.what); }
  std::vector<std::string> seen;
};

class BrokenSink final : public EventSink {
 public:
  void emit(const Event&) override { throw std::runtime_error("disk full"); }
};

}  // namespace

TEST_SUITE("sinks.audit_log")
{
  TEST_CASE("one sink, two events from one process: two lines, each with its own time")
  {
    test::ScratchDir dir;
    test::FakeClock clock;
    state::StoreOptions options;
    options.state_dir = dir.path() / "state";
    const auto store = state::open_store(options, clock);
    AuditLog audit(*store, clock, operator_at_worker());

    const auto first_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
    audit.emit(Event{"droplet.resize", "droplet-1", "s-1vcpu-1gb", "s-2vcpu-4gb", "up", "ok",
                     std::chrono::seconds(90), {}});
    clock.advance(std::chrono::minutes(5));
    audit.emit(Event{"droplet.resize", "droplet-1", "s-2vcpu-4gb", "s-1vcpu-1gb", "down", "ok",
                     std::chrono::seconds(80), {}});

    const auto lines = store->read_log(k_audit_log, 0);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["time_ms"] == first_ms);
    CHECK(lines[1]["time_ms"] == first_ms + 300'000);
    CHECK(lines[0]["reason"] == "up");
    CHECK(lines[1]["reason"] == "down");
    CHECK(lines[1]["to"] == "s-1vcpu-1gb");
    CHECK(lines[1]["duration_ms"] == 80'000);
    for (const auto& line : lines) {
      CHECK(line["user"] == "ops");
      CHECK(line["host"] == "worker-1");
      CHECK(line["pid"] == 4242);
      CHECK(line["command"] == "scalectl droplet reconcile --every 5m");
    }
  }
}

TEST_SUITE("sinks.sink_list")
{
  TEST_CASE("a failing sink is one warning per event and the next sink still runs")
  {
    test::RecordingReporter reporter;
    SinkList sinks(reporter);
    auto counting = std::make_unique<CountingSink>();
    auto* seen = counting.get();
    sinks.add("audit log", std::make_unique<BrokenSink>());
    sinks.add("webhooks", std::move(counting));
    sinks.emit(Event{"app.scale", "app-1/web", "2", "3", "queue", "ok", {}, {}});
    sinks.emit(Event{"app.scale", "app-1/web", "3", "2", "queue", "ok", {}, {}});
    CHECK(seen->seen == std::vector<std::string>{"app.scale", "app.scale"});
    REQUIRE(reporter.warnings.size() == 2);
    CHECK(reporter.warnings[0] == "could not write the app.scale event to the audit log: disk full");
  }

  TEST_CASE("a sink that could not be built says why on every event")
  {
    test::RecordingReporter reporter;
    SinkList sinks(reporter);
    sinks.add("audit log", std::make_unique<UnavailableSink>("cannot connect to Redis at 127.0.0.1:1"));
    sinks.emit(Event{"autoscale.apply", "policy-p", "1", "2", "", "ok", {}, {}});
    REQUIRE(reporter.warnings.size() == 1);
    CHECK(reporter.warnings[0] ==
          "could not write the autoscale.apply event to the audit log: cannot connect to Redis at 127.0.0.1:1");
  }
}
