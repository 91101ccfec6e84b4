#include "sinks/webhooks.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/net/http.hpp>
#include <scalectl/report.hpp>

#include "sinks/event_record.hpp"

namespace scalectl::sinks {

using nlohmann::json;

namespace {

constexpr std::chrono::milliseconds k_first_backoff{250};
constexpr std::chrono::milliseconds k_max_backoff{2'000};

std::string transport_words(net::TransportError::Kind kind)
{
  switch (kind) {
  case net::TransportError::Kind::connect:
    return "could not connect";
  case net::TransportError::Kind::timeout:
    return "timed out";
  case net::TransportError::Kind::dropped:
    return "connection dropped";
  case net::TransportError::Kind::tls:
    return "TLS failed";
  case net::TransportError::Kind::other:
    break;
  }
  return "request failed";
}

// Posts `body` to `url` until it is taken or retry_delay says stop; returns "" or why it failed.
std::string deliver_one(net::Transport& transport, Clock& clock, const std::string& url, const std::string& body,
                        const net::RetryPolicy& policy, const Jitter& jitter)
{
  net::Request request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Content-Type", "application/json"}};
  request.body = body;
  for (int attempt = 1;; ++attempt) {
    net::AttemptOutcome outcome;
    outcome.request_is_idempotent = true;  // at-least-once: a duplicate notice is harmless
    std::string failure;
    try {
      const auto response = transport.send(request);
      if (response.status >= 200 && response.status < 300) {
        return "";
      }
      failure = fmt::format("HTTP {}", response.status);
      outcome.status = response.status;
      outcome.retry_after = response.header("retry-after");
    } catch (const net::TransportError& e) {
      failure = transport_words(e.kind());
      outcome.transport_error = e.kind();
    }
    const auto delay = net::retry_delay(policy, attempt, outcome, jitter(), unix_seconds(clock.now()));
    if (!delay) {
      if (attempt < policy.max_attempts) {
        return failure + " (not retried)";
      }
      return attempt > 1 ? fmt::format("{} after {} attempts", failure, attempt) : failure;
    }
    if (*delay > k_max_webhook_wait) {
      return fmt::format("{} (not retried: the receiver asked to wait {})", failure, format_duration(*delay));
    }
    clock.sleep_for(*delay);
  }
}

}  // namespace

bool should_notify(const Event& event)
{
  if (event.details.is_object() && event.details.contains("notify") && event.details["notify"].is_boolean()) {
    return event.details["notify"].get<bool>();
  }
  return !event.what.starts_with("capacity.") && event.result != "noop";
}

std::string event_summary(const Event& event, const state::LockOwner& who)
{
  std::string change;
  if (!event.from.empty() || !event.to.empty()) {
    change = fmt::format(": {} -> {}", event.from.empty() ? "?" : event.from, event.to.empty() ? "?" : event.to);
  }
  return fmt::format("{} {}{} {} in {}{} by {}@{}", event.what, event.resource, change, event.result,
                     format_duration(event.duration), event.reason.empty() ? "" : " (" + event.reason + ")",
                     who.user, who.host);
}

json notification_body(const Event& event, const state::LockOwner& who, std::string_view format)
{
  const std::string summary = event_summary(event, who);
  if (format == "slack") {
    return {{"text", "scalectl: " + summary}};
  }
  json body = event_record(event, who);
  body["source"] = "scalectl";
  body["version"] = SCALECTL_VERSION;
  body["summary"] = summary;
  return body;
}

std::string webhook_display(std::string_view url)
{
  std::string_view scheme;
  std::string_view rest = url;
  if (const auto end = url.find("://"); end != std::string_view::npos) {
    scheme = url.substr(0, end + 3);
    rest = url.substr(end + 3);
  }
  const auto authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view host = rest.substr(0, authority_end);
  if (const auto at = host.rfind('@'); at != std::string_view::npos) {
    host = host.substr(at + 1);
  }
  std::string out = std::string(scheme) + std::string(host);
  const std::string_view tail = rest.substr(authority_end);
  if (!tail.empty() && tail != "/") {
    out += "/...";
  }
  return out;
}

void deliver_webhooks(net::Transport& transport, Clock& clock, Reporter& reporter, const WebhookOptions& options,
                      const std::string& body, std::string_view what, const Jitter& jitter)
{
  net::RetryPolicy policy;
  policy.max_attempts = std::max(0, options.retries) + 1;
  policy.base_delay = k_first_backoff;
  policy.max_delay = k_max_backoff;
  for (const auto& url : options.urls) {
    std::string failure;
    try {
      failure = deliver_one(transport, clock, url, body, policy, jitter);
    } catch (const Interrupted&) {
      failure = "interrupted";
    } catch (const Error&) {
      failure = "request failed";
    }
    if (!failure.empty()) {
      reporter.warn(fmt::format("could not notify webhook {} of the {} event: {}", webhook_display(url), what,
                                failure));
      if (failure == "interrupted") {
        return;
      }
    }
  }
}

Webhooks::Webhooks(net::Transport& transport, Clock& clock, Reporter& reporter, state::LockOwner who,
                   WebhookOptions options, Jitter jitter)
    : m_transport(transport),
      m_clock(clock),
      m_reporter(reporter),
      m_who(std::move(who)),
      m_options(std::move(options)),
      m_jitter(std::move(jitter)),
      m_random(std::random_device{}())
{
  if (!m_jitter) {
    m_jitter = [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(m_random); };
  }
}

void Webhooks::emit(const Event& event)
{
  if (!should_notify(event)) {
    return;
  }
  const auto body = notification_body(event, stamped(m_who, m_clock), m_options.format).dump();
  deliver_webhooks(m_transport, m_clock, m_reporter, m_options, body, event.what, m_jitter);
}

}  // namespace scalectl::sinks
