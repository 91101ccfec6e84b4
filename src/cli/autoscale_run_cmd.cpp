// `scalectl autoscale run`: flags -> ops::DaemonOptions -> one AutoscaleDaemon::run(), with the
// optional HTTP endpoint (src/http_server/) started next to it.

#include <iostream>
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <scalectl/config/config.hpp>
#include <scalectl/error.hpp>
#include <scalectl/net/transport_factory.hpp>
#include <scalectl/ops/autoscale_daemon.hpp>

#include "cli/autoscale_run_cmd.hpp"
#include "cli/context.hpp"
#include "cli/metrics.hpp"
#include "http_server/status_server.hpp"

namespace scalectl::cli {

namespace {

struct RunFlags {
  std::vector<std::string> policies;
  std::string every;
  std::string log_format = "text";
  std::string listen;
  std::string token_file;
};

void run_daemon(Context& ctx, const RunFlags& flags)
{
  // Everything the user gave is checked before anything binds or applies.
  ops::DaemonOptions options;
  options.policies = flags.policies;
  if (!flags.every.empty()) {
    options.every = duration_flag(flags.every, "--every");
  }
  std::optional<http_server::ListenAddress> listen;
  std::string token;
  if (!flags.listen.empty()) {
    listen = http_server::parse_listen(flags.listen);
    if (!listen->loopback && flags.token_file.empty()) {
      throw usage_error(fmt::format("refusing to listen on {} without a token: a non-loopback --listen needs "
                                    "--token-file; or listen on 127.0.0.1",
                                    flags.listen));
    }
  }
  if (!flags.token_file.empty()) {
    if (!listen) {
      throw usage_error("--token-file only matters with --listen; add --listen 127.0.0.1:PORT or drop it");
    }
    token = http_server::read_token_file(flags.token_file);
  }

  ops::DaemonLog log(std::cerr, flags.log_format == "json" ? ops::LogFormat::json : ops::LogFormat::text,
                     ctx.clock());
  ops::DaemonReporter reporter(log, ctx.globals.verbose);
  ops::AutoscaleDeps deps = ctx.autoscale_deps(reporter);

  ops::DaemonHooks hooks;
  hooks.applied = [&ctx](const std::string& policy, const ops::ApplyReport& report) {
    ctx.emit(Event{"autoscale.apply", "policy-" + policy, std::to_string(report.from), std::to_string(report.to),
                   fmt::format("{}", fmt::join(report.reasons, "; ")), ops::event_result(report.result),
                   report.duration,
                   nlohmann::json{{"decision", report.decision}, {"serial", report.serial}, {"note", report.note},
                                  {"daemon", true}}});
    const auto metric = report.plan.value("/inputs/metric/value"_json_pointer, nlohmann::json(nullptr));
    record_autoscale_metrics(ctx, policy, report.from, report.to,
                             metric.is_number() ? std::optional<double>(metric.get<double>()) : std::nullopt);
    // A daemon does not end after one command: the textfile is rewritten after every apply.
    write_metrics_file(ctx, "autoscale run", 0, report.duration);
  };
  hooks.failed = [&ctx](const std::string& policy, const std::string& error, ExitCode code) {
    if (code == ExitCode::lock_held) {
      return;
    }
    ctx.emit(Event{"autoscale.apply", "policy-" + policy, "", "", error, result_word(code),
                   std::chrono::milliseconds(0), nlohmann::json{{"daemon", true}}});
    write_metrics_file(ctx, "autoscale run", to_int(code), std::chrono::milliseconds(0));
  };

  ops::AutoscaleDaemon daemon(deps, options, hooks, log);
  ops::install_graceful_stop();

  std::unique_ptr<http_server::StatusServer> server;
  if (listen) {
    http_server::StatusHandlers handlers;
    handlers.status = [&daemon] { return daemon.status(); };
    handlers.trigger = [&daemon](const std::string& policy) { return daemon.trigger(policy); };
    handlers.metrics = [&daemon] { return daemon.metrics_text(); };
    handlers.healthy = [&daemon] { return daemon.healthy(); };
    handlers.log = [&log](const std::string& method, const std::string& path, int status) {
      log.write("info", "http", {{"method", method}, {"path", path.substr(0, 200)}, {"status", status}});
    };
    server = std::make_unique<http_server::StatusServer>(*listen, token, handlers);
    server->start();
    log.write("info", "listening", {{"address", flags.listen}, {"trigger", token.empty() ? "disabled" : "token"}});
  }
  daemon.run();
  if (server) {
    server->stop();
  }
}

}  // namespace

void setup_autoscale_run_command(CLI::App& app, Context& ctx)
{
  auto* autoscale = app.get_subcommand("autoscale");
  auto flags = std::make_shared<RunFlags>();
  auto* run = autoscale->add_subcommand(
    "run", "Run as a daemon: apply each policy on its schedule, sharing locks and cooldowns with cron applies");
  auto* policy = run->add_option("--policy", flags->policies,
                                 "Policy to run (repeatable; default: every configured policy)");
  policy->each([&ctx, flags](const std::string& name) {
    if (flags->policies.size() <= 1) {
      ctx.set_policy(name);  // AUTO_SCALER_* variables configure a single policy
    }
  });
  run->add_option("--every", flags->every,
                  "Evaluate each policy this often, jittered by 10% (default: the policy's `every`, else 1m)");
  run->add_option("--log-format", flags->log_format, "Log lines on stderr: text or json (one object per line)")
    ->check(CLI::IsMember({"text", "json"}))
    ->default_str("text");
  run->add_option("--listen", flags->listen,
                  "Serve GET /status, /metrics, /healthz and POST /trigger on ADDR:PORT (loopback unless "
                  "--token-file)");
  run->add_option("--token-file", flags->token_file,
                  "File (mode 0600) holding the bearer token POST /trigger requires");
  run->callback([&ctx, flags] { ctx.action = [&ctx, flags] { run_daemon(ctx, *flags); }; });
}

}  // namespace scalectl::cli
