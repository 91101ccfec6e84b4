#include "cli/notify.hpp"

#include "cli/context.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/net/http.hpp>
#include <scalectl/report.hpp>
#include <scalectl/state/store.hpp>

namespace scalectl::cli {

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
                      const std::string& body, std::string_view what)
{
  const int attempts = std::max(0, options.retries) + 1;
  for (const auto& url : options.urls) {
    std::string failure;
    try {
      auto backoff = k_first_backoff;
      for (int attempt = 1; attempt <= attempts; ++attempt) {
        bool retry = true;
        try {
          net::Request request;
          request.method = "POST";
          request.url = url;
          request.headers = {{"Content-Type", "application/json"}};
          request.body = body;
          const auto response = transport.send(request);
          if (response.status >= 200 && response.status < 300) {
            failure.clear();
            break;
          }
          failure = fmt::format("HTTP {}", response.status);
          retry = response.status == 429 || response.status >= 500;
        } catch (const net::TransportError& e) {
          failure = transport_words(e.kind());
        }
        if (!retry) {
          failure += " (not retried)";
          break;
        }
        if (attempt < attempts) {
          clock.sleep_for(backoff);
          backoff = std::min(backoff * 2, k_max_backoff);
        } else if (attempts > 1) {
          failure += fmt::format(" after {} attempts", attempts);
        }
      }
    } catch (const Error& e) {
      failure = e.code() == ExitCode::interrupted ? "interrupted" : "request failed";
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

}  // namespace scalectl::cli
