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
#include <optional>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "state/redis_connection.hpp"
#include "temp_dir.hpp"

namespace scalectl::test {

// TLS set-up for RedisServer: a CA and a server certificate (localhost, 127.0.0.1) and a client
// certificate made by `openssl` in `dir`, an ACL user "scalectl" with a password, the default
// user off; `valkey` runs valkey-server instead of redis-server; `mutual` requires client certificates.
struct RedisTls {
  // Not an aggregate, so RedisServer({"--flag", "value"}) still means the plain server.
  enum class Server { redis, valkey };
  enum class Auth { password, client_certificate };
  RedisTls(Server server, Auth auth) : valkey(server == Server::valkey), mutual(auth == Auth::client_certificate) {}
  bool valkey = false;
  bool mutual = false;
  static constexpr const char* k_user = "scalectl";
  static constexpr const char* k_password = "contract-tls-pw";
};

class RedisServer {
 public:
  // Starts `tls.server` on TLS only (--port 0 --tls-port P) with certificates made by openssl.
  explicit RedisServer(RedisTls tls) : m_tls(tls)
  {
    make_pki();
    m_extra_args = {"--port", "0", "--tls-cert-file", file("server.crt"), "--tls-key-file", file("server.key"),
                    "--tls-ca-cert-file", file("ca.crt"), "--tls-auth-clients", m_tls->mutual ? "yes" : "no",
                    "--user", RedisTls::k_user, "on", std::string(">") + RedisTls::k_password, "~*", "&*",
                    "+@all", "--user", "default", "off"};
    for (int attempt = 0; attempt < 5; ++attempt) {
      m_port = free_port();
      start();
      if (wait_until_ready()) {
        return;
      }
      stop();
    }
    throw std::runtime_error(std::string(m_tls->valkey ? "valkey-server" : "redis-server") + " (TLS) did not answer PING; is it installed? see " + log_path());
  }

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
  // Returns redis://127.0.0.1:<port>/<db>, or rediss://scalectl:PASSWORD@localhost:<port>/<db> with TLS.
  std::string url(int db = 0) const
  {
    if (m_tls) {
      return std::string("rediss://") + RedisTls::k_user + ":" + RedisTls::k_password + "@localhost:" +
             std::to_string(m_port) + "/" + std::to_string(db);
    }
    return "redis://127.0.0.1:" + std::to_string(m_port) + "/" + std::to_string(db);
  }
  // Sets the TLS files of `options` (CA, and the client certificate for mutual TLS).
  void tls_options(std::string& ca, std::string& cert, std::string& key) const
  {
    if (m_tls) {
      ca = file("ca.crt");
      if (m_tls->mutual) {
        cert = file("client.crt");
        key = file("client.key");
      }
    }
  }
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
    if (m_tls) {
      return tls_command(args);
    }
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

  // Returns `reply` as command() formats it.
  static std::string format_reply(const redisReply& reply) { return format(reply); }

 private:
  std::string file(const std::string& name) const { return (m_dir.path() / name).string(); }

  void make_pki() const
  {
    const std::string dir = m_dir.path().string();
    const std::string script =
        "set -e; cd '" + dir + "'; "
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj '/CN=contract CA' "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign; "
        "for n in server client; do "
        "openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj /CN=$n; done; "
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext; "
        "printf 'extendedKeyUsage=clientAuth\\n' > client.ext; "
        "for n in server client; do "
        "openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $n.crt -days 2 "
        "-extfile $n.ext; done";
    if (std::system(("(" + script + ") >'" + dir + "/openssl.log' 2>&1").c_str()) != 0) {
      throw std::runtime_error("openssl could not make the test certificates; see " + dir + "/openssl.log");
    }
  }

  std::string tls_command(const std::vector<std::string>& args) const
  {
    state::RedisEndpoint endpoint;
    endpoint.host = "127.0.0.1";
    endpoint.port = m_port;
    endpoint.tls = true;
    endpoint.user = RedisTls::k_user;
    endpoint.password = RedisTls::k_password;
    tls_options(endpoint.ca_file, endpoint.cert_file, endpoint.key_file);
    state::RedisConnection connection(endpoint, std::chrono::seconds(2), std::chrono::seconds(5));
    std::vector<std::string_view> views(args.begin(), args.end());
    return format(*connection.command(views, "running a test command"));
  }

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
    const std::string binary = m_tls && m_tls->valkey ? "valkey-server" : "redis-server";
    std::vector<std::string> args{binary,         "--port",     std::to_string(m_port), "--bind",
                                  "127.0.0.1",    "--save",     "",                     "--appendonly",
                                  "no",           "--dir",      m_dir.path().string(),  "--daemonize",
                                  "no"};
    args.insert(args.end(), m_extra_args.begin(), m_extra_args.end());
    if (m_tls) {
      args.insert(args.end(), {"--tls-port", std::to_string(m_port)});
    }
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
      ::execvp(binary.c_str(), argv.data());
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
      if (m_tls) {
        try {
          if (tls_command({"PING"}) == "PONG") {
            return true;
          }
        } catch (const std::exception&) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        continue;
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

  std::optional<RedisTls> m_tls;
  std::vector<std::string> m_extra_args;
  TempDir m_dir{"scalectl-redis"};
  int m_port = 0;
  pid_t m_pid = -1;
};

}  // namespace scalectl::test
