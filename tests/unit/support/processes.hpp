#pragma once
// Forked helper processes for tests, with bounded waits. A child never returns into doctest:
// it leaves with _exit(), so no test-framework state or static destructor runs twice.

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <thread>

namespace scalectl::test {

// Number of threads in this process (from /proc/self/task).
inline std::size_t thread_count()
{
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

// Runs fn() in a forked child that exits with its return value (99 if it throws). Refuses to fork
// a process that has other threads (a held Redis lock renews itself from one): a thread that held
// a libc, OpenSSL or sanitizer allocator lock at fork() leaves the child deadlocked on it.
inline pid_t fork_child(const std::function<int()>& fn)
{
  if (thread_count() != 1) {
    throw std::logic_error("fork_child: the test process has other threads; fork before starting them");
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    int code = 99;
    try {
      code = fn();
    } catch (...) {
      code = 99;
    }
    ::_exit(code);
  }
  return pid;
}

// Waits for `pid` up to `timeout` (then kills it) and returns its exit code, or -1 if it was
// killed by a signal or had to be killed.
inline int wait_child(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(60))
{
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (done < 0 || std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// A one-way pipe used to say "go" between processes.
class Signal {
 public:
  Signal()
  {
    if (::pipe(m_fds) != 0) {
      throw std::runtime_error("pipe failed");
    }
  }
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;
  ~Signal()
  {
    ::close(m_fds[0]);
    ::close(m_fds[1]);
  }

  // Sends one token.
  void notify() const
  {
    const char token = 'x';
    [[maybe_unused]] const auto n = ::write(m_fds[1], &token, 1);
  }

  // Waits up to `timeout` for one token; returns false on timeout.
  bool wait(std::chrono::milliseconds timeout = std::chrono::seconds(20)) const
  {
    pollfd fd{m_fds[0], POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(timeout.count())) != 1) {
      return false;
    }
    char token = 0;
    return ::read(m_fds[0], &token, 1) == 1;
  }

 private:
  int m_fds[2] = {-1, -1};
};

}  // namespace scalectl::test
