// The `redis` metric: the length of one key, read through the state store's Redis connection code.

#include <scalectl/ops/autoscale.hpp>

#include <array>

#include <fmt/format.h>

#include <scalectl/error.hpp>

#include "net/url.hpp"
#include "state/redis_connection.hpp"

namespace scalectl::ops {

namespace {

struct LengthCommand {
  std::string_view type;
  std::string_view command;
};

constexpr std::array<LengthCommand, 5> k_length_commands = {{
  {"list", "LLEN"},
  {"zset", "ZCARD"},
  {"set", "SCARD"},
  {"hash", "HLEN"},
  {"stream", "XLEN"},
}};

}  // namespace

RedisLength redis_key_length(const RedisAccess& access, const std::string& key)
{
  auto endpoint = state::parse_redis_url(access.url);
  if (!endpoint) {
    throw usage_error(fmt::format("metric Redis URL {}: {}; use redis://[:password@]host:port/db",
                                  net::redact_url(access.url), endpoint.error()));
  }
  if (endpoint->password.empty()) {
    endpoint->password = access.password;
  }
  state::RedisConnection connection(*endpoint, access.connect_timeout, access.command_timeout);
  const std::array<std::string_view, 2> type_args = {"TYPE", key};
  const auto type_reply = connection.checked(type_args, "reading the type of the metric key");
  RedisLength result;
  result.type = state::reply_text(*type_reply);
  if (result.type == "none") {
    return result;  // a missing key is an empty queue
  }
  for (const auto& candidate : k_length_commands) {
    if (candidate.type != result.type) {
      continue;
    }
    const std::array<std::string_view, 2> args = {candidate.command, key};
    const auto reply = connection.checked(args, "reading the length of the metric key");
    if (reply->type != REDIS_REPLY_INTEGER) {
      throw Error(fmt::format("{} {} on Redis at {} did not answer an integer", candidate.command, key,
                              endpoint->address()));
    }
    result.command = std::string(candidate.command);
    result.length = reply->integer;
    return result;
  }
  throw Error(fmt::format("the metric key {} on Redis at {} is a {}, which has no length; use a list, set, sorted set, "
                          "hash or stream (or a command metric)",
                          key, endpoint->address(), result.type));
}

}  // namespace scalectl::ops
