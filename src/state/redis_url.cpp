#include "state/redis_url.hpp"

#include <charconv>

#include <fmt/format.h>

namespace scalectl::state {

namespace {

constexpr std::string_view k_url_forms =
    "expected redis://[[user]:password@]host[:port][/db], rediss://... (TLS) or unix:///path/to/socket[?db=N]";

std::expected<std::string, std::string> percent_decode(std::string_view text, std::string_view what)
{
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= text.size()) {
      return std::unexpected(fmt::format("the {} has an incomplete %-escape", what));
    }
    const auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || end != text.data() + i + 3) {
      return std::unexpected(fmt::format("the {} has an invalid %-escape", what));
    }
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

std::expected<int, std::string> parse_int(std::string_view text, int low, int high, std::string_view what)
{
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    return std::unexpected(fmt::format("the {} \"{}\" is not a number from {} to {}", what, text, low, high));
  }
  return value;
}

std::expected<RedisEndpoint, std::string> parse_unix_url(std::string_view rest)
{
  RedisEndpoint endpoint;
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  auto path = percent_decode(rest, "socket path");
  if (!path) {
    return std::unexpected(path.error());
  }
  if (path->empty() || path->front() != '/') {
    return std::unexpected(fmt::format("the socket path must be absolute (unix:///path/to/socket); {}", k_url_forms));
  }
  endpoint.socket_path = *path;
  if (!query.empty()) {
    if (!query.starts_with("db=")) {
      return std::unexpected(fmt::format("unsupported query \"{}\"; only db=N is understood", query));
    }
    auto db = parse_int(query.substr(3), 0, 1'000'000, "database number");
    if (!db) {
      return std::unexpected(db.error());
    }
    endpoint.db = *db;
  }
  return endpoint;
}

std::expected<RedisEndpoint, std::string> parse_tcp_url(std::string_view rest)
{
  RedisEndpoint endpoint;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon), "user name");
    if (!user) {
      return std::unexpected(user.error());
    }
    endpoint.user = *user;
    if (colon != std::string_view::npos) {
      auto password = percent_decode(userinfo.substr(colon + 1), "password");
      if (!password) {
        return std::unexpected(password.error());
      }
      endpoint.password = *password;
    }
  }
  if (rest.find('?') != std::string_view::npos) {
    return std::unexpected(fmt::format("query parameters are not supported; {}", k_url_forms));
  }
  std::string_view hostport = rest;
  std::string_view db_text;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    db_text = rest.substr(slash + 1);
  }
  std::string_view port_text;
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) {
      return std::unexpected("the IPv6 address has no closing ']'");
    }
    endpoint.host = std::string(hostport.substr(1, close - 1));
    const auto after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) {
        return std::unexpected(fmt::format("unexpected text after the IPv6 address; {}", k_url_forms));
      }
      port_text = after.substr(1);
    }
  } else if (const auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    endpoint.host = std::string(hostport.substr(0, colon));
    port_text = hostport.substr(colon + 1);
  } else {
    endpoint.host = std::string(hostport);
  }
  if (endpoint.host.empty()) {
    return std::unexpected(fmt::format("the host is missing; {}", k_url_forms));
  }
  if (!port_text.empty()) {
    auto port = parse_int(port_text, 1, 65535, "port");
    if (!port) {
      return std::unexpected(port.error());
    }
    endpoint.port = *port;
  }
  if (!db_text.empty()) {
    auto db = parse_int(db_text, 0, 1'000'000, "database number");
    if (!db) {
      return std::unexpected(db.error());
    }
    endpoint.db = *db;
  }
  return endpoint;
}

}  // namespace

std::string RedisEndpoint::address() const
{
  if (!socket_path.empty()) {
    return "unix:" + socket_path;
  }
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

std::expected<RedisEndpoint, std::string> parse_redis_url(std::string_view url)
{
  if (url.empty()) {
    return std::unexpected(fmt::format("it is empty; {}", k_url_forms));
  }
  if (url.starts_with("rediss://")) {
    auto endpoint = parse_tcp_url(url.substr(9));
    if (endpoint) {
      endpoint->tls = true;
    }
    return endpoint;
  }
  if (url.starts_with("unix://")) {
    return parse_unix_url(url.substr(7));
  }
  if (url.starts_with("redis://")) {
    return parse_tcp_url(url.substr(8));
  }
  return std::unexpected(fmt::format("unknown scheme; {}", k_url_forms));
}

}  // namespace scalectl::state
