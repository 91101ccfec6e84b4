#include "state/redis_connection.hpp"
#include "state/redis_cluster.hpp"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <vector>

#include <fmt/format.h>

#include <scalectl/process.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>

namespace scalectl::state {

namespace {

constexpr std::string_view k_check_url = "is redis-server running and reachable? check state.redis_url";

// Blocks SIGPIPE in this thread for its lifetime and discards one raised meanwhile, so a write to
// a connection the server has reset becomes an error instead of killing the process (hiredis
// writes with write(2), not send(MSG_NOSIGNAL)).
class SigpipeGuard {
 public:
  SigpipeGuard()
  {
    sigemptyset(&m_pipe);
    sigaddset(&m_pipe, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    m_was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &m_pipe, &m_old);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;
  ~SigpipeGuard()
  {
    if (!m_was_pending) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec no_wait{};
        sigtimedwait(&m_pipe, nullptr, &no_wait);
      }
    }
    pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
  }

 private:
  sigset_t m_pipe{};
  sigset_t m_old{};
  bool m_was_pending = false;
};

// hiredis's own reply constructors, read from a reader it set up, with createArray bounded.
struct BoundedFunctions {
  redisReplyObjectFunctions defaults{};
  redisReplyObjectFunctions bounded{};
};

BoundedFunctions* bounded_functions()
{
  static BoundedFunctions* functions = []() -> BoundedFunctions* {
    const RedisReaderPtr probe(redisReaderCreate(), &redisReaderFree);
    if (!probe || probe->fn == nullptr) {
      return nullptr;
    }
    static BoundedFunctions made;
    made.defaults = *probe->fn;
    made.bounded = made.defaults;
    made.bounded.createArray = [](const redisReadTask* task, int elements) -> void* {
      if (elements < 0 || elements > k_max_reply_elements) {
        return nullptr;  // the reader reports "Out of memory" and stops
      }
      return bounded_functions()->defaults.createArray(task, elements);
    };
    return &made;
  }();
  return functions;
}

}  // namespace

RedisReaderPtr make_bounded_reader()
{
  BoundedFunctions* functions = bounded_functions();
  RedisReaderPtr reader(functions != nullptr ? redisReaderCreateWithFunctions(&functions->bounded) : nullptr,
                        &redisReaderFree);
  if (!reader) {
    throw Error("cannot create a Redis reply reader: out of memory");
  }
  return reader;
}

std::string reply_text(const redisReply& reply)
{
  if ((reply.type == REDIS_REPLY_STRING || reply.type == REDIS_REPLY_STATUS || reply.type == REDIS_REPLY_ERROR) &&
      reply.str != nullptr) {
    return std::string(reply.str, reply.len);
  }
  return {};
}

RedisLink::RedisLink(const RedisEndpoint& endpoint, std::chrono::milliseconds connect_timeout,
                     std::chrono::milliseconds command_timeout)
    : m_address(endpoint.address())
{
  {
    const SigpipeGuard guard;  // OpenSSL writes the handshake with write(2)
    m_stream.emplace(endpoint, connect_timeout, command_timeout);
  }
  m_reader = make_bounded_reader();
  if (!endpoint.password.empty()) {
    hold_secret_in_memory();
    std::vector<std::string_view> args{"AUTH"};
    if (!endpoint.user.empty()) {
      args.emplace_back(endpoint.user);
    }
    args.emplace_back(endpoint.password);
    const auto reply = command(args, "authenticating");
    if (reply->type == REDIS_REPLY_ERROR) {
      const std::string text = reply_text(*reply);
      if (text.find("no password is set") != std::string::npos || text.find("without any password") != std::string::npos) {
        throw Error(fmt::format("Redis at {} has no password set but one was given ({}); remove the password from "
                                "state.redis_url / REDISCLI_AUTH",
                                m_address, text));
      }
      throw Error(fmt::format("Redis at {} rejected the credentials ({}); check REDISCLI_AUTH or the password in "
                              "state.redis_url",
                              m_address, text));
    }
  }
  if (endpoint.db != 0) {
    const std::string db = std::to_string(endpoint.db);
    const std::string_view args[] = {"SELECT", db};
    const auto reply = command(args, "selecting the database");
    if (reply->type == REDIS_REPLY_ERROR) {
      throw Error(fmt::format("Redis at {} cannot select database {} ({}); check the /db part of state.redis_url",
                              m_address, endpoint.db, reply_text(*reply)));
    }
  }
}

