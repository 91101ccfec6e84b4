#include <doctest/doctest.h>

#include <scalectl/net/transport_factory.hpp>

#include "support/fake_clock.hpp"
#include "support/fake_transport.hpp"

using namespace scalectl;

namespace {

// Records the options each built transport got; every transport answers `statuses` in order.
struct Maker {
  std::vector<net::TransportOptions> built;
  std::vector<long> statuses;

  net::TransportMaker function()
  {
    return [this](const net::TransportOptions& options) {
      built.push_back(options);
      auto transport = std::make_unique<test::FakeTransport>();
      for (const long status : statuses) {
        transport->reply(status, "");
      }
      return transport;
    };
  }
};

}  // namespace

TEST_SUITE("net.transport_factory")
{
  TEST_CASE("every transport gets scalectl's user agent unless one is given")
  {
    test::FakeClock clock;
    Maker maker;
    const net::TransportFactory factory(clock, maker.function());
    factory.plain({});
    net::TransportOptions named;
    named.user_agent = "probe/1";
    factory.plain(named);
    REQUIRE(maker.built.size() == 2);
    CHECK(maker.built[0].user_agent == "scalectl/" SCALECTL_VERSION);
    CHECK(maker.built[1].user_agent == "probe/1");
  }

  TEST_CASE("a bounded transport connects within min(timeout, 10s) and ends at the timeout")
  {
    test::FakeClock clock;
    Maker maker;
    const net::TransportFactory factory(clock, maker.function());
    factory.bounded(std::chrono::seconds(3));
    factory.bounded(std::chrono::seconds(30));
    REQUIRE(maker.built.size() == 2);
    CHECK(maker.built[0].connect_timeout == std::chrono::seconds(3));
    CHECK(maker.built[0].total_timeout == std::chrono::seconds(3));
    CHECK(maker.built[1].connect_timeout == std::chrono::seconds(10));
    CHECK(maker.built[1].total_timeout == std::chrono::seconds(30));
  }

  TEST_CASE("a retrying transport retries per the policy, sleeping on the factory's clock")
  {
    test::FakeClock clock;
    Maker maker;
    maker.statuses = {503, 200};
    const net::TransportFactory factory(clock, maker.function());
    net::RetryPolicy policy;
    policy.max_attempts = 3;
    policy.base_delay = std::chrono::milliseconds(100);
    std::vector<std::string> log;
    const auto transport =
      factory.retrying({}, policy, [&log](const std::string& line) { log.push_back(line); });
    const auto start = clock.now();
    CHECK(transport->send({"GET", "http://127.0.0.1:1/v2/account", {}, {}}).status == 200);
    CHECK(clock.now() - start >= std::chrono::milliseconds(50));
    CHECK(clock.now() - start <= std::chrono::milliseconds(100));
    CHECK(log.size() == 1);
  }
}
