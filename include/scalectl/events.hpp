#pragma once
// Scaling events: every mutating command emits one. Sinks turn them into the audit log,
// webhook notifications and metrics; a failing sink never changes the command's outcome.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace scalectl {

struct Event {
  std::string what;      // "droplet.resize", "app.scale", "autoscale.apply", "capacity.allocate", ...
  std::string resource;  // "droplet-123", "app-<id>/backend", "policy-workers", "pool-server/worker-1"
  std::string from;      // previous size/count ("" when not applicable)
  std::string to;        // new size/count
  std::string reason;    // why, in words or machine-readable reasons
  std::string result;    // "ok", "noop", "refused", "failed", "interrupted", "timeout", "submitted"
  std::chrono::milliseconds duration{0};
  nlohmann::json details = nlohmann::json::object();  // command-specific extras
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Delivers `event`; throws Error when it cannot (sinks::SinkList turns that into one warning).
  virtual void emit(const Event& event) = 0;
};

}  // namespace scalectl
