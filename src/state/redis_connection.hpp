#pragma once
// One Redis connection (connect, TLS, AUTH, SELECT, commands, scripts) and a thread-safe session
// that shares one connection between a store and its lock renewals. The bytes travel over
// RedisStream (socket, optionally TLS); hiredis only formats commands and parses replies.

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "state/redis_scripts.hpp"
#include "state/redis_stream.hpp"
#include "state/redis_url.hpp"

namespace scalectl::state {

using RedisReplyPtr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

// Returns the text of a string, status or error reply ("" for other types).
std::string reply_text(const redisReply& reply);

// One connected, authenticated connection. Not thread-safe; see RedisSession.
class RedisConnection {
 public:
  // Connects, sends AUTH and SELECT when needed; throws Error(failure) saying what to check.
  RedisConnection(const RedisEndpoint& endpoint, std::chrono::milliseconds connect_timeout,
                  std::chrono::milliseconds command_timeout);

  // Sends one command and returns its reply, possibly an error reply. Throws Error(failure) on a
  // lost connection or timeout (the connection is then unusable); `doing` names the step.
  RedisReplyPtr command(std::span<const std::string_view> args, std::string_view doing);

  // Same, but throws Error(failure) for an error reply too.
  RedisReplyPtr checked(std::span<const std::string_view> args, std::string_view doing);

  // Runs `script` with EVALSHA, falling back to EVAL when the server does not have it cached.
  // Throws Error(failure) on an error reply too.
  RedisReplyPtr eval(const LuaScript& script, std::span<const std::string_view> keys,
                     std::span<const std::string_view> args, std::string_view doing);

  // Returns false once an I/O error has made the connection unusable.
  bool usable() const noexcept { return !m_broken; }

  // Throws the Error(failure) for an error reply received while `doing`.
  [[noreturn]] void throw_reply_error(const redisReply& reply, std::string_view doing) const;

 private:
  // Throws the Error(failure) for a lost connection while `doing`, marking it broken.
  [[noreturn]] void throw_io_error(const std::string& what, std::string_view doing);

  std::optional<RedisStream> m_stream;
  std::unique_ptr<redisReader, decltype(&redisReaderFree)> m_reader{nullptr, &redisReaderFree};
  std::string m_address;
  std::chrono::milliseconds m_command_timeout;
  bool m_broken = false;
};

// One connection shared by a store and the renewal threads of its locks. Calls are serialised;
// a connection broken by an I/O error is replaced on the next call.
class RedisSession {
 public:
  // Connects right away, so a wrong URL or password fails at open.
  RedisSession(RedisEndpoint endpoint, std::chrono::milliseconds connect_timeout,
               std::chrono::milliseconds command_timeout);

  // Returns fn(connection) with the session locked and connected.
  template <class Fn>
  auto with(Fn&& fn)
  {
    std::lock_guard lock(m_mutex);
    if (!m_connection || !m_connection->usable()) {
      m_connection.reset();
      m_connection.emplace(m_endpoint, m_connect_timeout, m_command_timeout);
    }
    return fn(*m_connection);
  }

  // Returns where the server is, for messages.
  std::string address() const { return m_endpoint.address(); }
  // Returns the selected database number.
  int db() const { return m_endpoint.db; }

 private:
  std::mutex m_mutex;
  RedisEndpoint m_endpoint;
  std::chrono::milliseconds m_connect_timeout;
  std::chrono::milliseconds m_command_timeout;
  std::optional<RedisConnection> m_connection;
};

}  // namespace scalectl::state
