// --listen parsing and the bearer token file: kept apart from status_server.cpp so that the CLI
// can refuse a bad --listen before anything binds.

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include <scalectl/error.hpp>

#include "config/read_file.hpp"
#include "http_server/status_server.hpp"
#include "util/sha1.hpp"

namespace scalectl::http_server {

ListenAddress parse_listen(const std::string& text)
{
  const auto bad = [&text](const std::string& why) {
    return usage_error(fmt::format("--listen {}: {}; give ADDR:PORT, e.g. 127.0.0.1:9464", text.substr(0, 100), why));
  };
  if (text.size() > 300) {
    throw bad("too long");
  }
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw bad("no port");
  }
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    throw bad("an IPv6 address goes in brackets, e.g. [::1]:9464");
  }
  int port = -1;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
    throw bad("the port must be a number from 1 to 65535");
  }
  // An address, not a name: a name could resolve anywhere, so only "localhost" is taken.
  unsigned char raw[sizeof(in6_addr)] = {};
  const bool v4 = ::inet_pton(AF_INET, host.c_str(), raw) == 1;
  const bool v6 = !v4 && ::inet_pton(AF_INET6, host.c_str(), raw) == 1;
  if (host != "localhost" && !v4 && !v6) {
    throw bad("the address must be an IP address or localhost");
  }
  ListenAddress out;
  out.host = host;
  out.port = port;
  const bool v6_loopback = v6 && std::all_of(raw, raw + 15, [](unsigned char b) { return b == 0; }) && raw[15] == 1;
  out.loopback = host == "localhost" || (v4 && raw[0] == 127) || v6_loopback;
  return out;
}

std::string read_token_file(const std::filesystem::path& path)
{
  const auto file = config::detail::read_regular_file(path, "token file", k_max_token_file_bytes);
  if (!file) {
    throw usage_error(fmt::format("--token-file {} does not exist; write the token to it with mode 0600",
                                  path.string()));
  }
  if (config::detail::group_or_other_access(file->mode)) {
    throw usage_error(fmt::format("--token-file {} is readable by others (mode {}); run `chmod 600 {}`",
                                  path.string(), config::detail::mode_text(file->mode), path.string()));
  }
  std::string token = file->text;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  const bool printable = std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 127; });
  if (token.empty() || !printable) {
    throw usage_error(fmt::format("--token-file {} must hold one token of printable characters without spaces",
                                  path.string()));
  }
  return token;
}

bool token_matches(std::string_view given, std::string_view expected)
{
  const std::string a = util::sha1_hex(given);
  const std::string b = util::sha1_hex(expected);
  unsigned diff = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff |= static_cast<unsigned>(static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0 && a.size() == b.size() && !expected.empty();
}

}  // namespace scalectl::http_server
