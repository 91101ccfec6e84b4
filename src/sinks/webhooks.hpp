#pragma once
// The webhook sink: which events notify, the JSON or Slack body, and a bounded delivery whose
// retries follow net::retry_delay (Retry-After included). Its transport is never the DigitalOcean
// client's, so the API token cannot reach a webhook.

#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <scalectl/events.hpp>
#include <scalectl/state/store.hpp>

namespace scalectl {
class Clock;
class Reporter;
namespace net {
class Transport;
}
}  // namespace scalectl

namespace scalectl::sinks {

struct WebhookOptions {
  std::vector<std::string> urls;
  std::string format = "json";  // "json" or "slack"
  std::chrono::milliseconds timeout{5'000};
  int retries = 2;
};

// The longest Retry-After a webhook delivery waits out; a longer one ends its retries.
inline constexpr std::chrono::milliseconds k_max_webhook_wait{30'000};

// Returns a number in [0, 1) for the random part of a retry backoff.
using Jitter = std::function<double()>;

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

// Posts `body` to every webhook, each with up to options.retries retries as net::retry_delay
// decides (a POST counts as replayable: a duplicate notice is harmless, a lost one is not),
// sleeping on `clock` and honouring Retry-After up to k_max_webhook_wait. Never throws: each
// webhook that still fails is one warning; an interruption ends the delivery.
void deliver_webhooks(net::Transport& transport, Clock& clock, Reporter& reporter, const WebhookOptions& options,
                      const std::string& body, std::string_view what, const Jitter& jitter);

class Webhooks final : public EventSink {
 public:
  // Webhooks posted over `transport`, stamped with `clock`'s time and `who`; `jitter` defaults to random.
  Webhooks(net::Transport& transport, Clock& clock, Reporter& reporter, state::LockOwner who, WebhookOptions options,
           Jitter jitter = {});
  Webhooks(const Webhooks&) = delete;
  Webhooks& operator=(const Webhooks&) = delete;

  // Posts the event's body to every webhook when should_notify(event); failures are warnings.
  void emit(const Event& event) override;

 private:
  net::Transport& m_transport;
  Clock& m_clock;
  Reporter& m_reporter;
  state::LockOwner m_who;
  WebhookOptions m_options;
  Jitter m_jitter;
  std::mt19937_64 m_random;
};

}  // namespace scalectl::sinks
