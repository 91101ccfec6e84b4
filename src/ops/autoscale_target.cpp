// Replica targets that live in the state (manual, command) or behind a CLI (docker compose,
// kubectl). The do-app target is in autoscale_app_target.cpp.

#include <scalectl/ops/autoscale.hpp>

#include <charconv>
#include <map>

#include <fmt/format.h>

#include <scalectl/error.hpp>
#include <scalectl/process.hpp>

#include "ops/autoscale_app_target.hpp"

namespace scalectl::ops {

namespace {

std::string tail_line(const std::string& text)
{
  const auto last = text.find_last_not_of(" \t\r\n");
  if (last == std::string::npos) {
    return {};
  }
  const auto newline = text.rfind('\n', last);
  const std::size_t first = newline == std::string::npos ? 0 : newline + 1;
  std::string line = text.substr(first, last - first + 1);
  if (line.size() > 200) {
    line = line.substr(0, 200) + "...";
  }
  return line;
}

std::string joined(const std::vector<std::string>& argv)
{
  return fmt::format("{}", fmt::join(argv, " "));
}

// Runs argv and returns stdout; throws Error(failure) naming the command and its stderr.
std::string run_checked(ProcessRunner& processes, const std::vector<std::string>& argv,
                        std::chrono::milliseconds timeout, std::string_view doing,
                        const std::map<std::string, std::string>& env = {})
{
  ProcessRequest request;
  request.argv = argv;
  request.timeout = timeout;
  request.extra_env = env;
  const ProcessResult result = processes.run(request);
  if (result.timed_out) {
    throw Error(fmt::format("`{}` ({}) timed out after {}s; the count may be partly changed, check it and rerun",
                            joined(argv), doing, timeout.count() / 1000));
  }
  if (result.exit_code != 0) {
    const std::string err = tail_line(result.err);
    throw Error(fmt::format("`{}` ({}) {}{}; check the command and rerun", joined(argv), doing,
                            result.exit_code < 0 ? std::string("was killed by a signal")
                                                 : fmt::format("exited {}", result.exit_code),
                            err.empty() ? std::string() : ": " + err));
  }
  return result.out;
}

// manual: the count lives in scalectl's state only and is printed for a human to act on.
class ManualTarget : public ReplicaTarget {
 public:
  explicit ManualTarget(TargetDeps deps) : m_deps(std::move(deps)) {}

  std::int64_t current() override
  {
    return m_deps.override_current.value_or(m_deps.recorded.value_or(m_deps.min));
  }
  std::string apply(std::int64_t replicas) override
  {
    return fmt::format("recorded {} replicas; nothing else was changed", replicas);
  }
  std::string describe() const override { return "manual count kept in scalectl's state"; }
  std::string current_source() const override
  {
    return m_deps.override_current ? "--current"
           : m_deps.recorded       ? "the last applied count in the state"
                                   : "min, nothing applied yet";
  }

 protected:
  TargetDeps m_deps;
};

// command: a user template run with {replicas} and {current}; the count is kept in the state.
class CommandTarget final : public ManualTarget {
 public:
  CommandTarget(std::string command, std::chrono::milliseconds timeout, TargetDeps deps)
      : ManualTarget(std::move(deps)), m_command(std::move(command)), m_timeout(timeout)
  {
  }

  std::string apply(std::int64_t replicas) override
  {
    const std::int64_t from = current();
    std::string command = m_command;
    replace_all(command, "{replicas}", std::to_string(replicas));
    replace_all(command, "{current}", std::to_string(from));
    const std::map<std::string, std::string> env = {{"SCALECTL_REPLICAS", std::to_string(replicas)},
                                                    {"SCALECTL_CURRENT", std::to_string(from)},
                                                    {"SCALECTL_POLICY", m_deps.policy}};
    const std::string out = run_checked(m_deps.processes, shell_argv(command), m_timeout, "the command target", env);
    return tail_line(out);
  }
  std::string describe() const override { return fmt::format("command `{}`", m_command); }

 private:
  static void replace_all(std::string& text, std::string_view from, const std::string& to)
  {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
      text.replace(pos, from.size(), to);
    }
  }

  std::string m_command;
  std::chrono::milliseconds m_timeout;
};

// docker-compose: `docker compose -p P [-f FILE] up -d --no-recreate --scale SVC=N SVC`.
class ComposeTarget final : public ReplicaTarget {
 public:
  ComposeTarget(TargetSpec spec, TargetDeps deps) : m_spec(std::move(spec)), m_deps(std::move(deps)) {}

