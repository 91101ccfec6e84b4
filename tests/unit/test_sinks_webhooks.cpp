#include <doctest/doctest.h>

#include <scalectl/clock.hpp>
#include <scalectl/state/store.hpp>

#include "sinks/webhooks.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_transport.hpp"
#include "support/recording_reporter.hpp"

using namespace scalectl;
using namespace scalectl::sinks;
using nlohmann::json;

namespace {

class NoSleepClock final : public Clock {
 public:
  SystemTime now() const override { return SystemTime(std::chrono::seconds(1'700'000'000)); }
  std::chrono::steady_clock::time_point monotonic() const override { return {}; }
  void sleep_for(Millis d) override { sleeps.push_back(d); }
  std::vector<Millis> sleeps;
};

Event resize_event()
{
  return Event{"droplet.resize", "droplet-42", "s-2vcpu-4gb", "s-8vcpu-16gb", "up", "ok",
               std::chrono::milliseconds(130'000), json{{"memory_after_mb", 16384}}};
}

state::LockOwner someone()
{
  state::LockOwner who;
  who.pid = 99;
  who.host = "worker-1";
  who.user = "ops";
  who.command = "scalectl droplet up";
  who.since_ms = 1'700'000'000'000;
  return who;
}

// The largest backoff every time, so sleeps are exact.
const Jitter k_full = [] { return 1.0; };

const std::string k_slack = "https://user:pw@hooks.slack.com/services/T000/B000/SECRETSECRET";

// One deliver_webhooks() call's fakes: canned replies in; requests, sleeps and warnings out.
struct Delivery {
  test::FakeTransport transport;
  NoSleepClock clock;
  test::RecordingReporter reporter;
  WebhookOptions options;

  explicit Delivery(std::vector<std::string> urls) { options.urls = std::move(urls); }
  void run(std::string_view what = "droplet.resize", const std::string& body = "{}")
  {
    deliver_webhooks(transport, clock, reporter, options, body, what, k_full);
  }
};

}  // namespace

TEST_SUITE("sinks.webhooks")
{
  TEST_CASE("the JSON body carries what, from, to, reason, who, duration and result")
  {
    const auto body = notification_body(resize_event(), someone(), "json");
    CHECK(body["what"] == "droplet.resize");
    CHECK(body["resource"] == "droplet-42");
    CHECK(body["from"] == "s-2vcpu-4gb");
    CHECK(body["to"] == "s-8vcpu-16gb");
    CHECK(body["reason"] == "up");
    CHECK(body["result"] == "ok");
    CHECK(body["duration_ms"] == 130000);
    CHECK(body["user"] == "ops");
    CHECK(body["host"] == "worker-1");
    CHECK(body["pid"] == 99);
    CHECK(body["time"] == "2023-11-14T22:13:20Z");
    CHECK(body["details"]["memory_after_mb"] == 16384);
    CHECK(body["summary"] == "droplet.resize droplet-42: s-2vcpu-4gb -> s-8vcpu-16gb ok in 2m10s (up) by ops@worker-1");
  }

  TEST_CASE("the Slack body is only text")
  {
    const auto body = notification_body(resize_event(), someone(), "slack");
    REQUIRE(body.size() == 1);
    CHECK(body["text"] ==
          "scalectl: droplet.resize droplet-42: s-2vcpu-4gb -> s-8vcpu-16gb ok in 2m10s (up) by ops@worker-1");
  }

  TEST_CASE("which events notify")
  {
    auto e = resize_event();
    CHECK(should_notify(e));
    e.result = "noop";
    CHECK_FALSE(should_notify(e));
    e.result = "failed";
    CHECK(should_notify(e));
    e.what = "capacity.allocate";
    e.result = "refused";
    CHECK_FALSE(should_notify(e));
    e.details["notify"] = true;
    CHECK(should_notify(e));
    e.what = "app.scale";
    e.details["notify"] = false;
    CHECK_FALSE(should_notify(e));
  }

  TEST_CASE("displayed webhook URLs keep only scheme and host")
  {
    CHECK(webhook_display(k_slack) == "https://hooks.slack.com/...");
    CHECK(webhook_display("http://127.0.0.1:8080") == "http://127.0.0.1:8080");
    CHECK(webhook_display("http://127.0.0.1:8080/") == "http://127.0.0.1:8080");
    CHECK(webhook_display("http://[::1]:9/hook?token=x") == "http://[::1]:9/...");
    CHECK(webhook_display("http://h?secret") == "http://h/...");
  }

  TEST_CASE("delivery posts JSON once on success")
  {
    Delivery d({"http://127.0.0.1:1/hook"});
    d.transport.reply(204, "");
    d.run("droplet.resize", "{\"a\":1}");
    REQUIRE(d.transport.requests().size() == 1);
    const auto& request = d.transport.requests()[0];
    CHECK(request.method == "POST");
    CHECK(request.url == "http://127.0.0.1:1/hook");
    CHECK(request.body == "{\"a\":1}");
    REQUIRE(request.headers.size() == 1);
    CHECK(request.headers[0].name == "Content-Type");
    CHECK(d.reporter.warnings.empty());
    CHECK(d.clock.sleeps.empty());
  }

  TEST_CASE("5xx and transport errors are retried, then one warning without the secret")
  {
    Delivery d({k_slack, "http://127.0.0.1:1/ok"});
    d.transport.reply(500, "");
    d.transport.reply(503, "");
    d.transport.reply(502, "");
    d.transport.reply(200, "");  // the second webhook
    d.run();
    CHECK(d.transport.requests().size() == 4);
    CHECK(d.clock.sleeps == std::vector<Millis>{Millis(250), Millis(500)});
    REQUIRE(d.reporter.warnings.size() == 1);
    CHECK(d.reporter.warnings[0] ==
          "could not notify webhook https://hooks.slack.com/... of the droplet.resize event: HTTP 502 after 3 attempts");
    CHECK(d.reporter.warnings[0].find("SECRET") == std::string::npos);
    CHECK(d.reporter.warnings[0].find("user") == std::string::npos);

    Delivery unreachable({k_slack});  // no canned replies: every send is a connect error
    unreachable.options.retries = 1;
    unreachable.run("app.scale");
    CHECK(unreachable.transport.requests().size() == 2);
    REQUIRE(unreachable.reporter.warnings.size() == 1);
    CHECK(unreachable.reporter.warnings[0] ==
          "could not notify webhook https://hooks.slack.com/... of the app.scale event: could not connect after 2 "
          "attempts");
  }

  TEST_CASE("a 4xx answer is final")
  {
    Delivery d({"http://127.0.0.1:1/gone"});
    d.transport.reply(404, "");
    d.run();
    CHECK(d.transport.requests().size() == 1);
    REQUIRE(d.reporter.warnings.size() == 1);
    CHECK(d.reporter.warnings[0] ==
          "could not notify webhook http://127.0.0.1:1/... of the droplet.resize event: HTTP 404 (not retried)");
  }

  TEST_CASE("a 429 waits out Retry-After, however short the backoff")
  {
    Delivery d({"http://127.0.0.1:1/hook"});
    d.transport.reply(429, "", {{"Retry-After", "7"}});
    d.transport.reply(200, "");
    d.run();
    CHECK(d.transport.requests().size() == 2);
    CHECK(d.clock.sleeps == std::vector<Millis>{Millis(7'000)});
    CHECK(d.reporter.warnings.empty());
  }

  TEST_CASE("a Retry-After longer than the webhook wait ends the retries with one warning")
  {
    Delivery d({"http://127.0.0.1:1/hook"});
    d.transport.reply(503, "", {{"Retry-After", "120"}});
    d.run();
    CHECK(d.transport.requests().size() == 1);
    CHECK(d.clock.sleeps.empty());
    REQUIRE(d.reporter.warnings.size() == 1);
    CHECK(d.reporter.warnings[0] == "could not notify webhook http://127.0.0.1:1/... of the droplet.resize event: "
                                    "HTTP 503 (not retried: the receiver asked to wait 2m)");
  }

  TEST_CASE("one sink, two events from one process: two posts, the second honouring a 429 Retry-After")
  {
    test::FakeTransport transport;
    transport.reply(204, "");
    transport.reply(429, "", {{"retry-after", "3"}});
    transport.reply(204, "");
    test::FakeClock clock;
    test::RecordingReporter reporter;
    WebhookOptions options;
    options.urls = {"http://127.0.0.1:1/hook"};
    Webhooks sink(transport, clock, reporter, someone(), options);

    const auto first_at = clock.now();
    sink.emit(resize_event());
    clock.advance(std::chrono::minutes(1));
    auto second = resize_event();
    second.from = "s-8vcpu-16gb";
    second.to = "s-2vcpu-4gb";
    second.reason = "down";
    sink.emit(second);

    REQUIRE(transport.requests().size() == 3);
    const auto one = json::parse(transport.requests()[0].body);
    const auto two = json::parse(transport.requests()[1].body);
    CHECK(transport.requests()[2].body == transport.requests()[1].body);  // the retry posts the same body
    CHECK(one["reason"] == "up");
    CHECK(two["reason"] == "down");
    CHECK(two["time_ms"].get<std::int64_t>() - one["time_ms"].get<std::int64_t>() == 60'000);
    CHECK(one["time_ms"].get<std::int64_t>() ==
          std::chrono::duration_cast<std::chrono::milliseconds>(first_at.time_since_epoch()).count());
    CHECK(clock.now() - first_at == std::chrono::minutes(1) + std::chrono::seconds(3));  // Retry-After: 3
    CHECK(reporter.warnings.empty());
  }

  TEST_CASE("the sink skips events that do not notify")
  {
    test::FakeTransport transport;
    test::FakeClock clock;
    test::RecordingReporter reporter;
    WebhookOptions options;
    options.urls = {"http://127.0.0.1:1/hook"};
    Webhooks sink(transport, clock, reporter, someone(), options);
    auto quiet = resize_event();
    quiet.result = "noop";
    sink.emit(quiet);
    sink.emit(quiet);
    CHECK(transport.requests().empty());
  }
}
