#include <scalectl/process.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <scalectl/error.hpp>
#include <scalectl/interrupt.hpp>

extern char** environ;

namespace scalectl {

namespace {

constexpr std::size_t k_capture_limit = 1 << 20;

class RealProcessRunner final : public ProcessRunner {
 public:
  ProcessResult run(const ProcessRequest& request) override;
};

}  // namespace

void hold_secret_in_memory() noexcept
{
  // No core dump and no ptrace/proc access by other users: the token or password is in memory.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

bool is_secret_env(std::string_view name)
{
  return name == "DIGITALOCEAN_ACCESS_TOKEN" || name == "DIGITALOCEAN_TOKEN" || name == "REDISCLI_AUTH";
}

namespace {

void close_fd(int& fd)
{
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

ProcessResult RealProcessRunner::run(const ProcessRequest& request)
{
  if (request.argv.empty()) {
    throw Error("internal error: empty command");
  }
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (request.capture && (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)) {
    throw Error(fmt::format("cannot create a pipe to run `{}`: {}", request.argv[0], std::strerror(errno)));
  }
  // The child's environment, built before fork(): scalectl's own environment without the secrets
  // (hooks and checks never see the API token or the Redis password), plus request.extra_env.
  std::vector<std::string> env_storage;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view kv(*entry);
    const std::string_view name = kv.substr(0, kv.find('='));
    if (is_secret_env(name) || request.extra_env.contains(std::string(name))) {
      continue;
    }
    env_storage.emplace_back(kv);
  }
  for (const auto& [key, value] : request.extra_env) {
    env_storage.push_back(key + "=" + value);
  }
  std::vector<char*> envp;
  for (auto& kv : env_storage) {
    envp.push_back(kv.data());
  }
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (const auto& arg : request.argv) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) {
    throw Error(fmt::format("cannot start `{}`: fork failed: {}", request.argv[0], std::strerror(errno)));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (request.capture) {
      ::dup2(out_pipe[1], STDOUT_FILENO);
      ::dup2(err_pipe[1], STDERR_FILENO);
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
    }
    ::execvpe(argv[0], argv.data(), envp.data());
    const std::string msg = fmt::format("scalectl: error: cannot run `{}`: {}\n", request.argv[0], std::strerror(errno));
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg.data(), msg.size());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);

  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + request.timeout;
  bool killed = false;
  auto kill_group = [&] {
    if (!killed) {
      ::kill(-pid, SIGKILL);
      killed = true;
    }
  };
  while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
    if (interrupted()) {
      kill_group();
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill_group();
    }
    pollfd fds[2];
    nfds_t n = 0;
    if (out_pipe[0] >= 0) {
      fds[n++] = {out_pipe[0], POLLIN, 0};
    }
    if (err_pipe[0] >= 0) {
      fds[n++] = {err_pipe[0], POLLIN, 0};
    }
    const int ready = ::poll(fds, n, 50);
    if (ready <= 0) {
      continue;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      char buffer[4096];
      const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      auto& target = fds[i].fd == out_pipe[0] ? result.out : result.err;
      if (got > 0) {
        if (target.size() < k_capture_limit) {
          target.append(buffer, static_cast<std::size_t>(got));
        }
      } else if (got == 0 || errno != EINTR) {
        close_fd(fds[i].fd == out_pipe[0] ? out_pipe[0] : err_pipe[0]);
      }
    }
  }
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      break;
    }
    if (done < 0 && errno != EINTR) {
      break;
    }
    if (interrupted()) {
      kill_group();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      result.timed_out = true;
      kill_group();
    }
    ::usleep(20'000);
  }
  if (WIFEXITED(status) && !killed) {
    result.exit_code = WEXITSTATUS(status);
  }
  throw_if_interrupted("running a command");
  return result;
}

}  // namespace

ProcessRunner& real_process_runner()
{
  static RealProcessRunner runner;
  return runner;
}

std::vector<std::string> shell_argv(const std::string& command)
{
  return {"/bin/sh", "-c", command};
}

}  // namespace scalectl
