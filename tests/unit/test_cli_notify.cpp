#include <doctest/doctest.h>

#include <scalectl/clock.hpp>
#include <scalectl/report.hpp>
#include <scalectl/state/store.hpp>

#include "cli/notify.hpp"
#include "support/fake_transport.hpp"

using namespace scalectl;
using namespace scalectl::cli;
using nlohmann::json;

namespace {

class NoSleepClock final : public Clock {
 public:
  SystemTime now() const override { return SystemTime(std::chrono::seconds(1'700'000'000)); }
  std::chrono::steady_clock::time_point monotonic() const override { return {}; }
  void sleep_for(Millis d) override { sleeps.push_back(d); }
  std::vector<Millis> sleeps;
};

class Recorder final : public Reporter {
 public:
  void step(std::string_view) override {}
  void progress(std::string_view, std::chrono::milliseconds) override {}
  void warn(std::string_view m) override { warnings.emplace_back(m); }
  void detail(std::string_view) override {}
  std::vector<std::string> warnings;
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

const std::string k_slack = "https://user:pw@hooks.slack.com/services/T000/B000/SECRETSECRET";

}  // namespace

TEST_SUITE("cli.notify")
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
    test::FakeTransport transport;
    transport.reply(204, "");
    NoSleepClock clock;
    Recorder reporter;
    WebhookOptions options;
    options.urls = {"http://127.0.0.1:1/hook"};
    deliver_webhooks(transport, clock, reporter, options, "{\"a\":1}", "droplet.resize");
    REQUIRE(transport.requests().size() == 1);
    const auto& request = transport.requests()[0];
    CHECK(request.method == "POST");
    CHECK(request.url == "http://127.0.0.1:1/hook");
    CHECK(request.body == "{\"a\":1}");
    REQUIRE(request.headers.size() == 1);
    CHECK(request.headers[0].name == "Content-Type");
    CHECK(reporter.warnings.empty());
    CHECK(clock.sleeps.empty());
  }

  TEST_CASE("5xx and transport errors are retried, then one warning without the secret")
  {
    test::FakeTransport transport;
    transport.reply(500, "");
    transport.reply(503, "");
    transport.reply(502, "");
    NoSleepClock clock;
    Recorder reporter;
    WebhookOptions options;
    options.urls = {k_slack, "http://127.0.0.1:1/ok"};
    options.retries = 2;
    transport.reply(200, "");  // the second webhook
    deliver_webhooks(transport, clock, reporter, options, "{}", "droplet.resize");
    CHECK(transport.requests().size() == 4);
    CHECK(clock.sleeps == std::vector<Millis>{Millis(250), Millis(500)});
    REQUIRE(reporter.warnings.size() == 1);
    CHECK(reporter.warnings[0] ==
          "could not notify webhook https://hooks.slack.com/... of the droplet.resize event: HTTP 502 after 3 attempts");
    CHECK(reporter.warnings[0].find("SECRET") == std::string::npos);
    CHECK(reporter.warnings[0].find("user") == std::string::npos);

    test::FakeTransport unreachable;  // no canned replies: every send is a connect error
    Recorder second;
    options.urls = {k_slack};
    options.retries = 1;
    deliver_webhooks(unreachable, clock, second, options, "{}", "app.scale");
    CHECK(unreachable.requests().size() == 2);
    REQUIRE(second.warnings.size() == 1);
    CHECK(second.warnings[0] ==
          "could not notify webhook https://hooks.slack.com/... of the app.scale event: could not connect after 2 "
          "attempts");
  }

  TEST_CASE("a 4xx answer is final")
  {
    test::FakeTransport transport;
    transport.reply(404, "");
    NoSleepClock clock;
    Recorder reporter;
    WebhookOptions options;
    options.urls = {"http://127.0.0.1:1/gone"};
    deliver_webhooks(transport, clock, reporter, options, "{}", "droplet.resize");
    CHECK(transport.requests().size() == 1);
    REQUIRE(reporter.warnings.size() == 1);
    CHECK(reporter.warnings[0] ==
          "could not notify webhook http://127.0.0.1:1/... of the droplet.resize event: HTTP 404 (not retried)");
  }
}