  std::int64_t current() override
  {
    // `ps -q SVC` prints one running container id per line: stable across Compose versions,
    // unlike `ps --format json` (an array in some, one object per line in others).
    auto argv = base();
    argv.insert(argv.end(), {"ps", "-q", m_spec.compose_service});
    const std::string out = run_checked(m_deps.processes, argv, m_spec.timeout, "reading the current count");
    std::int64_t count = 0;
    std::size_t pos = 0;
    while (pos < out.size()) {
      auto nl = out.find('\n', pos);
      if (nl == std::string::npos) {
        nl = out.size();
      }
      if (out.find_first_not_of(" \t\r", pos) < nl) {
        ++count;
      }
      pos = nl + 1;
    }
    return count;
  }

  std::string apply(std::int64_t replicas) override
  {
    // The service name at the end keeps `up` from starting the project's other services.
    auto argv = base();
    argv.insert(argv.end(), {"up", "-d", "--no-recreate", "--scale",
                             fmt::format("{}={}", m_spec.compose_service, replicas), m_spec.compose_service});
    run_checked(m_deps.processes, argv, m_spec.timeout, "changing the count");
    return {};
  }

  std::string describe() const override
  {
    return fmt::format("docker compose project {}, service {}{}", m_spec.compose_project, m_spec.compose_service,
                       m_spec.compose_file.empty() ? std::string() : ", file " + m_spec.compose_file);
  }
  std::string current_source() const override { return "docker compose ps -q"; }

 private:
  std::vector<std::string> base() const
  {
    std::vector<std::string> argv = {"docker", "compose", "-p", m_spec.compose_project};
    if (!m_spec.compose_file.empty()) {
      argv.insert(argv.end(), {"-f", m_spec.compose_file});
    }
    return argv;
  }

  TargetSpec m_spec;
  TargetDeps m_deps;
};

// kubernetes: `kubectl scale deployment/NAME --replicas=N -n NS [--context C]`.
class KubernetesTarget final : public ReplicaTarget {
 public:
  KubernetesTarget(TargetSpec spec, TargetDeps deps) : m_spec(std::move(spec)), m_deps(std::move(deps)) {}

  std::int64_t current() override
  {
    std::vector<std::string> argv = {"kubectl", "get", "deployment", m_spec.k8s_deployment};
    add_scope(argv);
    argv.insert(argv.end(), {"-o", "jsonpath={.spec.replicas}"});
    const std::string out = run_checked(m_deps.processes, argv, m_spec.timeout, "reading the current count");
    const auto text = tail_line(out);
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value < 0) {
      throw Error(fmt::format("`{}` printed \"{}\", not a replica count; check the deployment", joined(argv), text));
    }
    return value;
  }

  std::string apply(std::int64_t replicas) override
  {
    std::vector<std::string> argv = {"kubectl", "scale", "deployment/" + m_spec.k8s_deployment,
                                     fmt::format("--replicas={}", replicas)};
    add_scope(argv);
    return tail_line(run_checked(m_deps.processes, argv, m_spec.timeout, "changing the count"));
  }

  std::string describe() const override
  {
    return fmt::format("kubernetes deployment {}{}{}", m_spec.k8s_deployment,
                       m_spec.k8s_namespace.empty() ? std::string() : " in namespace " + m_spec.k8s_namespace,
                       m_spec.k8s_context.empty() ? std::string() : " (context " + m_spec.k8s_context + ")");
  }
  std::string current_source() const override { return "kubectl get deployment .spec.replicas"; }

 private:
  void add_scope(std::vector<std::string>& argv) const
  {
    if (!m_spec.k8s_namespace.empty()) {
      argv.insert(argv.end(), {"-n", m_spec.k8s_namespace});
    }
    if (!m_spec.k8s_context.empty()) {
      argv.insert(argv.end(), {"--context", m_spec.k8s_context});
    }
  }

  TargetSpec m_spec;
  TargetDeps m_deps;
};

}  // namespace

std::unique_ptr<ReplicaTarget> make_target(const TargetSpec& spec, TargetDeps deps)
{
  const bool state_kept = spec.kind == "manual" || spec.kind == "command";
  if (deps.override_current && !state_kept) {
    throw usage_error(fmt::format("--current applies to manual and command targets; a {} target's count is read "
                                  "from the target itself",
                                  spec.kind));
  }
  if (deps.override_current && *deps.override_current < 0) {
    throw usage_error(fmt::format("--current must be 0 or more, not {}", *deps.override_current));
  }
  if (spec.kind == "manual") {
    return std::make_unique<ManualTarget>(std::move(deps));
  }
  if (spec.kind == "command") {
    return std::make_unique<CommandTarget>(spec.command, spec.timeout, std::move(deps));
  }
  if (spec.kind == "docker-compose") {
    return std::make_unique<ComposeTarget>(spec, std::move(deps));
  }
  if (spec.kind == "kubernetes") {
    return std::make_unique<KubernetesTarget>(spec, std::move(deps));
  }
  if (spec.kind == "do-app") {
    return make_app_target(spec, std::move(deps));
  }
  throw usage_error(fmt::format("unknown autoscale target \"{}\"", spec.kind));
}

}  // namespace scalectl::ops