RedisReplyPtr RedisLink::command(std::span<const std::string_view> args, std::string_view doing)
{
  if (m_broken) {
    throw Error(fmt::format("the connection to Redis at {} was lost earlier; {}", m_address, k_check_url));
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const auto arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* formatted = nullptr;
  const int length = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(), lengths.data());
  if (length < 0 || formatted == nullptr) {
    throw Error(fmt::format("cannot format a Redis command while {}: out of memory", doing));
  }
  const std::unique_ptr<char, decltype(&redisFreeCommand)> owned(formatted, &redisFreeCommand);
  void* raw = nullptr;
  {
    const SigpipeGuard guard;
    if (std::string failed = m_stream->write_all({formatted, static_cast<std::size_t>(length)}); !failed.empty()) {
      throw_io_error(failed, doing);
    }
    char buffer[16384];
    std::size_t received = 0;
    for (;;) {
      if (redisReaderGetReply(m_reader.get(), &raw) != REDIS_OK) {
        throw_io_error(fmt::format("unreadable reply ({}; scalectl takes arrays of at most {} elements)",
                                   m_reader->errstr, k_max_reply_elements),
                       doing);
      }
      if (raw != nullptr) {
        break;
      }
      std::string failed;
      const std::size_t got = m_stream->read_some(buffer, sizeof buffer, failed);
      if (got == 0) {
        throw_io_error(failed, doing);
      }
      received += got;
      if (received > k_max_reply_bytes) {
        throw_io_error(fmt::format("a reply larger than {} MiB", k_max_reply_bytes >> 20U), doing);
      }
      if (redisReaderFeed(m_reader.get(), buffer, got) != REDIS_OK) {
        throw_io_error(fmt::format("unreadable reply ({})", m_reader->errstr), doing);
      }
    }
  }
  return RedisReplyPtr(static_cast<redisReply*>(raw), &freeReplyObject);
}

void RedisLink::throw_io_error(const std::string& what, std::string_view doing)
{
  m_broken = true;
  throw Error(fmt::format("Redis at {}: {} while {}; {}", m_address, what, doing, k_check_url));
}

RedisReplyPtr RedisConnection::checked(std::span<const std::string_view> args, std::string_view doing)
{
  auto reply = command(args, doing);
  if (reply->type == REDIS_REPLY_ERROR) {
    throw_reply_error(*reply, doing);
  }
  return reply;
}

RedisReplyPtr RedisConnection::eval(const LuaScript& script, std::span<const std::string_view> keys,
                                    std::span<const std::string_view> args, std::string_view doing)
{
  const std::string key_count = std::to_string(keys.size());
  std::vector<std::string_view> argv{"EVALSHA", script.sha1, key_count};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  auto reply = command(argv, doing);
  if (reply->type == REDIS_REPLY_ERROR && reply_text(*reply).starts_with("NOSCRIPT")) {
    argv[0] = "EVAL";
    argv[1] = script.source;
    reply = command(argv, doing);
  }
  if (reply->type == REDIS_REPLY_ERROR && reply_text(*reply).starts_with("CROSSSLOT")) {
    throw_cross_slot(m_last_address, keys, doing);
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    throw_reply_error(*reply, doing);
  }
  return reply;
}

void RedisConnection::throw_reply_error(const redisReply& reply, std::string_view doing) const
{
  const std::string text = reply_text(reply);
  std::string advice;
  // Redis 7 refuses an unauthenticated command of more than 10 arguments (an EVALSHA with the
  // pool's keys) with "Protocol error: unauthenticated multibulk length" instead of NOAUTH.
  if (text.starts_with("NOAUTH") || text.find("unauthenticated") != std::string::npos) {
    advice = "the server requires a password; set REDISCLI_AUTH or put it in state.redis_url";
  } else if (text.starts_with("WRONGPASS") || text.find("invalid password") != std::string::npos) {
    advice = "check REDISCLI_AUTH or the password in state.redis_url";
  } else if (text.starts_with("CROSSSLOT")) {
    advice = "this Redis Cluster needs every key of one operation in one hash slot; give pools a hash tag "
             "(pool = \"{server}\")";
  } else if (text.starts_with("READONLY")) {
    advice = "this is a read-only replica; point state.redis_url at the primary";
  } else if (text.starts_with("LOADING")) {
    advice = "the server is loading its data set; retry in a moment";
  } else if (text.starts_with("OOM")) {
    advice = "the server is out of memory (maxmemory); free memory or raise maxmemory";
  } else if (text.starts_with("NOPERM")) {
    advice = "the Redis user lacks a permission scalectl needs (EVALSHA, EVAL, GET, SET, XADD, XRANGE ...)";
  } else {
    advice = "check the server log";
  }
  throw Error(fmt::format("Redis at {} answered an error while {}: {}; {}", m_last_address, doing, text, advice));
}

RedisSession::RedisSession(RedisEndpoint endpoint, std::chrono::milliseconds connect_timeout,
                           std::chrono::milliseconds command_timeout)
    : m_endpoint(std::move(endpoint)), m_connect_timeout(connect_timeout), m_command_timeout(command_timeout)
{
  m_connection.emplace(m_endpoint, m_connect_timeout, m_command_timeout);
}

}  // namespace scalectl::state
