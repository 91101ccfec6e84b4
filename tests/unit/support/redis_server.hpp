#pragma once
// A throwaway redis-server for tests: started on a free loopback port with persistence off,
// waited for with a bounded PING loop, and killed on destruction.

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fcntl.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"

namespace scalectl::test {

class RedisServer {
 public:
  // Starts redis-server with `extra_args` appended (e.g. {"--requirepass", "s3cret"}), also
  // listening on socket_path() when `unix_socket` is set.
  explicit RedisServer(std::vector<std::string> extra_args = {}, bool unix_socket = false)
      : m_extra_args(std::move(extra_args))
  {
    if (unix_socket) {
      m_extra_args.insert(m_extra_args.end(), {"--unixsocket", socket_path(), "--unixsocketperm", "700"});
    }
    for (int attempt = 0; attempt < 5; ++attempt) {
      m_port = free_port();
      start();
      if (wait_until_ready()) {
        return;
      }
      stop();
    }
    throw std::runtime_error("redis-server did not answer PING; is it installed? see " + log_path());
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer() { stop(); }

  int port() const { return m_port; }
  // Returns redis://127.0.0.1:<port>/<db>.
  std::string url(int db = 0) const { return "redis://127.0.0.1:" + std::to_string(m_port) + "/" + std::to_string(db); }
  // Returns the path of the unix socket (only listened on if "--unixsocket" was passed).
  std::string socket_path() const { return (m_dir.path() / "redis.sock").string(); }
  std::string log_path() const { return (m_dir.path() / "redis.log").string(); }

  // Kills the server (SIGKILL) and reaps it.
  void stop()
  {
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, nullptr, 0);
      m_pid = -1;
    }
  }
  // Freezes (SIGSTOP) or thaws (SIGCONT) the server.
  void pause() const { ::kill(m_pid, SIGSTOP); }
  void resume() const { ::kill(m_pid, SIGCONT); }

  // Runs one command on a fresh connection and returns the reply as text: strings and status
  // as is, integers in decimal, nil as "(nil)", errors as "ERR...", arrays as "[a,b]".
  std::string command(const std::vector<std::string>& args, const std::string& password = {}) const
  {
    timeval tv{2, 0};
    std::unique_ptr<redisContext, decltype(&redisFree)> context(redisConnectWithTimeout("127.0.0.1", m_port, tv),
                                                                &redisFree);
    if (!context || context->err != 0) {
      throw std::runtime_error("test redis: cannot connect");
    }
    redisSetTimeout(context.get(), tv);
    if (!password.empty()) {
      run(context.get(), {"AUTH", password});
    }
    return run(context.get(), args);
  }

 private:
  static std::string run(redisContext* context, const std::vector<std::string>& args)
  {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(
        static_cast<redisReply*>(redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data())),
        &freeReplyObject);
    if (!reply) {
      throw std::runtime_error("test redis: no reply");
    }
    return format(*reply);
  }

  static std::string format(const redisReply& reply)
  {
    switch (reply.type) {
      case REDIS_REPLY_INTEGER:
        return std::to_string(reply.integer);
      case REDIS_REPLY_NIL:
        return "(nil)";
      case REDIS_REPLY_ARRAY: {
        std::string out = "[";
        for (std::size_t i = 0; i < reply.elements; ++i) {
          out += (i == 0 ? "" : ",") + format(*reply.element[i]);
        }
        return out + "]";
      }
      default:
        return std::string(reply.str, reply.len);
    }
  }

  static int free_port()
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    if (fd < 0 || ::bind(fd, generic, sizeof address) != 0 || ::getsockname(fd, generic, &length) != 0) {
      throw std::runtime_error("cannot find a free loopback port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
  }

  void start()
  {
    std::vector<std::string> args{"redis-server", "--port",     std::to_string(m_port), "--bind",
                                  "127.0.0.1",    "--save",     "",                     "--appendonly",
                                  "no",           "--dir",      m_dir.path().string(),  "--daemonize",
                                  "no"};
    args.insert(args.end(), m_extra_args.begin(), m_extra_args.end());
    const std::string log = log_path();
    m_pid = ::fork();
    if (m_pid < 0) {
      throw std::runtime_error("fork failed");
    }
    if (m_pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (out >= 0) {
        ::dup2(out, 1);
        ::dup2(out, 2);
      }
      std::vector<char*> argv;
      for (auto& arg : args) {
        argv.push_back(arg.data());
      }
      argv.push_back(nullptr);
      ::execvp("redis-server", argv.data());
      ::_exit(127);
    }
  }

  bool wait_until_ready()
  {
    for (int attempt = 0; attempt < 200; ++attempt) {
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        return false;  // exited: port taken or not installed
      }
      timeval tv{0, 200'000};
      std::unique_ptr<redisContext, decltype(&redisFree)> context(
          redisConnectWithTimeout("127.0.0.1", m_port, tv), &redisFree);
      if (context && context->err == 0) {
        std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(
            static_cast<redisReply*>(redisCommand(context.get(), "PING")), &freeReplyObject);
        if (reply && (reply->type == REDIS_REPLY_STATUS ||
                      (reply->type == REDIS_REPLY_ERROR && std::string(reply->str).starts_with("NOAUTH")))) {
          return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  std::vector<std::string> m_extra_args;
  TempDir m_dir{"scalectl-redis"};
  int m_port = 0;
  pid_t m_pid = -1;
};

}  // namespace scalectl::test
