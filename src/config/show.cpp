#include <scalectl/config/show.hpp>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "keys.hpp"

namespace scalectl::config {

namespace {

bool is_secret(const std::string& key, const Entry& entry)
{
  if (entry.secret) {
    return true;
  }
  const KeyInfo* info = detail::find_key_info(key);
  return info != nullptr && info->secret;
}

// Returns the value as JSON with URL passwords redacted.
nlohmann::json redacted_json(const Value& value)
{
  if (const auto* text = std::get_if<std::string>(&value)) {
    return redact_url_passwords(*text);
  }
  if (const auto* items = std::get_if<std::vector<std::string>>(&value)) {
    nlohmann::json array = nlohmann::json::array();
    for (const std::string& item : *items) {
      array.push_back(redact_url_passwords(item));
    }
    return array;
  }
  return std::visit([](const auto& scalar) { return nlohmann::json(scalar); }, value);
}

std::string dump(const nlohmann::json& value)
{
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Returns the value as show_text prints it: TOML-like, lists with ", " between items.
std::string text_of(const nlohmann::json& value)
{
  if (!value.is_array()) {
    return dump(value);
  }
  std::string out = "[";
  for (std::size_t i = 0; i < value.size(); ++i) {
    out += (i == 0 ? "" : ", ") + dump(value[i]);
  }
  return out + "]";
}

}  // namespace

std::string redact_url_passwords(std::string_view text)
{
  std::string out;
  std::size_t done = 0;
  for (std::size_t scheme = text.find("://"); scheme != std::string_view::npos;
       scheme = text.find("://", std::max(scheme + 3, done))) {
    const std::size_t start = scheme + 3;
    // redis:// and rediss://: the LAST '@' before the end of the word, as the Redis URL parser
    // reads it (a password may hold '@', '/', '?' or '#'). Other URLs: the authority ends at
    // the first '/', '?' or '#', as RFC 3986 and curl read it.
    const std::string_view scheme_name = text.substr(0, scheme);
    const bool redis = scheme_name.ends_with("redis") || scheme_name.ends_with("rediss");
    const std::size_t end =
        std::min(text.find_first_of(redis ? " \t\r\n" : "/?# \t\r\n", start), text.size());
    const std::string_view authority = text.substr(start, end - start);
    const std::size_t at = authority.rfind('@');
    if (at == std::string_view::npos) {
      continue;
    }
    const std::size_t colon = authority.substr(0, at).find(':');
    if (colon == std::string_view::npos || colon + 1 == at) {
      continue;  // no password, or an empty one
    }
    out.append(text.substr(done, start + colon + 1 - done));
    out.append(k_redacted);
    done = start + at;
  }
  out.append(text.substr(done));
  return out;
}

std::string show_text(const Config& config)
{
  std::string out;
  for (const auto& [key, entry] : config.entries()) {
    const std::string value = is_secret(key, entry) ? dump(std::string(k_redacted)) : text_of(redacted_json(entry.value));
    out += "(" + entry.origin.describe() + ") " + key + " = " + value + "\n";
  }
  return out;
}

nlohmann::json show_json(const Config& config)
{
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, entry] : config.entries()) {
    out[key] = {{"value", is_secret(key, entry) ? nlohmann::json(std::string(k_redacted)) : redacted_json(entry.value)},
                {"origin", entry.origin.describe()}};
  }
  return out;
}

}  // namespace scalectl::config
