#include <scalectl/net/http.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <random>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>

#include "net/http_date.hpp"
#include "net/url.hpp"

namespace scalectl::net {

namespace {

using Kind = TransportError::Kind;

// Unix times below this are read as delta seconds (the IETF RateLimit draft) rather than an epoch.
constexpr double k_min_epoch = 1e9;

std::string_view trim(std::string_view text)
{
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

bool all_digits(std::string_view text)
{
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// Returns a non-negative decimal number, or nullopt.
std::optional<double> parse_number(std::string_view text)
{
  text = trim(text);
  if (text.empty() || text.size() > 32 || std::isdigit(static_cast<unsigned char>(text.front())) == 0) {
    return std::nullopt;
  }
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// Returns the wait that `retry-after` asks for, in seconds.
std::optional<double> retry_after_seconds(std::string_view raw, double now_unix)
{
  raw = trim(raw);
  if (all_digits(raw)) {
    return parse_number(raw);
  }
  if (const auto when = parse_http_date(raw)) {
    return std::max(0.0, *when - now_unix);
  }
  return std::nullopt;
}

// Returns the wait that `ratelimit-reset` asks for, in seconds, when the quota is spent.
std::optional<double> ratelimit_reset_seconds(const AttemptOutcome& outcome, double now_unix)
{
  if (!outcome.ratelimit_reset) {
    return std::nullopt;
  }
  // DigitalOcean also answers 429 for its per-minute burst limit while the hourly quota still has
  // room; then ratelimit-reset describes the hourly window and says nothing about this 429.
  if (outcome.ratelimit_remaining) {
    const auto remaining = parse_number(*outcome.ratelimit_remaining);
    if (remaining && *remaining > 0) {
      return std::nullopt;
    }
  }
  const auto reset = parse_number(*outcome.ratelimit_reset);
  if (!reset) {
    return std::nullopt;
  }
  return *reset >= k_min_epoch ? std::max(0.0, *reset - now_unix) : *reset;
}

std::optional<double> server_hint_seconds(const AttemptOutcome& outcome, double now_unix)
{
  if (outcome.retry_after) {
    if (const auto seconds = retry_after_seconds(*outcome.retry_after, now_unix)) {
      return seconds;
    }
  }
  if (outcome.status == 429) {
    return ratelimit_reset_seconds(outcome, now_unix);
  }
  return std::nullopt;
}

bool is_retryable(const AttemptOutcome& outcome)
{
  if (outcome.status) {
    switch (*outcome.status) {
      case 429:  // rate limited: the request was not processed
      case 503:  // unavailable: the request was not processed
        return true;
      case 500:
      case 502:
      case 504:  // the server, or the one behind the gateway, may have acted
        return outcome.request_is_idempotent;
      default:
        return false;
    }
  }
  if (outcome.transport_error) {
    switch (*outcome.transport_error) {
      case Kind::connect:
        return true;  // nothing reached the server
      case Kind::timeout:
      case Kind::dropped:
        return outcome.request_is_idempotent;
      case Kind::tls:
      case Kind::other:
        return false;
    }
  }
  return false;
}

std::string describe(const AttemptOutcome& outcome)
{
  if (outcome.status) {
    return std::to_string(*outcome.status);
  }
  switch (outcome.transport_error.value_or(Kind::other)) {
    case Kind::connect:
      return "connection failure";
    case Kind::timeout:
      return "timeout";
    case Kind::dropped:
      return "dropped connection";
    case Kind::tls:
      return "TLS error";
    case Kind::other:
      break;
  }
  return "transport error";
}

// Retries the inner transport per the policy; see make_retrying_transport().
class RetryingTransport final : public Transport {
 public:
  RetryingTransport(std::unique_ptr<Transport> inner, RetryPolicy policy, Clock& clock, RequestLog log)
      : m_inner(std::move(inner)),
        m_policy(policy),
        m_clock(clock),
        m_log(std::move(log)),
        m_random(std::random_device{}())
  {
  }

  Response send(const Request& request) override
  {
    const bool idempotent = is_idempotent(request.method);
    for (int attempt = 1;; ++attempt) {
      AttemptOutcome outcome;
      outcome.request_is_idempotent = idempotent;
      std::optional<Response> response;
      std::exception_ptr failure;
      try {
        response = m_inner->send(request);
        outcome.status = response->status;
        outcome.retry_after = response->header("retry-after");
        outcome.ratelimit_reset = response->header("ratelimit-reset");
        outcome.ratelimit_remaining = response->header("ratelimit-remaining");
      } catch (const TransportError& error) {
        outcome.transport_error = error.kind();
        failure = std::current_exception();
      }
      const double jitter = std::uniform_real_distribution<double>(0.0, 1.0)(m_random);
      const auto delay = retry_delay(m_policy, attempt, outcome, jitter, unix_seconds(m_clock.now()));
      if (!delay) {
        if (failure) {
          std::rethrow_exception(failure);
        }
        return std::move(*response);
      }
      if (m_log) {
        m_log(fmt::format("retrying {} {} after {} in {} (attempt {}/{})", request.method,
                          redacted_target(request.url), describe(outcome), format_duration(*delay), attempt + 1,
                          m_policy.max_attempts));
      }
      m_clock.sleep_for(*delay);
    }
  }

 private:
  std::unique_ptr<Transport> m_inner;
  RetryPolicy m_policy;
  Clock& m_clock;
  RequestLog m_log;
  std::mt19937_64 m_random;
};

}  // namespace

bool is_idempotent(std::string_view method)
{
  static constexpr std::array<std::string_view, 6> k_idempotent{"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"};
  return std::find(k_idempotent.begin(), k_idempotent.end(), method) != k_idempotent.end();
}

std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, int attempt,
                                                     const AttemptOutcome& outcome, double jitter, double now_unix)
{
  if (attempt < 1 || attempt >= policy.max_attempts || !is_retryable(outcome)) {
    return std::nullopt;
  }
  const double max_ms = static_cast<double>(std::max<std::int64_t>(0, policy.max_delay.count()));
  const double base_ms = static_cast<double>(std::max<std::int64_t>(0, policy.base_delay.count()));
  const double backoff_ms = std::min(max_ms, base_ms * std::exp2(std::min(attempt - 1, 62)));
  // Equal jitter: at least half the backoff, so a struggling server always gets a real pause.
  double delay_ms = backoff_ms / 2.0 + backoff_ms / 2.0 * std::clamp(jitter, 0.0, 1.0);
  if (const auto hint_seconds = server_hint_seconds(outcome, now_unix)) {
    const double hint_ms = std::ceil(*hint_seconds * 1000.0);
    if (hint_ms > static_cast<double>(k_max_server_hint.count())) {
      return std::nullopt;
    }
    delay_ms = std::max(delay_ms, hint_ms);
  }
  return std::chrono::milliseconds(std::llround(delay_ms));
}

std::unique_ptr<Transport> make_retrying_transport(std::unique_ptr<Transport> inner, RetryPolicy policy,
                                                   Clock& clock, RequestLog log)
{
  return std::make_unique<RetryingTransport>(std::move(inner), policy, clock, std::move(log));
}

}  // namespace scalectl::net
