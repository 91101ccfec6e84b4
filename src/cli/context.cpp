#include "cli/context.hpp"

#include <limits.h>
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/ops/app.hpp>
#include <scalectl/ops/autoscale.hpp>
#include <scalectl/ops/droplet.hpp>
#include <scalectl/config/show.hpp>
#include <scalectl/digitalocean/client.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/net/http.hpp>
#include <scalectl/net/transport_factory.hpp>
#include <scalectl/process.hpp>
#include <scalectl/state/store.hpp>

#include "cli/completion_cache.hpp"
#include "cli/reporter.hpp"
#include "sinks/audit_log.hpp"
#include "sinks/metrics_textfile.hpp"
#include "sinks/sink_list.hpp"
#include "sinks/webhooks.hpp"

namespace scalectl::cli {

namespace {

// Hides the password of URLs like redis://:secret@host:6379 before argv is logged or recorded
// (the same rule as `config show`: up to the last '@', as the URL parser reads it).
std::string redact_url_password(const std::string& arg)
{
  return config::redact_url_passwords(arg);
}

std::string host_name()
{
  char buffer[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) {
    return "unknown";
  }
  return buffer;
}

std::string user_name()
{
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    return pw->pw_name;
  }
  return std::to_string(::geteuid());
}

}  // namespace

Context::Context(int argc, char** argv)
{
  for (int i = 0; i < argc; ++i) {
    if (i > 0) {
      m_command_line += ' ';
    }
    m_command_line += redact_url_password(i == 0 ? std::string("scalectl") : std::string(argv[i]));
  }
}

Context::~Context() = default;

void Context::bind_flag(CLI::App& cmd, const std::string& names, const std::string& key, const std::string& help)
{
  auto bound = std::make_unique<BoundFlag>();
  bound->key = key;
  BoundFlag* raw = bound.get();
  auto* option = cmd.add_option(names, raw->value, help);
  raw->flag = option->get_name();
  option->each([raw](const std::string&) { raw->given = true; });
  m_bound.push_back(std::move(bound));
}

void Context::bind_switch(CLI::App& cmd, const std::string& names, const std::string& key, const std::string& help)
{
  auto bound = std::make_unique<BoundFlag>();
  bound->key = key;
  bound->is_switch = true;
  BoundFlag* raw = bound.get();
  auto* option = cmd.add_flag_callback(names, [raw] { raw->given = true; }, help);
  raw->flag = option->get_name();
  m_bound.push_back(std::move(bound));
}

config::LoadOptions Context::load_options() const
{
  config::LoadOptions options;
  if (globals.config_file) {
    options.explicit_file = *globals.config_file;
  }
  if (globals.state_dir) {
    options.flags.push_back({"state.dir", *globals.state_dir, "--state-dir"});
  }
  if (globals.redis_url) {
    options.flags.push_back({"state.redis_url", *globals.redis_url, "--redis-url"});
  }
  for (const auto& bound : m_bound) {
    if (!bound->given) {
      continue;
    }
    if (bound->is_switch) {
      options.flags.push_back({bound->key, true, bound->flag});
    } else {
      options.flags.push_back({bound->key, bound->value, bound->flag});
    }
  }
  options.policy = m_policy;
  options.doctl_context = globals.doctl_context;
  return options;
}

const config::Config& Context::config()
{
  if (!m_config) {
    m_config = config::load(load_options());
  }
  return *m_config;
}

Reporter& Context::reporter()
{
  if (!m_reporter) {
    ReporterOptions options;
    options.quiet = globals.quiet;
    options.verbose = globals.verbose;
    options.tty = ::isatty(STDERR_FILENO) == 1;
    m_reporter = make_stderr_reporter(options);
  }
  return *m_reporter;
}

