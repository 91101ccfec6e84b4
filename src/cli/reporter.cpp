#include "cli/reporter.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>

namespace scalectl {

namespace {

class NullReporter final : public Reporter {
 public:
  void step(std::string_view) override {}
  void progress(std::string_view, std::chrono::milliseconds) override {}
  void warn(std::string_view) override {}
  void detail(std::string_view) override {}
};

}  // namespace

Reporter& null_reporter()
{
  static NullReporter reporter;
  return reporter;
}

}  // namespace scalectl

namespace scalectl::cli {

namespace {

// True while a live progress line (no newline yet) is on stderr; one per process.
bool g_live_line = false;

// Returns true when the terminal named by TERM understands cursor control (not unset or "dumb").
bool term_understands_control()
{
  const char* term = std::getenv("TERM");
  return term != nullptr && *term != '\0' && std::string_view(term) != "dumb";
}

class StderrReporter final : public Reporter {
 public:
  explicit StderrReporter(const ReporterOptions& options)
      : m_options(options), m_live_capable(options.tty && term_understands_control())
  {
  }
  ~StderrReporter() override { clear_live(); }

  void step(std::string_view message) override
  {
    if (m_options.quiet) {
      return;
    }
    clear_live();
    line(message);
  }

  void progress(std::string_view phase, std::chrono::milliseconds elapsed) override
  {
    if (m_options.quiet) {
      return;
    }
    if (m_live_capable) {
      const std::string text = fmt::format("{} ... {}", phase, format_duration(elapsed));
      std::fprintf(stderr, "\r\033[K%s", text.c_str());
      std::fflush(stderr);
      g_live_line = true;
      return;
    }
    // Plain output: one line when the phase changes, then one every 30 s, so cron mail stays short.
    const auto seconds = elapsed.count() / 1000;
    if (phase != m_last_phase || seconds >= m_next_report_s) {
      line(seconds == 0 ? std::string(phase) : fmt::format("{} ({} elapsed)", phase, format_duration(elapsed)));
      m_last_phase = std::string(phase);
      m_next_report_s = seconds + 30;
    }
  }

  void warn(std::string_view message) override
  {
    if (m_options.quiet) {
      return;  // -q: a successful run prints nothing; failures still print their one error line
    }
    clear_live();
    std::fprintf(stderr, "scalectl: warning: %.*s\n", static_cast<int>(message.size()), message.data());
  }

  void detail(std::string_view message) override
  {
    if (!m_options.verbose) {
      return;
    }
    clear_live();
    line(message);
  }

 private:
  void line(std::string_view message)
  {
    if (m_options.tty) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(message.size()), message.data());
    } else {
      const std::string stamp = format_rfc3339(real_clock().now());
      std::fprintf(stderr, "%s %.*s\n", stamp.c_str(), static_cast<int>(message.size()), message.data());
    }
  }

  static void clear_live() { end_live_line(); }

  ReporterOptions m_options;
  bool m_live_capable = false;
  std::string m_last_phase;
  long long m_next_report_s = 0;
};

}  // namespace

void end_live_line()
{
  if (g_live_line) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    g_live_line = false;
  }
}

std::unique_ptr<Reporter> make_stderr_reporter(const ReporterOptions& options)
{
  return std::make_unique<StderrReporter>(options);
}

}  // namespace scalectl::cli
