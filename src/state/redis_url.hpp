#pragma once
// Redis URLs: redis://[[user]:password@]host[:port][/db], rediss://... (TLS) and
// unix:///path/to/socket[?db=N].

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
  bool tls = false;         // rediss://: TLS >= 1.2, certificate and host name always verified
  std::string ca_file;      // PEM CA bundle to trust instead of the system store (state.redis_ca_file)
  std::string cert_file;    // client certificate for mutual TLS (state.redis_cert_file)
  std::string key_file;     // its private key (state.redis_key_file)

  // Returns "host:port" or "unix:/path", for messages; never includes the password.
  std::string address() const;
};

// Parses redis://[[user]:password@]host[:port][/db] (host may be [IPv6]), the same with rediss://
// (TLS; e.g. DigitalOcean Managed Valkey's rediss://default:PASSWORD@host:25061) and
// unix:///path/to/socket[?db=N]; returns what is wrong otherwise. Percent-escapes are decoded.
std::expected<RedisEndpoint, std::string> parse_redis_url(std::string_view url);

}  // namespace scalectl::state