state::Store& Context::store()
{
  if (!m_store) {
    const auto& cfg = config();
    state::StoreOptions options;
    options.redis_url = cfg.get_string("state.redis_url").value_or("");
    options.backend = cfg.get_string("state.backend").value_or(options.redis_url.empty() ? "file" : "redis");
    if (const auto dir = cfg.get_string("state.dir")) {
      options.state_dir = *dir;
    }
    options.redis_password = cfg.get_string("state.redis_password").value_or("");
    options.redis_ca_file = cfg.get_string("state.redis_ca_file").value_or("");
    options.redis_cert_file = cfg.get_string("state.redis_cert_file").value_or("");
    options.redis_key_file = cfg.get_string("state.redis_key_file").value_or("");
    options.connect_timeout = cfg.get_duration("state.redis_connect_timeout").value_or(options.connect_timeout);
    options.command_timeout = cfg.get_duration("state.redis_command_timeout").value_or(options.command_timeout);
    options.lock_ttl = cfg.get_duration("state.lock_ttl").value_or(options.lock_ttl);
    m_store = state::open_store(options);
  }
  return *m_store;
}

net::TransportFactory& Context::transports()
{
  if (!m_transports) {
    m_transports = std::make_unique<net::TransportFactory>(clock());
  }
  return *m_transports;
}

net::Transport& Context::http()
{
  if (!m_http) {
    const auto& cfg = config();
    net::TransportOptions options;
    options.connect_timeout = cfg.get_duration("digitalocean.connect_timeout").value_or(options.connect_timeout);
    options.total_timeout = cfg.get_duration("digitalocean.request_timeout").value_or(options.total_timeout);
    options.ca_bundle = cfg.get_string("digitalocean.ca_bundle").value_or("");
    if (globals.verbose) {
      options.log = [this](const std::string& line) { reporter().detail(line); };
    }
    net::RetryPolicy policy;
    policy.max_attempts = static_cast<int>(cfg.get_int("digitalocean.max_retries").value_or(4)) + 1;
    m_http = transports().retrying(std::move(options), policy,
                                   [this](const std::string& line) { reporter().warn(line); });
    if (const auto cache = completion_cache_path()) {
      m_http = make_completion_cache_transport(std::move(m_http), *cache);  // sizes and names for TAB
    }
  }
  return *m_http;
}

digitalocean::Api& Context::digitalocean()
{
  if (!m_digitalocean) {
    const auto token = config::resolve_token(config(), load_options());
    digitalocean::ClientOptions options;
    options.base_url = config().get_string("digitalocean.api_url").value_or("https://api.digitalocean.com");
    options.token = token.value;
    options.token_source = token.source;
    m_digitalocean = std::make_unique<digitalocean::Client>(http(), options);
  }
  return *m_digitalocean;
}

Clock& Context::clock()
{
  return real_clock();
}

ProcessRunner& Context::processes()
{
  return real_process_runner();
}

std::string result_word(ExitCode code)
{
  switch (code) {
  case ExitCode::refused:
    return "refused";
  case ExitCode::timeout:
    return "timeout";
  case ExitCode::interrupted:
    return "interrupted";
  default:
    return "failed";
  }
}

std::chrono::milliseconds duration_flag(const std::string& text, const char* flag)
{
  const auto parsed = parse_duration(text);
  if (!parsed) {
    throw usage_error(fmt::format("{} takes a duration like 30s, 5m or 1h, not '{}'", flag, text));
  }
  return *parsed;
}

