#pragma once
// Redis URLs: redis://[[user]:password@]host[:port][/db] and unix:///path/to/socket[?db=N].

#include <expected>
#include <string>
#include <string_view>

namespace scalectl::state {

// Where a Redis server is and how to log in.
struct RedisEndpoint {
  std::string host;         // empty for a unix socket
  int port = 6379;
  std::string socket_path;  // set for unix:// URLs
  int db = 0;
  std::string user;         // ACL user (Redis >= 6); empty for the default user
  std::string password;

  // Returns "host:port" or "unix:/path", for messages; never includes the password.
  std::string address() const;
};

// Parses redis://[[user]:password@]host[:port][/db] (host may be [IPv6]) and
// unix:///path/to/socket[?db=N]; returns what is wrong otherwise. Percent-escapes are decoded.
std::expected<RedisEndpoint, std::string> parse_redis_url(std::string_view url);

}  // namespace scalectl::state
