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

// What execvpe() needs, built before fork(): the argv, and the child's environment, which is
// scalectl's own without the secrets (hooks and checks never see the API token or the Redis
// password), plus request.extra_env.
struct ExecArgs {
  std::vector<std::string> env_storage;
  std::vector<char*> envp;
  std::vector<char*> argv;
};

ExecArgs exec_args(const ProcessRequest& request)
{
  ExecArgs args;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view kv(*entry);
    const std::string_view name = kv.substr(0, kv.find('='));
    if (is_secret_env(name) || request.extra_env.contains(std::string(name))) {
      continue;
    }
    args.env_storage.emplace_back(kv);
  }
  for (const auto& [key, value] : request.extra_env) {
    args.env_storage.push_back(key + "=" + value);
  }
  for (auto& kv : args.env_storage) {
    args.envp.push_back(kv.data());
  }
  args.envp.push_back(nullptr);
  for (const auto& arg : request.argv) {
    args.argv.push_back(const_cast<char*>(arg.c_str()));
  }
  args.argv.push_back(nullptr);
  return args;
}

// In the forked child: its own process group, default signals, stdout/stderr into the pipes when
// capturing, stdin from /dev/null, then exec; exits 127 with one line when exec fails.
[[noreturn]] void exec_child(const ProcessRequest& request, ExecArgs& args, int out_write, int err_write)
{
  ::setpgid(0, 0);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (request.capture) {
    ::dup2(out_write, STDOUT_FILENO);
    ::dup2(err_write, STDERR_FILENO);
  }
  const int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) {
    ::dup2(devnull, STDIN_FILENO);
  }
  ::execvpe(args.argv[0], args.argv.data(), args.envp.data());
  // No allocation from here: the parent may have other threads (a Redis lock renews itself), and
  // one of them may have held an allocator lock at fork(). strerrordesc_np returns static text.
  const char* reason = ::strerrordesc_np(errno);
  const char* pieces[] = {"scalectl: error: cannot run `", args.argv[0], "`: ",
                          reason != nullptr ? reason : "exec failed", "\n"};
  for (const char* piece : pieces) {
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, piece, std::strlen(piece));
  }
  ::_exit(127);
}

// The running child's process group, killed once on a signal to scalectl or past the deadline.
class ChildGuard {
 public:
  ChildGuard(pid_t pid, std::chrono::steady_clock::time_point deadline) : m_pid(pid), m_deadline(deadline) {}

  // Kills the group when scalectl was interrupted or the deadline passed (then sets timed_out).
  void check(ProcessResult& result)
  {
    if (interrupted()) {
      kill_group();
    }
    if (std::chrono::steady_clock::now() >= m_deadline) {
      result.timed_out = true;
      kill_group();
    }
  }
  bool killed() const { return m_killed; }

 private:
  void kill_group()
  {
    if (!m_killed) {
      ::kill(-m_pid, SIGKILL);
      m_killed = true;
    }
  }

  pid_t m_pid;
  std::chrono::steady_clock::time_point m_deadline;
  bool m_killed = false;
};

// Reads both pipes into result.out and result.err (each capped at k_capture_limit) until both are
// closed, polling every 50 ms so the guard can act.
void drain_pipes(int& out_read, int& err_read, ChildGuard& guard, ProcessResult& result)
{
  while (out_read >= 0 || err_read >= 0) {
    guard.check(result);
    pollfd fds[2];
    nfds_t n = 0;
    if (out_read >= 0) {
      fds[n++] = {out_read, POLLIN, 0};
    }
    if (err_read >= 0) {
      fds[n++] = {err_read, POLLIN, 0};
    }
    if (::poll(fds, n, 50) <= 0) {
      continue;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      char buffer[4096];
      const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      auto& target = fds[i].fd == out_read ? result.out : result.err;
      if (got > 0) {
        if (target.size() < k_capture_limit) {
          target.append(buffer, static_cast<std::size_t>(got));
        }
      } else if (got == 0 || errno != EINTR) {
        close_fd(fds[i].fd == out_read ? out_read : err_read);
      }
    }
  }
}

// Waits for the child to exit (every 20 ms, so the guard can act) and returns its wait status.
int reap(pid_t pid, ChildGuard& guard, ProcessResult& result)
{
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) {
      return status;
    }
    guard.check(result);
    ::usleep(20'000);
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
  auto args = exec_args(request);
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw Error(fmt::format("cannot start `{}`: fork failed: {}", request.argv[0], std::strerror(errno)));
  }
  if (pid == 0) {
    exec_child(request, args, out_pipe[1], err_pipe[1]);
  }
  ::setpgid(pid, pid);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);

  ProcessResult result;
  ChildGuard guard(pid, std::chrono::steady_clock::now() + request.timeout);
  drain_pipes(out_pipe[0], err_pipe[0], guard, result);
  const int status = reap(pid, guard, result);
  if (WIFEXITED(status) && !guard.killed()) {
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
