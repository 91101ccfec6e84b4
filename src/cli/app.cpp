#include <scalectl/cli.hpp>
#include <scalectl/core/text.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/error.hpp>
#include <scalectl/exit_code.hpp>
#include <scalectl/interrupt.hpp>

#include <fcntl.h>
#include <unistd.h>

#include "cli/autoscale_run_cmd.hpp"
#include "cli/context.hpp"
#include "cli/help.hpp"
#include "cli/metrics.hpp"
#include "cli/reporter.hpp"
#include "cli/tree.hpp"

namespace scalectl::cli {

namespace {

void print_error(Context& ctx, ExitCode code, const std::string& message)
{
  std::string line = message;
  for (auto& c : line) {
    if (c == '\n') {
      c = ' ';
    }
  }
  // One line, whatever a server or a file put in the message (escape sequences, CR).
  line = core::escape_control(line);
  end_live_line();  // e.g. Ctrl-C during a wait: the error starts on a fresh line
  std::fprintf(stderr, "scalectl: error: %s\n", line.c_str());
  if (ctx.output() == OutputFormat::json) {
    // Invalid UTF-8 in the message becomes U+FFFD instead of a second failure.
    const nlohmann::json body = {{"error", {{"message", line}, {"exit_code", to_int(code)}}}};
    std::cout << body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  }
}

// Prints the one error line for `e` and returns its exit code: ours for scalectl::Error, 1 else.
int report_failure(Context& ctx, const std::exception& e)
{
  if (dynamic_cast<const Error*>(&e) != nullptr || dynamic_cast<const Interrupted*>(&e) != nullptr) {
    print_error(ctx, exit_code_of(e), e.what());  // the one place an interruption becomes exit 130
    return to_int(exit_code_of(e));
  }
  print_error(ctx, ExitCode::failure, fmt::format("unexpected failure: {}", e.what()));
  return to_int(ExitCode::failure);
}

// Returns the chosen command path, e.g. "droplet up".
std::string command_path(const CLI::App& app)
{
  std::string path;
  for (const CLI::App* sub = &app;;) {
    const auto chosen = sub->get_subcommands();
    if (chosen.empty()) {
      return path;
    }
    sub = chosen.front();
    path += (path.empty() ? "" : " ") + sub->get_name();
  }
}

// While alive, sends stdout to /dev/null (for -q with text output: the exit code says it all).
class SilencedStdout {
 public:
  SilencedStdout()
  {
    std::cout.flush();
    std::fflush(stdout);
    const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd < 0) {
      return;
    }
    m_saved = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
    if (m_saved >= 0 && ::dup2(null_fd, STDOUT_FILENO) < 0) {
      ::close(m_saved);
      m_saved = -1;
    }
    ::close(null_fd);
  }
  ~SilencedStdout()
  {
    std::cout.flush();
    std::fflush(stdout);
    if (m_saved >= 0) {
      ::dup2(m_saved, STDOUT_FILENO);
      ::close(m_saved);
    }
  }
  SilencedStdout(const SilencedStdout&) = delete;
  SilencedStdout& operator=(const SilencedStdout&) = delete;

 private:
  int m_saved = -1;
};

// Runs the parsed command's action and returns its exit code; errors are printed here.
int run_action(Context& ctx)
{
  std::optional<SilencedStdout> silenced;
  if (ctx.globals.quiet && ctx.output() == OutputFormat::text) {
    silenced.emplace();
  }
  try {
    ctx.action();
    return ctx.exit_code;
  } catch (const std::exception& e) {
    return report_failure(ctx, e);
  }
}

}  // namespace

void build_cli(CLI::App& app, Context& ctx)
{
  app.name("scalectl");
  app.description("Scale DigitalOcean droplets and App Platform apps, and share one CPU/RAM budget between "
                  "workers, safely from a shell, cron or CI.");
  app.footer(exit_code_help());
  app.fallthrough();  // global options may follow the subcommand (inherited by every subcommand)
  app.require_subcommand(1);
  app.set_version_flag("--version", "scalectl " SCALECTL_VERSION);
  app.add_option("--config", ctx.globals.config_file, "Read this config file after the system and user files")
    ->envname("SCALECTL_CONFIG");
  app.add_option("-o,--output", ctx.globals.output, "Output format")
    ->type_name("FORMAT")
    ->check(CLI::IsMember({"text", "json"}))
    ->default_str("text");
  app.add_flag("-v,--verbose", ctx.globals.verbose, "Log each HTTP request (method, path, status, duration)");
  app.add_flag("-q,--quiet", ctx.globals.quiet,
               "Print nothing on success (text output; the exit code says it); errors stay one line on stderr");
  app.add_option("--state-dir", ctx.globals.state_dir, "State directory of the file backend");
  app.add_option("--redis-url", ctx.globals.redis_url,
                 "Use the Redis state backend at redis://[:password@]host:port/db or unix:///path "
                 "(prefer REDISCLI_AUTH for the password)");
  app.add_option("--context", ctx.globals.doctl_context,
                 "Use the token of this doctl auth context (doctl's config.yaml auth-contexts)")
    ->envname("DIGITALOCEAN_CONTEXT")
    ->type_name("NAME")
    ->check([](const std::string& name) {
      const bool ok = !name.empty() && name.size() <= 64 &&
                      std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c != '\x7f'; });
      return ok ? std::string{} : std::string("a doctl context name is 1-64 printable characters");
    });
  ctx.bind_flag(app, "--metrics-file", "metrics.textfile",
                "Write a Prometheus node_exporter textfile here after the command (atomically)");

  setup_droplet_command(app, ctx);
  setup_app_command(app, ctx);
  setup_droplet_cost_command(app, ctx);
  setup_droplet_claim_command(app, ctx);
  setup_capacity_command(app, ctx);
  setup_autoscale_command(app, ctx);
  setup_autoscale_run_command(app, ctx);
  setup_config_command(app, ctx);
  setup_completion_command(app, ctx);
  setup_log_command(app, ctx);
  apply_help(app);  // examples, placeholders, per-verb exit codes, global options in every help
}

int run(int argc, char** argv)
{
  install_interrupt_handlers();
  Context ctx(argc, argv);
  CLI::App app;
  try {
    build_cli(app, ctx);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      if (e.get_exit_code() == 0) {
        return app.exit(e);  // --help, --version
      }
      if (const auto why = explain_bad_words(app, argc, argv)) {
        print_error(ctx, ExitCode::usage, *why);  // a token flag, or a mistyped word with "did you mean"
        return to_int(ExitCode::usage);
      }
      std::string where = "scalectl";
      for (const CLI::App* sub = &app; sub != nullptr;) {
        const auto chosen = sub->get_subcommands();
        sub = chosen.empty() ? nullptr : chosen.front();
        if (sub != nullptr) {
          where += " " + sub->get_name();
        }
      }
      print_error(ctx, ExitCode::usage, fmt::format("{}; run `{} --help` for usage", e.what(), where));
      return to_int(ExitCode::usage);
    }
    if (!ctx.action) {
      print_error(ctx, ExitCode::usage, "no command given; run `scalectl --help` for usage");
      return to_int(ExitCode::usage);
    }
    const auto started = std::chrono::steady_clock::now();
    const int code = run_action(ctx);
    write_metrics_file(ctx, command_path(app), code,
                       std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started));
    return code;
  } catch (const std::exception& e) {
    return report_failure(ctx, e);
  }
}

}  // namespace scalectl::cli
