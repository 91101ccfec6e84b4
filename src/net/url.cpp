#include "net/url.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace scalectl::net {

namespace {

constexpr std::array<std::string_view, 9> k_secret_words{
  "token", "key", "secret", "password", "passwd", "auth", "signature", "credential", "session"};

bool looks_secret(std::string_view name)
{
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::any_of(k_secret_words.begin(), k_secret_words.end(),
                     [&](std::string_view word) { return lower.find(word) != std::string::npos; });
}

std::string redact_query(std::string_view query)
{
  std::string out;
  std::size_t pos = 0;
  while (pos <= query.size()) {
    const std::size_t end = std::min(query.find('&', pos), query.size());
    const std::string_view pair = query.substr(pos, end - pos);
    const std::size_t eq = pair.find('=');
    if (pos > 0) {
      out += '&';
    }
    if (eq != std::string_view::npos && looks_secret(pair.substr(0, eq))) {
      out += pair.substr(0, eq + 1);
      out += "REDACTED";
    } else {
      out += pair;
    }
    pos = end + 1;
  }
  return out;
}

struct UrlParts {
  std::string_view scheme;  // "https://" or empty
  std::string_view host;    // "host:port", credentials removed
  std::string_view path;
  std::string_view query;   // without '?'
  bool has_query = false;
};

UrlParts split(std::string_view url)
{
  UrlParts parts;
  url = url.substr(0, url.find('#'));
  std::string_view rest = url;
  if (const std::size_t scheme_end = url.find("://"); scheme_end != std::string_view::npos) {
    parts.scheme = url.substr(0, scheme_end + 3);
    rest = url.substr(scheme_end + 3);
    const std::size_t authority_end = std::min(rest.find_first_of("/?"), rest.size());
    parts.host = rest.substr(0, authority_end);
    if (const std::size_t at = parts.host.rfind('@'); at != std::string_view::npos) {
      parts.host = parts.host.substr(at + 1);
    }
    rest = rest.substr(authority_end);
  }
  const std::size_t question = rest.find('?');
  parts.path = rest.substr(0, question);
  if (question != std::string_view::npos) {
    parts.has_query = true;
    parts.query = rest.substr(question + 1);
  }
  return parts;
}

std::string path_and_query(const UrlParts& parts)
{
  std::string out(parts.path);
  if (parts.has_query) {
    out += '?';
    out += redact_query(parts.query);
  }
  return out;
}

}  // namespace

std::string redact_url(std::string_view url)
{
  const UrlParts parts = split(url);
  return std::string(parts.scheme) + std::string(parts.host) + path_and_query(parts);
}

std::string redacted_target(std::string_view url)
{
  const UrlParts parts = split(url);
  std::string target = path_and_query(parts);
  if (target.empty() || target.front() == '?') {
    target.insert(0, "/");
  }
  return target;
}

}  // namespace scalectl::net
