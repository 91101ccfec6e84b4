#pragma once
// What every command shares: global options, the flags given, and lazily built adapters.
// Nothing is built until a command asks for it, so `--version` and `config show` never load
// libcurl or connect to Redis.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <scalectl/config/config.hpp>
#include <scalectl/events.hpp>
#include <scalectl/exit_code.hpp>
#include <scalectl/report.hpp>

namespace CLI {
class App;
}

namespace scalectl {
class Clock;
class ProcessRunner;
namespace net {
class Transport;
}
namespace state {
class Store;
struct LockOwner;
}  // namespace state
namespace net {
class TransportFactory;
}
namespace ops {
struct DropletDeps;
struct AppDeps;
struct AutoscaleDeps;
}  // namespace ops
namespace digitalocean {
class Api;
class Client;
}
namespace sinks {
class MetricsTextfile;
}
}  // namespace scalectl

namespace scalectl::cli {

enum class OutputFormat { text, json };

struct GlobalOptions {
  std::optional<std::string> config_file;
  std::string output = "text";
  bool verbose = false;
  bool quiet = false;
  std::optional<std::string> state_dir;
  std::optional<std::string> redis_url;
  std::optional<std::string> doctl_context;  // --context NAME
};

class Context {
 public:
  Context(int argc, char** argv);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  GlobalOptions globals;

  // The action chosen by the parsed subcommand; run() calls it after parsing.
  std::function<void()> action;
  // The process exit code the action wants (0 unless it sets another, e.g. 4 for a plan).
  int exit_code = 0;

  // Binds a string option of `cmd` to config key `key`: when given, it becomes a flag-layer value.
  void bind_flag(CLI::App& cmd, const std::string& names, const std::string& key, const std::string& help);
  // Binds a boolean flag of `cmd` to config key `key` (true when given).
  void bind_switch(CLI::App& cmd, const std::string& names, const std::string& key, const std::string& help);
  // Sets the autoscale policy name whose AUTO_SCALER_* env names apply.
  void set_policy(std::string policy) { m_policy = std::move(policy); }

  OutputFormat output() const { return globals.output == "json" ? OutputFormat::json : OutputFormat::text; }

  // Returns the configuration, loading every layer on first use.
  const config::Config& config();
  // Returns the load options the configuration was built from.
  config::LoadOptions load_options() const;
  // Returns the reporter for progress and warnings (stderr).
  Reporter& reporter();
  // Returns the state store, opening it on first use.
  state::Store& store();
  // Returns the DigitalOcean API client, resolving the token on first use.
  digitalocean::Api& digitalocean();
  // Returns the one factory of HTTP transports (DigitalOcean, webhooks, HTTP metrics).
  net::TransportFactory& transports();
  // Returns the DigitalOcean API's retrying transport (libcurl is loaded on the first request, not here).
  net::Transport& http();
  Clock& clock();
  ProcessRunner& processes();

  // Reports a scaling event to the sinks: the audit log, then webhooks (src/sinks/).
  // Never throws: a failing sink is a warning and does not change the command's outcome.
  void emit(const Event& event);

  // Returns the metrics textfile sink this invocation records its series on (src/sinks/metrics_textfile.hpp).
  sinks::MetricsTextfile& metrics();

  // Returns the adapters of the droplet ops (the store is opened only when an op asks for it).
  ops::DropletDeps droplet_deps();
  // Returns the adapters of the app ops (the store is opened only when an op asks for it).
  ops::AppDeps app_deps();
  // Returns the adapters of the autoscale ops, reporting through `reporter` (the store, the
  // metric readers and the target are the same for `autoscale apply` and `autoscale run`).
  ops::AutoscaleDeps autoscale_deps(Reporter& reporter);

  // Returns who we are, for operation locks and records.
  state::LockOwner lock_owner() const;
  // Returns argv joined for logs, with values of secret-looking options redacted.
  const std::string& command_line() const { return m_command_line; }

 private:
  struct BoundFlag {
    std::string key;
    std::string flag;
    std::string value;
    bool is_switch = false;
    bool given = false;
  };

  std::string m_command_line;
  std::vector<std::unique_ptr<BoundFlag>> m_bound;
  std::optional<std::string> m_policy;
  std::optional<config::Config> m_config;
  std::unique_ptr<Reporter> m_reporter;
  std::unique_ptr<state::Store> m_store;
  std::unique_ptr<net::TransportFactory> m_transports;
  std::unique_ptr<net::Transport> m_http;
  std::unique_ptr<net::Transport> m_webhook_http;  // never the DigitalOcean client's: no token here
  std::unique_ptr<digitalocean::Client> m_digitalocean;
  std::unique_ptr<EventSink> m_events;
  std::unique_ptr<sinks::MetricsTextfile> m_metrics;

  // Returns the audit log and webhook sinks the configuration asks for, as one EventSink.
  std::unique_ptr<EventSink> make_event_sinks();
};

// Returns the duration given to `flag` ("30s", "5m", "1h30m", seconds); throws Error(usage) naming
// the flag and the text otherwise.
std::chrono::milliseconds duration_flag(const std::string& text, const char* flag);

// Returns the event result word for a command that ended with `code`: refused, timeout,
// interrupted or failed.
std::string result_word(ExitCode code);

// Command setup functions, one per noun (src/cli/<noun>_cmd.cpp).
void setup_droplet_command(CLI::App& app, Context& ctx);
void setup_config_command(CLI::App& app, Context& ctx);
void setup_completion_command(CLI::App& app, Context& ctx);
void setup_app_command(CLI::App& app, Context& ctx);
void setup_log_command(CLI::App& app, Context& ctx);
// Adds `droplet cost` to the `droplet` subcommand; call after setup_droplet_command.
void setup_droplet_cost_command(CLI::App& app, Context& ctx);
// Adds `droplet claim|unclaim|claims|reconcile|schedule`; call after setup_droplet_command.
void setup_droplet_claim_command(CLI::App& app, Context& ctx);
void setup_capacity_command(CLI::App& app, Context& ctx);
// Adds `capacity repair` under the `capacity` command.
void setup_capacity_repair_command(CLI::App& capacity, Context& ctx);
void setup_autoscale_command(CLI::App& app, Context& ctx);

}  // namespace scalectl::cli
