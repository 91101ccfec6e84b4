// Event sinks: the audit log in the state store, then webhook notifications. Each sink's failure
// is one warning; none changes the command's outcome.

#include <unistd.h>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/net/http.hpp>
#include <scalectl/state/store.hpp>

#include "cli/context.hpp"
#include "cli/notify.hpp"

namespace scalectl::cli {

namespace {

class AuditSink final : public EventSink {
 public:
  explicit AuditSink(Context& ctx) : m_ctx(ctx) {}

  void emit(const Event& event) override
  {
    const nlohmann::json line = event_record(event, m_ctx.lock_owner());
    m_ctx.store().append("audit", line);
  }

 private:
  Context& m_ctx;
};

class WebhookSink final : public EventSink {
 public:
  WebhookSink(Context& ctx, WebhookOptions options) : m_ctx(ctx), m_options(std::move(options)) {}

  void emit(const Event& event) override
  {
    if (!should_notify(event)) {
      return;
    }
    if (!m_transport) {
      net::TransportOptions options;
      options.connect_timeout = m_options.timeout;
      options.total_timeout = m_options.timeout;
      options.user_agent = "scalectl/" SCALECTL_VERSION;
      m_transport = net::make_curl_transport(options);
    }
    const auto body = notification_body(event, m_ctx.lock_owner(), m_options.format).dump();
    deliver_webhooks(*m_transport, m_ctx.clock(), m_ctx.reporter(), m_options, body, event.what);
  }

 private:
  Context& m_ctx;
  WebhookOptions m_options;
  std::unique_ptr<net::Transport> m_transport;  // never the DigitalOcean client's: no token here
};

class SinkList final : public EventSink {
 public:
  explicit SinkList(Context& ctx) : m_ctx(ctx) {}

  void add(std::string name, std::unique_ptr<EventSink> sink) { m_sinks.emplace_back(std::move(name), std::move(sink)); }

  void emit(const Event& event) override
  {
    for (const auto& [name, sink] : m_sinks) {
      try {
        sink->emit(event);
      } catch (const std::exception& e) {
        m_ctx.reporter().warn(fmt::format("could not write the {} event to the {}: {}", event.what, name, e.what()));
      }
    }
  }

 private:
  Context& m_ctx;
  std::vector<std::pair<std::string, std::unique_ptr<EventSink>>> m_sinks;
};

WebhookOptions webhook_options(Context& ctx)
{
  const auto& cfg = ctx.config();
  WebhookOptions options;
  for (const auto& url : cfg.get_strings("notify.webhooks").value_or(std::vector<std::string>{})) {
    if (url.starts_with("https://") || url.starts_with("http://")) {
      options.urls.push_back(url);
    } else {
      ctx.reporter().warn(fmt::format("[notify] webhooks: {} is not an http:// or https:// URL; it is skipped",
                                      webhook_display(url)));
    }
  }
  options.format = cfg.get_string("notify.format").value_or(options.format);
  options.timeout = cfg.get_duration("notify.timeout").value_or(options.timeout);
  options.retries = static_cast<int>(cfg.get_int("notify.retries").value_or(options.retries));
  return options;
}

}  // namespace

nlohmann::json event_record(const Event& event, const state::LockOwner& who)
{
  return {
    {"time_ms", who.since_ms},
    {"time", format_rfc3339(SystemTime(std::chrono::milliseconds(who.since_ms)))},
    {"user", who.user},
    {"host", who.host},
    {"pid", who.pid},
    {"command", who.command},
    {"what", event.what},
    {"resource", event.resource},
    {"from", event.from},
    {"to", event.to},
    {"reason", event.reason},
    {"result", event.result},
    {"duration_ms", event.duration.count()},
    {"details", event.details},
  };
}

std::unique_ptr<EventSink> make_event_sinks(Context& ctx)
{
  auto sinks = std::make_unique<SinkList>(ctx);
  if (ctx.config().get_bool("audit.enabled").value_or(true)) {
    sinks->add("audit log", std::make_unique<AuditSink>(ctx));
  }
  auto webhooks = webhook_options(ctx);
  if (!webhooks.urls.empty()) {
    sinks->add("webhooks", std::make_unique<WebhookSink>(ctx, std::move(webhooks)));
  }
  return sinks;
}

}  // namespace scalectl::cli
