#pragma once
// Webhook notifications of scaling events: which events, the JSON or Slack body, and a bounded
// delivery that never changes the command's outcome. The DigitalOcean client is never used here,
// so the API token cannot reach a webhook.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <scalectl/events.hpp>

namespace scalectl {
class Clock;
class Reporter;
namespace net {
class Transport;
}
namespace state {
struct LockOwner;
}
}  // namespace scalectl

namespace scalectl::cli {

struct WebhookOptions {
  std::vector<std::string> urls;
  std::string format = "json";  // "json" or "slack"
  std::chrono::milliseconds timeout{5'000};
  int retries = 2;
};

// Returns true when `event` is a scaling event worth a notification: details.notify decides when
// present (capacity commands set it for --notify); otherwise every event except capacity ones and
// "noop" results (a nightly `down` that finds nothing to do stays quiet).
bool should_notify(const Event& event);

// Returns the one-line human summary of `event`, e.g.
// "droplet.resize droplet-1: s-2vcpu-4gb -> s-8vcpu-16gb ok in 2m10s (up) by root@worker-1".
std::string event_summary(const Event& event, const state::LockOwner& who);

// Returns the body posted for `event`: the full event as JSON, or {"text": summary} for "slack".
nlohmann::json notification_body(const Event& event, const state::LockOwner& who, std::string_view format);

// Returns `url` reduced to scheme://host[:port], plus "/..." when it had more: webhook URLs
// (Slack's among them) carry their secret in the path, and userinfo is a secret too.
std::string webhook_display(std::string_view url);

// Posts `body` to every webhook, each with up to options.retries retries (transport errors, 429
// and 5xx; other answers are final). Never throws: each webhook that still fails is one warning.
void deliver_webhooks(net::Transport& transport, Clock& clock, Reporter& reporter, const WebhookOptions& options,
                      const std::string& body, std::string_view what);

}  // namespace scalectl::cli