std::unique_ptr<EventSink> Context::make_event_sinks()
{
  const auto& cfg = config();
  auto sinks = std::make_unique<sinks::SinkList>(reporter());
  if (cfg.get_bool("audit.enabled").value_or(true)) {
    try {
      sinks->add("audit log", std::make_unique<sinks::AuditLog>(store(), clock(), lock_owner()));
    } catch (const std::exception& e) {
      sinks->add("audit log", std::make_unique<sinks::UnavailableSink>(e.what()));  // webhooks still go out
    }
  }
  sinks::WebhookOptions webhooks;
  for (const auto& url : cfg.get_strings("notify.webhooks").value_or(std::vector<std::string>{})) {
    if (url.starts_with("https://") || url.starts_with("http://")) {
      webhooks.urls.push_back(url);
    } else {
      reporter().warn(fmt::format("[notify] webhooks: {} is not an http:// or https:// URL; it is skipped",
                                  sinks::webhook_display(url)));
    }
  }
  webhooks.format = cfg.get_string("notify.format").value_or(webhooks.format);
  webhooks.timeout = cfg.get_duration("notify.timeout").value_or(webhooks.timeout);
  webhooks.retries = static_cast<int>(cfg.get_int("notify.retries").value_or(webhooks.retries));
  if (!webhooks.urls.empty()) {
    m_webhook_http = transports().bounded(webhooks.timeout);
    sinks->add("webhooks", std::make_unique<sinks::Webhooks>(*m_webhook_http, clock(), reporter(), lock_owner(),
                                                             std::move(webhooks)));
  }
  return sinks;
}

void Context::emit(const Event& event)
{
  try {
    if (!m_events) {
      m_events = make_event_sinks();
    }
    m_events->emit(event);
  } catch (const std::exception& e) {
    reporter().warn(fmt::format("could not record the {} event: {}", event.what, e.what()));
  }
}

sinks::MetricsTextfile& Context::metrics()
{
  if (!m_metrics) {
    sinks::TextfileOptions options;
    try {
      options.path = config().get_string("metrics.textfile").value_or("");
    } catch (const std::exception&) {
      // A broken configuration has already failed the command; its series are kept in memory only.
    }
    m_metrics = std::make_unique<sinks::MetricsTextfile>(clock(), std::move(options));
  }
  return *m_metrics;
}

state::LockOwner Context::lock_owner() const
{
  state::LockOwner owner;
  owner.pid = static_cast<long>(::getpid());
  owner.host = host_name();
  owner.user = user_name();
  owner.command = m_command_line;
  owner.since_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(real_clock().now().time_since_epoch()).count();
  return owner;
}

// --- wiring of the ops' adapters: the one place under src/cli/ that hands them out ------------

ops::DropletDeps Context::droplet_deps()
{
  return ops::DropletDeps{digitalocean(), [this]() -> state::Store& { return store(); }, clock(), reporter(),
                          processes(), lock_owner()};
}

ops::AppDeps Context::app_deps()
{
  return ops::AppDeps{digitalocean(), [this]() -> state::Store& { return store(); }, clock(), reporter(),
                      lock_owner()};
}

namespace {

// The length of a Redis key for `redis` metrics: the policy's own server, else the state's.
ops::RedisLength redis_metric_length(const config::Config& cfg, const std::string& url, const std::string& key)
{
  ops::RedisAccess access;
  access.url = url.empty() ? cfg.get_string("state.redis_url").value_or("") : url;
  if (access.url.empty()) {
    throw usage_error("metric.redis needs a Redis server; set metric.redis_url in the policy or state.redis_url");
  }
  // The state's password goes only to the state's Redis, never to a policy's own server.
  access.password = url.empty() ? cfg.get_string("state.redis_password").value_or("") : "";
  access.connect_timeout = cfg.get_duration("state.redis_connect_timeout").value_or(access.connect_timeout);
  access.command_timeout = cfg.get_duration("state.redis_command_timeout").value_or(access.command_timeout);
  return ops::redis_key_length(access, key);
}

}  // namespace

ops::AutoscaleDeps Context::autoscale_deps(Reporter& reporter)
{
  return ops::AutoscaleDeps{
    config(),
    store(),
    clock(),
    reporter,
    ops::MetricDeps{processes(),
                    [this](std::chrono::milliseconds timeout) { return transports().bounded(timeout); },
                    [this](const std::string& url, const std::string& key) {
                      return redis_metric_length(config(), url, key);
                    }},
    ops::TargetDeps{processes(), [this]() -> digitalocean::Api& { return digitalocean(); }, std::nullopt,
                    std::nullopt, 0, "", {}},
    lock_owner(),
    std::chrono::milliseconds(0)};
}

}  // namespace scalectl::cli
