#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/config/config.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/ops/capacity.hpp>
#include <scalectl/ops/capacity_multi.hpp>
#include <scalectl/report.hpp>

#include "config_fixture.hpp"

using namespace scalectl;
using scalectl::test::error_of;
using scalectl::test::hermetic_options;
using scalectl::test::ScratchDir;
using std::chrono::milliseconds;

namespace {

const std::filesystem::path k_example =
  std::filesystem::path(SCALECTL_SOURCE_DIR) / "packaging" / "config.example.toml";

config::Config load_text(const ScratchDir& dir, const std::string& toml, std::map<std::string, std::string> env = {})
{
  auto options = hermetic_options(dir, std::move(env));
  options.explicit_file = dir.write("scalectl.toml", toml);
  return config::load(options);
}

ops::HostProbe fixture_host(const ScratchDir& dir, std::int64_t cpus = 4)
{
  ops::HostProbe probe;
  probe.meminfo = dir.write("meminfo", "MemTotal:        8388608 kB\nMemFree:          100 kB\n");
  probe.cpus = cpus;
  return probe;
}

// A clock whose time moves only in sleep_for(); it records every sleep.
class FakeClock final : public Clock {
 public:
  SystemTime now() const override { return SystemTime(m_now); }
  std::chrono::steady_clock::time_point monotonic() const override { return std::chrono::steady_clock::time_point(m_now); }
  void sleep_for(Millis duration) override
  {
    if (interrupt_after >= 0 && static_cast<int>(sleeps.size()) >= interrupt_after) {
      throw Interrupted("interrupted (SIGINT) while waiting");
    }
    sleeps.push_back(duration);
    m_now += duration;
  }
  milliseconds elapsed() const { return std::chrono::duration_cast<milliseconds>(m_now - m_start); }

  std::vector<milliseconds> sleeps;
  int interrupt_after = -1;

