#include <doctest/doctest.h>

#include <deque>
#include <variant>

#include <scalectl/clock.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/net/http.hpp>

#include "net/http_date.hpp"

using namespace std::chrono_literals;
using scalectl::ExitCode;
using scalectl::net::AttemptOutcome;
using scalectl::net::Request;
using scalectl::net::Response;
using scalectl::net::RetryPolicy;
using scalectl::net::TransportError;
using Kind = scalectl::net::TransportError::Kind;
using std::chrono::milliseconds;

namespace {

// Sun, 06 Nov 1994 08:49:37 GMT, the RFC 9110 example date.
constexpr double k_rfc_example_unix = 784111777.0;

const RetryPolicy k_policy{5, 500ms, 30'000ms};

AttemptOutcome status_outcome(long status, bool idempotent = true)
{
  AttemptOutcome outcome;
  outcome.status = status;
  outcome.request_is_idempotent = idempotent;
  return outcome;
}

AttemptOutcome transport_outcome(Kind kind, bool idempotent = true)
{
  AttemptOutcome outcome;
  outcome.transport_error = kind;
  outcome.request_is_idempotent = idempotent;
  return outcome;
}

std::optional<milliseconds> delay(const AttemptOutcome& outcome, int attempt = 1, double jitter = 0.0,
                                  double now = 1'700'000'000.0, const RetryPolicy& policy = k_policy)
{
  return scalectl::net::retry_delay(policy, attempt, outcome, jitter, now);
}

// A clock whose time only moves when sleep_for() is called; it records every sleep.
class FakeClock final : public scalectl::Clock {
 public:
  scalectl::SystemTime now() const override { return m_now; }
  std::chrono::steady_clock::time_point monotonic() const override
  {
    return std::chrono::steady_clock::time_point(m_now.time_since_epoch());
  }
  void sleep_for(scalectl::Millis duration) override
  {
    if (m_interrupt_on_sleep) {
      throw scalectl::Interrupted("interrupted (SIGINT) while waiting");
    }
    sleeps.push_back(duration);
    m_now += duration;
  }
  void set_unix(double seconds)
  {
    m_now = scalectl::SystemTime(std::chrono::duration_cast<scalectl::SystemTime::duration>(
      std::chrono::duration<double>(seconds)));
  }
  void interrupt_on_sleep() { m_interrupt_on_sleep = true; }

  std::vector<milliseconds> sleeps;

 private:
  scalectl::SystemTime m_now{std::chrono::seconds(1'700'000'000)};
  bool m_interrupt_on_sleep = false;
};

// A transport that plays back a script of responses and transport errors, recording each call.
class ScriptedTransport final : public scalectl::net::Transport {
 public:
  using Step = std::variant<Response, TransportError>;

  ScriptedTransport(std::vector<Step> script, int* calls) : m_script(script.begin(), script.end()), m_calls(calls) {}

  Response send(const Request& /*request*/) override
  {
    ++*m_calls;
    REQUIRE_FALSE(m_script.empty());
    Step step = m_script.front();
    if (m_script.size() > 1) {
      m_script.pop_front();  // the last step repeats forever
    }
    if (auto* error = std::get_if<TransportError>(&step)) {
      throw *error;
    }
    return std::get<Response>(step);
  }

 private:
  std::deque<Step> m_script;
  int* m_calls;
};

Response reply(long status, std::string body = {}, std::vector<scalectl::net::Header> headers = {})
{
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

struct Harness {
  FakeClock clock;
  int calls = 0;
  std::vector<std::string> log;
  std::unique_ptr<scalectl::net::Transport> transport;

  Harness(std::vector<ScriptedTransport::Step> script, RetryPolicy policy = k_policy)
  {
    transport = scalectl::net::make_retrying_transport(std::make_unique<ScriptedTransport>(std::move(script), &calls),
                                                       policy, clock,
                                                       [this](const std::string& line) { log.push_back(line); });
  }
};

Request request(std::string method, std::string url = "https://api.example.test/v2/droplets")
{
  Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.headers.push_back({"Authorization", "Bearer dop_v1_secret_token"});
  return r;
}

}  // namespace

TEST_SUITE("net.retry")
{
  TEST_CASE("statuses: only 429 and 5xx gateway/unavailable codes are retried")
  {
    for (const long status : {200L, 201L, 202L, 204L, 301L, 302L, 304L, 400L, 401L, 403L, 404L, 409L, 422L, 501L,
                              505L}) {
      CAPTURE(status);
      CHECK_FALSE(delay(status_outcome(status)).has_value());
      CHECK_FALSE(delay(status_outcome(status, false)).has_value());
    }
    for (const long status : {429L, 500L, 502L, 503L, 504L}) {
      CAPTURE(status);
      CHECK(delay(status_outcome(status)) == 250ms);
    }
  }

  TEST_CASE("a request that is not idempotent is replayed only when the server cannot have acted")
  {
    CHECK(delay(status_outcome(429, false)) == 250ms);
    CHECK(delay(status_outcome(503, false)) == 250ms);
    CHECK_FALSE(delay(status_outcome(500, false)).has_value());
    CHECK_FALSE(delay(status_outcome(502, false)).has_value());
    CHECK_FALSE(delay(status_outcome(504, false)).has_value());
    CHECK(delay(transport_outcome(Kind::connect, false)) == 250ms);
    CHECK_FALSE(delay(transport_outcome(Kind::timeout, false)).has_value());
    CHECK_FALSE(delay(transport_outcome(Kind::dropped, false)).has_value());
  }

  TEST_CASE("transport errors: connect, timeout and dropped are retried; TLS and other are not")
  {
    CHECK(delay(transport_outcome(Kind::connect)) == 250ms);
    CHECK(delay(transport_outcome(Kind::timeout)) == 250ms);
    CHECK(delay(transport_outcome(Kind::dropped)) == 250ms);
    CHECK_FALSE(delay(transport_outcome(Kind::tls)).has_value());
    CHECK_FALSE(delay(transport_outcome(Kind::other)).has_value());
    CHECK_FALSE(delay(transport_outcome(Kind::tls, false)).has_value());
    CHECK_FALSE(delay(AttemptOutcome{}).has_value());
  }

  TEST_CASE("backoff doubles from base_delay and is capped at max_delay, with equal jitter")
  {
    const RetryPolicy policy{20, 500ms, 30'000ms};
    const auto outcome = status_outcome(503);
    // jitter 0 gives half the backoff, jitter 0.5 three quarters.
    CHECK(delay(outcome, 1, 0.0, 0, policy) == 250ms);
    CHECK(delay(outcome, 2, 0.0, 0, policy) == 500ms);
    CHECK(delay(outcome, 3, 0.0, 0, policy) == 1000ms);
    CHECK(delay(outcome, 4, 0.0, 0, policy) == 2000ms);
    CHECK(delay(outcome, 4, 0.5, 0, policy) == 3000ms);
    CHECK(delay(outcome, 7, 0.0, 0, policy) == 15'000ms);  // 500 * 64 = 32 s, capped at 30 s
    CHECK(delay(outcome, 7, 0.5, 0, policy) == 22'500ms);
    CHECK(delay(outcome, 19, 0.0, 0, policy) == 15'000ms);
    const RetryPolicy huge{2000, 500ms, 30'000ms};
    CHECK(delay(outcome, 1500, 0.0, 0, huge) == 15'000ms);  // no overflow for absurd attempt numbers
  }

  TEST_CASE("jitter keeps every delay within [backoff/2, backoff]")
  {
    const auto outcome = status_outcome(502);
    for (int attempt = 1; attempt <= 4; ++attempt) {
      const milliseconds backoff = 500ms * (1 << (attempt - 1));
      for (const double jitter : {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999}) {
        CAPTURE(attempt);
        CAPTURE(jitter);
        const auto d = delay(outcome, attempt, jitter);
        REQUIRE(d.has_value());
        CHECK(*d >= backoff / 2);
        CHECK(*d <= backoff);
      }
    }
    // Out-of-range jitter from a careless caller is clamped.
    CHECK(delay(outcome, 1, -3.0) == 250ms);
    CHECK(delay(outcome, 1, 7.0) == 500ms);
  }

  TEST_CASE("max_attempts counts the first try")
  {
    const auto outcome = status_outcome(503);
    CHECK(delay(outcome, 4).has_value());
    CHECK_FALSE(delay(outcome, 5).has_value());
    CHECK_FALSE(delay(outcome, 6).has_value());
    CHECK_FALSE(delay(outcome, 1, 0.0, 0, RetryPolicy{1, 500ms, 30'000ms}).has_value());
    CHECK_FALSE(delay(outcome, 1, 0.0, 0, RetryPolicy{0, 500ms, 30'000ms}).has_value());
    CHECK_FALSE(delay(outcome, 0).has_value());
  }

  TEST_CASE("retry-after in seconds is honoured when longer than the backoff")
  {
    auto outcome = status_outcome(503);
    outcome.retry_after = "3";
    CHECK(delay(outcome) == 3000ms);
    outcome.retry_after = " 0 ";
    CHECK(delay(outcome) == 250ms);
    outcome.retry_after = "120";  // beyond max_delay but within the 5 min ceiling
    CHECK(delay(outcome) == 120'000ms);
    outcome.retry_after = "300";
    CHECK(delay(outcome) == 300'000ms);
    outcome.retry_after = "301";  // longer than anyone should block: give up and report
    CHECK_FALSE(delay(outcome).has_value());
    outcome.retry_after = "soon";
    CHECK(delay(outcome) == 250ms);
    outcome.retry_after = "-5";
    CHECK(delay(outcome) == 250ms);
    outcome.retry_after = "1.5";  // not delta-seconds per RFC 9110: ignored
    CHECK(delay(outcome) == 250ms);
  }

  TEST_CASE("retry-after as an HTTP-date is relative to now")
  {
    auto outcome = status_outcome(429);
    outcome.retry_after = "Sun, 06 Nov 1994 08:49:47 GMT";
    CHECK(delay(outcome, 1, 0.0, k_rfc_example_unix) == 10'000ms);
    CHECK(delay(outcome, 1, 0.0, k_rfc_example_unix + 0.25) == 9750ms);
    outcome.retry_after = "Sun, 06 Nov 1994 08:49:00 GMT";  // already passed
    CHECK(delay(outcome, 1, 0.0, k_rfc_example_unix) == 250ms);
    outcome.retry_after = "Sun, 06 Nov 1994 09:49:37 GMT";  // an hour away
    CHECK_FALSE(delay(outcome, 1, 0.0, k_rfc_example_unix).has_value());
  }

  TEST_CASE("ratelimit-reset is honoured for a 429 when the quota is spent")
  {
    const double now = 1'700'000'000.5;
    auto outcome = status_outcome(429);
    outcome.ratelimit_reset = "1700000012";
    CHECK(delay(outcome, 1, 0.0, now) == 11'500ms);
    outcome.ratelimit_remaining = "0";
    CHECK(delay(outcome, 1, 0.0, now) == 11'500ms);
    outcome.ratelimit_remaining = "37";  // the burst limit, not the hourly quota: back off normally
    CHECK(delay(outcome, 1, 0.0, now) == 250ms);
    outcome.ratelimit_remaining.reset();
    outcome.ratelimit_reset = "1699999990";  // in the past
    CHECK(delay(outcome, 1, 0.0, now) == 250ms);
    outcome.ratelimit_reset = "7";  // small values are delta seconds
    CHECK(delay(outcome, 1, 0.0, now) == 7000ms);
    outcome.ratelimit_reset = "1700003600";  // about an hour: not worth blocking for
    CHECK_FALSE(delay(outcome, 1, 0.0, now).has_value());
    outcome.ratelimit_reset = "tomorrow";
    CHECK(delay(outcome, 1, 0.0, now) == 250ms);
  }

  TEST_CASE("ratelimit-reset is ignored for other statuses and yields to retry-after")
  {
    const double now = 1'700'000'000.0;
    auto outcome = status_outcome(503);
    outcome.ratelimit_reset = "1700000020";
    CHECK(delay(outcome, 1, 0.0, now) == 250ms);
    outcome = status_outcome(429);
    outcome.ratelimit_reset = "1700000020";
    outcome.retry_after = "2";
    CHECK(delay(outcome, 1, 0.0, now) == 2000ms);
  }

  TEST_CASE("a server hint never shortens the backoff")
  {
    auto outcome = status_outcome(503);
    outcome.retry_after = "1";
    CHECK(delay(outcome, 4, 0.0) == 2000ms);
    CHECK(delay(outcome, 1, 0.0) == 1000ms);
  }

  TEST_CASE("HTTP-date accepts the three RFC 9110 formats and nothing else")
  {
    using scalectl::net::parse_http_date;
    CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == k_rfc_example_unix);
    CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == k_rfc_example_unix);
    CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == k_rfc_example_unix);
    CHECK(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT") == 0.0);
    CHECK(parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT") == 1835438400.0);
    CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST").has_value());
    CHECK_FALSE(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT").has_value());
    CHECK_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT").has_value());
    CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT").has_value());
    CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT trailing").has_value());
    CHECK_FALSE(parse_http_date("1994-11-06T08:49:37Z").has_value());
    CHECK_FALSE(parse_http_date("").has_value());
  }

  TEST_CASE("idempotent methods per RFC 9110")
  {
    using scalectl::net::is_idempotent;
    for (const char* method : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"}) {
      CHECK(is_idempotent(method));
    }
    for (const char* method : {"POST", "PATCH", "CONNECT", "get", ""}) {
      CHECK_FALSE(is_idempotent(method));
    }
  }

  TEST_CASE("decorator: retries 503 and returns the first success")
  {
    Harness h({reply(503, "busy"), reply(503, "busy"), reply(200, "done")});
    const Response response = h.transport->send(request("GET", "https://api.example.test/v2/droplets?page=2"));
    CHECK(response.status == 200);
    CHECK(response.body == "done");
    CHECK(h.calls == 3);
    REQUIRE(h.clock.sleeps.size() == 2);
    CHECK(h.clock.sleeps[0] >= 250ms);
    CHECK(h.clock.sleeps[0] <= 500ms);
    CHECK(h.clock.sleeps[1] >= 500ms);
    CHECK(h.clock.sleeps[1] <= 1000ms);
    REQUIRE(h.log.size() == 2);
    CHECK(h.log[0].starts_with("retrying GET /v2/droplets?page=2 after 503 in "));
    CHECK(h.log[0].ends_with(" (attempt 2/5)"));
    CHECK(h.log[1].ends_with(" (attempt 3/5)"));
    for (const auto& line : h.log) {
      CHECK(line.find("secret") == std::string::npos);
    }
  }

  TEST_CASE("decorator: after the last attempt the last response is returned")
  {
    Harness h({reply(503, "first"), reply(502, "second"), reply(504, "third")}, RetryPolicy{3, 100ms, 1000ms});
    const Response response = h.transport->send(request("GET"));
    CHECK(response.status == 504);
    CHECK(response.body == "third");
    CHECK(h.calls == 3);
    CHECK(h.clock.sleeps.size() == 2);
    CHECK(h.log.size() == 2);
  }

  TEST_CASE("decorator: 4xx other than 429 is returned at once")
  {
    for (const long status : {400L, 401L, 403L, 404L, 422L}) {
      Harness h({reply(status, "no")});
      CHECK(h.transport->send(request("POST")).status == status);
      CHECK(h.calls == 1);
      CHECK(h.clock.sleeps.empty());
      CHECK(h.log.empty());
    }
  }

  TEST_CASE("decorator: connect errors are retried even for POST")
  {
    Harness h({TransportError(Kind::connect, "POST https://api.example.test/v2/droplets/1/actions: refused"),
               reply(201, "created")});
    const Response response = h.transport->send(request("POST", "https://api.example.test/v2/droplets/1/actions"));
    CHECK(response.status == 201);
    CHECK(h.calls == 2);
    REQUIRE(h.log.size() == 1);
    CHECK(h.log[0].starts_with("retrying POST /v2/droplets/1/actions after connection failure in "));
  }

  TEST_CASE("decorator: a POST that timed out is not replayed")
  {
    Harness h({TransportError(Kind::timeout, "POST https://api.example.test/v2/droplets: timed out"), reply(201)});
    try {
      h.transport->send(request("POST"));
      FAIL("expected a TransportError");
    } catch (const TransportError& error) {
      CHECK(error.kind() == Kind::timeout);
      CHECK(std::string(error.what()) == "POST https://api.example.test/v2/droplets: timed out");
    }
    CHECK(h.calls == 1);
    CHECK(h.clock.sleeps.empty());
  }

  TEST_CASE("decorator: a POST that got 500 is not replayed, a POST that got 503 is")
  {
    Harness h500({reply(500, "oops"), reply(201)});
    CHECK(h500.transport->send(request("POST")).status == 500);
    CHECK(h500.calls == 1);
    Harness h503({reply(503, "later"), reply(201)});
    CHECK(h503.transport->send(request("POST")).status == 201);
    CHECK(h503.calls == 2);
  }

  TEST_CASE("decorator: the last transport error is rethrown")
  {
    Harness h({TransportError(Kind::dropped, "first"), TransportError(Kind::timeout, "second"),
               TransportError(Kind::dropped, "third")},
              RetryPolicy{3, 10ms, 100ms});
    try {
      h.transport->send(request("GET"));
      FAIL("expected a TransportError");
    } catch (const TransportError& error) {
      CHECK(error.kind() == Kind::dropped);
      CHECK(std::string(error.what()) == "third");
      CHECK(error.code() == ExitCode::failure);
    }
    CHECK(h.calls == 3);
    CHECK(h.clock.sleeps.size() == 2);
    REQUIRE(h.log.size() == 2);
    CHECK(h.log[0].find("after dropped connection") != std::string::npos);
    CHECK(h.log[1].find("after timeout") != std::string::npos);
  }

  TEST_CASE("decorator: retry-after and ratelimit-reset set the sleep")
  {
    Harness h({reply(429, "", {{"Retry-After", "7"}}), reply(200)});
    CHECK(h.transport->send(request("GET")).status == 200);
    REQUIRE(h.clock.sleeps.size() == 1);
    CHECK(h.clock.sleeps[0] == 7000ms);
    CHECK(h.log.at(0).find("after 429 in 7s (attempt 2/5)") != std::string::npos);

    Harness reset({reply(429, "", {{"RateLimit-Remaining", "0"}, {"RateLimit-Reset", "1700000004"}}), reply(200)});
    reset.clock.set_unix(1'700'000'000.0);
    CHECK(reset.transport->send(request("GET")).status == 200);
    REQUIRE(reset.clock.sleeps.size() == 1);
    CHECK(reset.clock.sleeps[0] == 4000ms);
  }

  TEST_CASE("decorator: an interrupted sleep ends the request")
  {
    Harness h({reply(503), reply(200)});
    h.clock.interrupt_on_sleep();
    try {
      h.transport->send(request("GET"));
      FAIL("expected Interrupted");
    } catch (const scalectl::Interrupted& interruption) {
      CHECK(std::string(interruption.what()).find("interrupted") == 0);
    }
    CHECK(h.calls == 1);
  }

  TEST_CASE("decorator: errors that are not transport errors pass straight through")
  {
    struct Failing final : scalectl::net::Transport {
      int calls = 0;
      Response send(const Request&) override
      {
        ++calls;
        throw scalectl::Error(ExitCode::failure, "cannot load libcurl.so.4 (missing); install the libcurl4 package");
      }
    };
    auto inner = std::make_unique<Failing>();
    Failing* failing = inner.get();
    FakeClock clock;
    auto transport = scalectl::net::make_retrying_transport(std::move(inner), k_policy, clock);
    CHECK_THROWS_WITH_AS(transport->send(request("GET")),
                         "cannot load libcurl.so.4 (missing); install the libcurl4 package", scalectl::Error);
    CHECK(failing->calls == 1);
    CHECK(clock.sleeps.empty());
  }

  TEST_CASE("decorator: secret query values are redacted in the retry log")
  {
    Harness h({reply(503), reply(200)});
    h.transport->send(request("GET", "https://user:pw@api.example.test/v2/x?page=1&access_token=abc123"));
    REQUIRE(h.log.size() == 1);
    CHECK(h.log[0].starts_with("retrying GET /v2/x?page=1&access_token=REDACTED after 503 in "));
    CHECK(h.log[0].find("abc123") == std::string::npos);
    CHECK(h.log[0].find("pw") == std::string::npos);
  }
}
