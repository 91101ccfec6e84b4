#pragma once
// One Redis connection (connect, TLS, AUTH, SELECT, commands, scripts) and a thread-safe session
// that shares one connection between a store and its lock renewals. The bytes travel over
// RedisStream (socket, optionally TLS); hiredis only formats commands and parses replies.

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "state/redis_scripts.hpp"
#include "state/redis_stream.hpp"
#include "state/redis_url.hpp"

namespace scalectl::state {

using RedisReplyPtr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

// Returns the text of a string, status or error reply ("" for other types).
std::string reply_text(const redisReply& reply);

// The most elements one reply array may announce. hiredis callocs the whole array as soon as it
// reads "*N", so a broken or hostile server could otherwise make scalectl allocate 16 GiB with
// 13 bytes. 4 Mi elements (32 MiB of pointers) covers a status of two million leases.
inline constexpr int k_max_reply_elements = 4 << 20;
// The most bytes one reply may take; a bigger one is a failure, not an unbounded buffer.
inline constexpr std::size_t k_max_reply_bytes = std::size_t{512} << 20U;

using RedisReaderPtr = std::unique_ptr<redisReader, decltype(&redisReaderFree)>;

// Returns a hiredis reply reader that refuses an array of more than k_max_reply_elements with an
// "out of memory" reader error instead of allocating it. Throws Error(failure) when out of memory.
RedisReaderPtr make_bounded_reader();

// One connected, authenticated connection to one server (one cluster node). Not thread-safe.
class RedisLink {
 public:
  // Connects, sends AUTH and SELECT when needed; throws Error(failure) saying what to check.
  RedisLink(const RedisEndpoint& endpoint, std::chrono::milliseconds connect_timeout,
            std::chrono::milliseconds command_timeout);

  // Sends one command and returns its reply, possibly an error reply. Throws Error(failure) on a
  // lost connection or timeout (the link is then unusable); `doing` names the step.
  RedisReplyPtr command(std::span<const std::string_view> args, std::string_view doing);

  // Returns false once an I/O error has made the link unusable.
  bool usable() const noexcept { return !m_broken; }
  // Returns "host:port" or "unix:/path", for messages.
  const std::string& address() const noexcept { return m_address; }

 private:
  // Throws the Error(failure) for a lost connection while `doing`, marking it broken.
  [[noreturn]] void throw_io_error(const std::string& what, std::string_view doing);

  std::optional<RedisStream> m_stream;
  RedisReaderPtr m_reader{nullptr, &redisReaderFree};
  std::string m_address;
  bool m_broken = false;
};

// A connection to a Redis deployment: one server, or a Redis Cluster reached through any of its
// nodes. Cluster mode turns on by itself at the first -MOVED reply: the slot map is then read
// with CLUSTER SLOTS, each command goes to the node serving its key's slot, -MOVED refreshes
// the map, -ASK is followed with ASKING without changing it, and a command is redirected at most
// k_max_redirects times. Not thread-safe; see RedisSession.
class RedisConnection {
 public:
  // The most redirects (MOVED or ASK) one command follows before failing.
  static constexpr int k_max_redirects = 5;

  // Connects to `endpoint`, sends AUTH and SELECT when needed; throws Error(failure) saying what to check.
  RedisConnection(const RedisEndpoint& endpoint, std::chrono::milliseconds connect_timeout,
                  std::chrono::milliseconds command_timeout);
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;
  ~RedisConnection();

  // Sends one command to the node that serves its key and returns its reply, possibly an error
  // reply. Throws Error(failure) on a lost connection, a timeout or too many redirects (the
  // connection is then unusable); `doing` names the step.
  RedisReplyPtr command(std::span<const std::string_view> args, std::string_view doing);

  // Same, but throws Error(failure) for an error reply too.
  RedisReplyPtr checked(std::span<const std::string_view> args, std::string_view doing);

  // Runs `script` with EVALSHA, falling back to EVAL when the server (or the cluster node the
  // keys moved to) does not have it cached. Throws Error(failure) on an error reply too, naming
  // the keys and their slots when a cluster refuses them for being in different slots.
  RedisReplyPtr eval(const LuaScript& script, std::span<const std::string_view> keys,
                     std::span<const std::string_view> args, std::string_view doing);

  // Returns false once an I/O error has made a link unusable.
  bool usable() const noexcept;

  // Returns true once a -MOVED reply has shown that the server is a Redis Cluster node.
  bool cluster_mode() const noexcept { return !m_slot_node.empty(); }

  // Throws the Error(failure) for an error reply received while `doing`.
  [[noreturn]] void throw_reply_error(const redisReply& reply, std::string_view doing) const;

 private:
  struct Node;
  // Returns the index in m_nodes of cluster node host:port, adding it (unconnected) if new.
  std::size_t node_index(const std::string& host, int port);
  // Returns the link of m_nodes[index] (the first link when nullopt), connecting the first time.
  RedisLink& link_at(std::optional<std::size_t> index);
  // Returns the host of m_nodes[index] (the URL's host when nullopt).
  const std::string& host_at(std::optional<std::size_t> index) const;
  // Returns the node that serves `slot` as far as the map knows (nullopt: the first link).
  std::optional<std::size_t> route(std::optional<std::uint16_t> slot) const;
  // Reads the slot map with CLUSTER SLOTS from node `index`; keeps the old map if that fails.
  void refresh_slots(std::optional<std::size_t> index, std::string_view doing);

  RedisEndpoint m_endpoint;
  std::chrono::milliseconds m_connect_timeout;
  std::chrono::milliseconds m_command_timeout;
  RedisLink m_first;
  std::vector<std::unique_ptr<Node>> m_nodes;  // cluster nodes, found by MOVED/ASK and CLUSTER SLOTS
  std::vector<std::uint16_t> m_slot_node;      // cluster mode: slot -> 1 + index in m_nodes, 0 = unknown
  std::string m_last_address;                  // the node that answered last, for messages
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