 private:
  std::chrono::nanoseconds m_start{std::chrono::seconds(1'000)};
  std::chrono::nanoseconds m_now{m_start};
};

// A store whose allocate() says "insufficient" `refusals` times, then allocates.
class ScriptedStore final : public state::Store {
 public:
  explicit ScriptedStore(int refusals) : m_refusals(refusals) {}

  std::string describe() const override { return "scripted"; }
  std::unique_ptr<state::OperationLock> lock(std::string_view, const state::LockOwner&, milliseconds) override
  {
    throw std::logic_error("unused");
  }
  std::optional<state::LockOwner> lock_holder(std::string_view) override { throw std::logic_error("unused"); }
  std::optional<nlohmann::json> get(std::string_view) override { throw std::logic_error("unused"); }
  nlohmann::json update(std::string_view,
                        const std::function<nlohmann::json(const std::optional<nlohmann::json>&)>&) override
  {
    throw std::logic_error("unused");
  }
  void append(std::string_view, const nlohmann::json&) override { throw std::logic_error("unused"); }
  std::vector<nlohmann::json> read_log(std::string_view, std::int64_t) override { throw std::logic_error("unused"); }
  state::RenewResult renew(std::string_view, std::string_view, milliseconds) override
  {
    throw std::logic_error("unused");
  }
  state::ReleaseResult release(std::string_view, std::string_view) override { throw std::logic_error("unused"); }
  std::vector<state::Lease> purge(std::string_view) override { throw std::logic_error("unused"); }
  state::PoolSnapshot snapshot(std::string_view) override { throw std::logic_error("unused"); }

  bool leave_queue(std::string_view, std::string_view id) override
  {
    left.emplace_back(id);
    return true;
  }

  state::AllocateResult allocate(const state::AllocateRequest& request) override
  {
    ++calls;
    queue_ttls.push_back(request.queue_ttl);
    state::AllocateResult result;
    if (calls <= m_refusals) {
      result.outcome = state::AllocateResult::Outcome::insufficient;
      result.fit = core::check_fit(request.usable, request.usable, request.lease.resources);
      return result;
    }
    result.outcome = state::AllocateResult::Outcome::allocated;
    result.lease = request.lease;
    result.fit = core::check_fit(request.usable, {}, request.lease.resources);
    return result;
  }

  int calls = 0;
  std::vector<std::optional<milliseconds>> queue_ttls;  // request.queue_ttl of each allocate
  std::vector<std::string> left;                       // ids given to leave_queue

 private:
  int m_refusals;
};

state::AllocateRequest request_for(core::Resources need, core::Resources usable)
{
  state::AllocateRequest request;
  request.lease.id = "w1";
  request.lease.type = "registre";
  request.lease.resources = need;
  request.usable = usable;
  return request;
}

}  // namespace

TEST_SUITE("ops.capacity")
{
  TEST_CASE("the example config ships the seed's three worker types, server and four budgets")
  {
    const ScratchDir dir;
    auto options = hermetic_options(dir);
    options.explicit_file = k_example;
    const auto settings = ops::capacity_settings(config::load(options), fixture_host(dir));
    REQUIRE(settings.types.size() == 3);
    CHECK(settings.types[0].name == "registre");
    CHECK(settings.types[0].need == core::resources_from(3, 1));
    CHECK(settings.types[0].priority == 10);
    CHECK(settings.types[1].name == "index-ocr");
    const core::Amount rpm_index{67, 1};
    const core::Amount rpm_acte{72, 1};
    CHECK(settings.types[1].need ==
          core::Resources{1500, 768, {{"gemini_rpm", rpm_index}, {"gemini_tpm", core::Amount{53'000, 0}}}});
    CHECK(settings.types[1].priority == 5);
    CHECK(settings.types[2].name == "acte-ocr");
    CHECK(settings.types[2].need ==
          core::Resources{1000, 512, {{"gemini_rpm", rpm_acte}, {"gemini_tpm", core::Amount{242'000, 0}}}});
    CHECK(settings.types[2].priority == 5);
    CHECK(settings.limits.total == core::resources_from(8, 16));
    // CPU and RAM in this host's pool; the Gemini budgets in the pool shared by every host.
    CHECK(settings.usable == core::Resources{6400, 13107});
    CHECK(settings.resources.empty());
    REQUIRE(settings.shared_pools.size() == 1);
    const auto& gemini = settings.shared_pools[0];
    CHECK(gemini.pool == "gemini");
    CHECK(gemini.usable ==
          core::Resources{0, 0, {{"gemini_rpm", core::Amount{1600, 0}}, {"gemini_tpm", core::Amount{6'400'000, 0}}}});
    REQUIRE(gemini.resources.size() == 2);
    CHECK(gemini.resources[0].name == "gemini_rpm");
    CHECK(gemini.resources[0].unit == "RPM");
    CHECK(gemini.resources[1].name == "gemini_tpm");
    CHECK(settings.pool == "server");
    CHECK(settings.pending_ttl == std::chrono::seconds(30));
  }

  TEST_CASE("the seed's SERVER_* names set the limits")
  {
    const ScratchDir dir;
    const auto cfg = load_text(dir, "", {{"SERVER_MAX_CPU", "16"}, {"SERVER_MAX_RAM", "32"},
                                         {"SERVER_RESERVED_CPU_PERCENT", "25"}, {"SERVER_RESERVED_RAM_PERCENT", "10"}});
    const auto settings = ops::capacity_settings(cfg, fixture_host(dir));
    CHECK(settings.limits.total == core::resources_from(16, 32));
    CHECK(settings.usable == core::Resources{12000, 29491});  // 32768 * 0.9 = 29491.2
    CHECK(settings.cpu_source == "env SERVER_MAX_CPU");
    CHECK(settings.ram_source == "env SERVER_MAX_RAM");
    CHECK(settings.types.empty());
  }

  TEST_CASE("limits that are not set are detected on this host, and only those")
  {
    const ScratchDir dir;
    auto settings = ops::capacity_settings(load_text(dir, ""), fixture_host(dir, 6));
    CHECK(settings.limits.total == core::Resources{6000, 8192});
    CHECK(settings.usable == core::Resources{4800, 6554});
    CHECK(settings.cpu_source == "detected on this host");
    CHECK(settings.ram_source == "detected on this host (MemTotal)");

    settings = ops::capacity_settings(load_text(dir, "[capacity]\nmax_cpu = 2\n"), fixture_host(dir, 6));
    CHECK(settings.limits.total == core::Resources{2000, 8192});

    settings = ops::capacity_settings(load_text(dir, "[capacity]\nmax_cpu = 2\n"), fixture_host(dir), 32.0, 64.0);
    CHECK(settings.limits.total == core::resources_from(32, 64));
    CHECK(settings.cpu_source == "--cpu");

    ops::HostProbe missing;
    missing.meminfo = dir.path() / "no-such-meminfo";
    CHECK(ops::capacity_settings(load_text(dir, "[capacity]\nmax_cpu = 2\nmax_ram_gb = 4\n"), missing).limits.total ==
          core::resources_from(2, 4));
    const auto message = error_of([&] { ops::capacity_settings(load_text(dir, ""), missing); }, ExitCode::failure);
    CHECK(message.find("no-such-meminfo") != std::string::npos);
    CHECK(message.find("max_ram_gb") != std::string::npos);
  }

  TEST_CASE("real host detection agrees with sysconf and /proc/meminfo")
  {
    const auto host = ops::detect_host_resources({});
    CHECK(host.millicores >= 1000);
    CHECK(host.millicores % 1000 == 0);
    CHECK(host.mib > 0);
  }

  TEST_CASE("invalid settings are usage errors naming the key")
  {
    const ScratchDir dir;
    const auto probe = fixture_host(dir);
    auto message = error_of(
      [&] { ops::capacity_settings(load_text(dir, "[capacity.worker_types.big]\nram_gb = 1\n"), probe); });
    CHECK(message.find("capacity.worker_types.big.cpu is not set") != std::string::npos);
    message = error_of([&] {
      ops::capacity_settings(load_text(dir, "[capacity.worker_types.big]\ncpu = 1\nram_gb = 1\npriority = 0\n"), probe);
    });
    // Bounded where it enters: the schema gives priority its range 1-10.
    CHECK(message.find("priority: 0 is out of range; it must be between 1 and 10") != std::string::npos);
    message = error_of([&] {
      ops::capacity_settings(load_text(dir, "[capacity.worker_types.none]\ncpu = 0\nram_gb = 0\n"), probe);
    });
    CHECK(message.find("needs no CPU and no RAM") != std::string::npos);
    message = error_of([&] { ops::capacity_settings(load_text(dir, "[capacity]\nreserved_cpu_percent = 100\n"), probe); });
    CHECK(message.find("reserved_cpu_percent") != std::string::npos);
    message = error_of([&] { ops::capacity_settings(load_text(dir, "[capacity]\nmax_cpu = -4\n"), probe); });
    CHECK(message.find("capacity.max_cpu") != std::string::npos);
    message = error_of([&] { ops::capacity_settings(load_text(dir, "[capacity]\npool = \"\"\n"), probe); });
    CHECK(message.find("capacity.pool") != std::string::npos);
  }

  TEST_CASE("unknown worker types list the known ones")
  {
    const ScratchDir dir;
    auto options = hermetic_options(dir);
    options.explicit_file = k_example;
    const auto settings = ops::capacity_settings(config::load(options), fixture_host(dir));
    CHECK(ops::require_worker_type(settings, "acte-ocr").name == "acte-ocr");
    const auto message = error_of([&] { ops::require_worker_type(settings, "acte"); });
    CHECK(message == "unknown worker type 'acte'; known types: registre, index-ocr, acte-ocr");
    const auto none = ops::capacity_settings(load_text(dir, ""), fixture_host(dir));
    CHECK(error_of([&] { ops::require_worker_type(none, "x"); }).find("no worker types are configured") !=
          std::string::npos);
  }

  TEST_CASE("lease ids")
  {
    ops::require_lease_id("registre-web-1:2.3_x");
    CHECK(error_of([] { ops::require_lease_id(""); }).find("1 to 200") != std::string::npos);
    CHECK(error_of([] { ops::require_lease_id("a b"); }).find("space") != std::string::npos);
    CHECK(error_of([] { ops::require_lease_id("a\nb"); }).find("control") != std::string::npos);
    CHECK(error_of([] { ops::require_lease_id(std::string(201, 'x')); }).find("1 to 200") != std::string::npos);
    const auto a = ops::generate_lease_id("acte-ocr", "web-1.example.com", 42);
    const auto b = ops::generate_lease_id("acte-ocr", "web-1.example.com", 42);
    CHECK(a.starts_with("acte-ocr-web-1-42-"));
    CHECK(a.size() == std::string("acte-ocr-web-1-42-").size() + 8);
    CHECK(a != b);
    ops::require_lease_id(a);
  }

  TEST_CASE("backoff doubles to the cap, jittering its upper half")
  {
    const ops::WaitPolicy policy{milliseconds(10'000), milliseconds(100), milliseconds(2'000)};
    CHECK(ops::backoff_delay(policy, 1, 0.0) == milliseconds(50));
    CHECK(ops::backoff_delay(policy, 1, 0.999) == milliseconds(99));
    CHECK(ops::backoff_delay(policy, 2, 0.0) == milliseconds(100));
    CHECK(ops::backoff_delay(policy, 5, 0.5) == milliseconds(1'200));  // 1600: 800 + 400
    CHECK(ops::backoff_delay(policy, 6, 1.0) == milliseconds(2'000));
    CHECK(ops::backoff_delay(policy, 60, 0.0) == milliseconds(1'000));
  }

  TEST_CASE("allocate_lease")
  {
    FakeClock clock;
    const auto usable = core::resources_from(6.4, 12.8);

    SUBCASE("one attempt without --wait")
    {
      ScriptedStore store(1);
      const auto outcome = ops::allocate_lease(store, clock, null_reporter(),
                                               request_for(core::resources_from(3, 1), usable), {}, 1);
      CHECK(outcome.result.outcome == state::AllocateResult::Outcome::insufficient);
      CHECK(outcome.attempts == 1);
      CHECK(store.calls == 1);
      CHECK(clock.sleeps.empty());
      CHECK(store.queue_ttls == std::vector<std::optional<milliseconds>>{std::nullopt});  // never queues
      CHECK(store.left.empty());
    }
    SUBCASE("--wait retries with backoff until it fits")
    {
      ScriptedStore store(4);
      const ops::WaitPolicy policy{milliseconds(60'000), milliseconds(100), milliseconds(2'000)};
      const auto outcome =
        ops::allocate_lease(store, clock, null_reporter(), request_for(core::resources_from(3, 1), usable), policy, 7);
      CHECK(outcome.result.outcome == state::AllocateResult::Outcome::allocated);
      CHECK(outcome.attempts == 5);
      REQUIRE(clock.sleeps.size() == 4);
      for (std::size_t i = 0; i < clock.sleeps.size(); ++i) {
        const auto cap = milliseconds(100 << i);
        CHECK(clock.sleeps[i] >= cap / 2);
        CHECK(clock.sleeps[i] <= cap);
      }
      CHECK(outcome.waited == clock.elapsed());
    }
    SUBCASE("--wait gives up at the deadline after a last attempt, never sleeping past it")
    {
      ScriptedStore store(1'000'000);
      const ops::WaitPolicy policy{milliseconds(5'000), milliseconds(100), milliseconds(2'000)};
      const auto outcome =
        ops::allocate_lease(store, clock, null_reporter(), request_for(core::resources_from(3, 1), usable), policy, 9);
      CHECK(outcome.result.outcome == state::AllocateResult::Outcome::insufficient);
      CHECK(clock.elapsed() >= milliseconds(5'000));
      CHECK(clock.elapsed() <= milliseconds(5'001));
      CHECK(outcome.attempts == store.calls);
      CHECK(outcome.attempts == static_cast<int>(clock.sleeps.size()) + 1);
      // Every poll heartbeats the queue; giving up leaves it.
      CHECK(std::all_of(store.queue_ttls.begin(), store.queue_ttls.end(),
                        [](const auto& ttl) { return ttl == milliseconds(10'000); }));
      CHECK(store.left == std::vector<std::string>{"w1"});
    }
    SUBCASE("a short heartbeat TTL shortens the polls so a live waiter keeps its place")
    {
      ScriptedStore store(20);
      ops::WaitPolicy policy{milliseconds(600'000), milliseconds(100), milliseconds(2'000)};
      policy.heartbeat_ttl = milliseconds(3'000);
      const auto outcome =
        ops::allocate_lease(store, clock, null_reporter(), request_for(core::resources_from(3, 1), usable), policy, 5);
      CHECK(outcome.result.outcome == state::AllocateResult::Outcome::allocated);
      CHECK(*std::max_element(clock.sleeps.begin(), clock.sleeps.end()) <= milliseconds(1'500));
      CHECK(store.left.empty());
    }
    SUBCASE("a worker bigger than the whole pool is refused without waiting")
    {
      ScriptedStore store(0);
      const ops::WaitPolicy policy{milliseconds(60'000), milliseconds(100), milliseconds(2'000)};
      const auto outcome =
        ops::allocate_lease(store, clock, null_reporter(), request_for(core::resources_from(8, 1), usable), policy, 3);
      CHECK(outcome.never_fits);
      CHECK(outcome.result.outcome == state::AllocateResult::Outcome::insufficient);
      CHECK(outcome.result.fit.reason == "Insufficient CPU (need 8, available 6.4)");
      CHECK(store.calls == 0);
      CHECK(clock.sleeps.empty());
    }
    SUBCASE("a signal ends the wait")
    {
      ScriptedStore store(1'000'000);
      clock.interrupt_after = 2;
      const ops::WaitPolicy policy{milliseconds(60'000), milliseconds(100), milliseconds(2'000)};
      CHECK_THROWS_AS(ops::allocate_lease(store, clock, null_reporter(),
                                          request_for(core::resources_from(3, 1), usable), policy, 3),
                      Interrupted);
      CHECK(store.calls == 3);
      CHECK(store.left == std::vector<std::string>{"w1"});  // an interrupted waiter leaves the queue
    }
  }
}

// --- several pools per worker (issue 13) -------------------------------------------------------

TEST_SUITE("ops.capacity_multi")
{
  TEST_CASE("a worker's need splits into this host's pool and the shared pools, zero shares left out")
  {
    const ScratchDir dir;
    auto options = hermetic_options(dir);
    options.explicit_file = k_example;
    const auto settings = ops::capacity_settings(config::load(options), fixture_host(dir));
    const auto acte = ops::pool_parts(settings, ops::require_worker_type(settings, "acte-ocr"));
    REQUIRE(acte.size() == 2);
    CHECK(acte[0].pool == "server");
    CHECK_FALSE(acte[0].shared);
    CHECK(acte[0].need == core::resources_from(1, 0.5));
    CHECK(acte[0].usable == core::Resources{6400, 13107});
    CHECK(acte[1].pool == "gemini");
    CHECK(acte[1].shared);
    CHECK(acte[1].need == core::Resources{0, 0, {{"gemini_rpm", {72, 1}}, {"gemini_tpm", {242'000, 0}}}});
    const auto registre = ops::pool_parts(settings, ops::require_worker_type(settings, "registre"));
    REQUIRE(registre.size() == 1);
    CHECK(registre[0].pool == "server");
    CHECK(ops::draws_from_shared_pool(settings, ops::require_worker_type(settings, "acte-ocr")));
    CHECK_FALSE(ops::draws_from_shared_pool(settings, ops::require_worker_type(settings, "registre")));
    CHECK(ops::all_pools(settings) == std::vector<std::string>{"server", "gemini"});
    const auto combined = ops::combined_settings(settings);
    CHECK(combined.usable ==
          core::Resources{6400, 13107, {{"gemini_rpm", {1600, 0}}, {"gemini_tpm", {6'400'000, 0}}}});
    CHECK(combined.resources.size() == 2);

    // A type needing only the shared pool's resources draws from it alone.
    const auto api_only = load_text(dir, "[capacity]\nmax_cpu = 4\nmax_ram_gb = 8\n"
                                         "[capacity.shared_pools.api]\nname = \"{api}\"\n"
                                         "[capacity.shared_pools.api.resources.rpm]\nlimit = 10\n"
                                         "[capacity.worker_types.caller]\ncpu = 0\nram_gb = 0\nrpm = 1\n");
    const auto only = ops::capacity_settings(api_only, fixture_host(dir));
    const auto parts = ops::pool_parts(only, ops::require_worker_type(only, "caller"));
    REQUIRE(parts.size() == 1);
    CHECK(parts[0].pool == "{api}");
  }

  TEST_CASE("bad shared pools are usage errors naming the tables")
  {
    const ScratchDir dir;
    const auto probe = fixture_host(dir);
    const std::string base = "[capacity]\nmax_cpu = 4\nmax_ram_gb = 8\n";
    const std::string gemini = "[capacity.shared_pools.gemini]\n[capacity.shared_pools.gemini.resources.rpm]\nlimit = 10\n";
    const auto usage = [&](const std::string& toml) {
      return error_of([&] { ops::capacity_settings(load_text(dir, toml), probe); }, ExitCode::usage);
    };
    CHECK(usage(base + gemini + "[capacity.resources.rpm]\nlimit = 5\n") ==
          "resource 'rpm' is declared in two pools, [capacity.resources.rpm] and "
          "[capacity.shared_pools.gemini.resources.rpm]; keep one (each resource lives in exactly one pool)");
    CHECK(usage(base + gemini + "[capacity.shared_pools.b]\nname = \"gemini\"\n[capacity.shared_pools.b.resources.x]\n"
                                "limit = 1\n")
              .find("[capacity.shared_pools.b] and [capacity.shared_pools.gemini] both use pool 'gemini'") !=
          std::string::npos);
    CHECK(usage(base + "[capacity.shared_pools.s]\nname = \"server\"\n[capacity.shared_pools.s.resources.x]\nlimit = 1\n")
              .find("uses pool 'server', which is this host's pool") != std::string::npos);
    CHECK(usage(base + "[capacity.shared_pools.e]\nname = \"e\"\n").find("[capacity.shared_pools.e] declares no "
                                                                         "resources") != std::string::npos);
    CHECK(usage(base + "[capacity.shared_pools.x]\nname = \"a b\"\n[capacity.shared_pools.x.resources.y]\nlimit = 1\n")
              .find("capacity.shared_pools.x.name") != std::string::npos);
    CHECK(usage(base + gemini + "[capacity.worker_types.w]\ncpu = 1\nram_gb = 1\ntpm = 3\n")
              .find("names resource 'tpm', but no [capacity.resources.tpm] table declares it (nor a shared pool's "
                    "[capacity.shared_pools.POOL.resources.tpm])") != std::string::npos);
  }
}
