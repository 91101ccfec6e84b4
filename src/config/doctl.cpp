#include "doctl.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <scalectl/error.hpp>

#include "values.hpp"

namespace scalectl::config::detail {

namespace {

constexpr std::size_t k_max_contexts = 256;
constexpr std::size_t k_max_value = 4096;

// Returns a YAML scalar without quotes or a trailing comment.
std::string scalar(std::string_view value)
{
  value = trim(value);
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  } else if (const std::size_t comment = value.find(" #"); comment != std::string_view::npos) {
    value = trim(value.substr(0, comment));
  }
  return std::string(value.substr(0, k_max_value));
}

// Splits "key: value" into its parts; nullopt when the line has no ": " or ends in ":".
std::optional<std::pair<std::string_view, std::string_view>> key_value(std::string_view line)
{
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return std::nullopt;
  }
  return std::pair{trim(line.substr(0, colon)), line.substr(colon + 1)};
}

// Adds the entries of an inline flow map "{a: x, b: y}" to `out`.
void add_flow_map(std::string_view text, std::map<std::string, std::string>& out)
{
  text = trim(text);
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') {
    return;
  }
  text = text.substr(1, text.size() - 2);
  while (!text.empty() && out.size() < k_max_contexts) {
    const std::size_t comma = text.find(',');
    if (const auto kv = key_value(text.substr(0, comma))) {
      out[scalar(kv->first)] = scalar(kv->second);
    }
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
}

}  // namespace

DoctlConfig parse_doctl_config(std::string_view yaml)
{
  DoctlConfig out;
  bool in_contexts = false;
  while (!yaml.empty()) {
    const std::size_t newline = yaml.find('\n');
    std::string_view line = yaml.substr(0, newline);
    yaml = newline == std::string_view::npos ? std::string_view{} : yaml.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (trim(line).empty() || trim(line).starts_with('#')) {
      continue;
    }
    const bool indented = line.front() == ' ' || line.front() == '\t';
    const auto kv = key_value(line);
    if (indented) {
      if (in_contexts && kv && out.auth_contexts.size() < k_max_contexts) {
        out.auth_contexts[scalar(kv->first)] = scalar(kv->second);
      }
      continue;
    }
    in_contexts = false;
    if (!kv) {
      continue;
    }
    if (kv->first == "access-token") {
      out.access_token = scalar(kv->second);
    } else if (kv->first == "context") {
      out.context = scalar(kv->second);
    } else if (kv->first == "auth-contexts") {
      in_contexts = trim(kv->second).empty();
      add_flow_map(kv->second, out.auth_contexts);
    }
  }
  return out;
}

std::optional<DoctlChoice> choose_doctl_token(const DoctlConfig& doctl, const std::optional<std::string>& wanted,
                                              std::string_view path)
{
  std::string name = wanted.value_or(doctl.context);
  if (name.empty()) {
    name = "default";
    if (doctl.access_token.empty() && !doctl.auth_contexts.empty()) {
      std::vector<std::string> names;
      for (const auto& [context, token] : doctl.auth_contexts) {
        names.push_back(context);
      }
      throw usage_error(fmt::format("doctl config {} has only named contexts ({}) and no current one; pass "
                                    "--context NAME, set DIGITALOCEAN_CONTEXT, or run `doctl auth switch --context NAME`",
                                    path, fmt::join(names, ", ")));
    }
  }
  if (name == "default") {
    if (doctl.access_token.empty()) {
      return std::nullopt;
    }
    return DoctlChoice{doctl.access_token, name};
  }
  const auto found = doctl.auth_contexts.find(name);
  if (found == doctl.auth_contexts.end()) {
    std::vector<std::string> names;
    if (!doctl.access_token.empty()) {
      names.emplace_back("default");
    }
    for (const auto& [context, token] : doctl.auth_contexts) {
      names.push_back(context);
    }
    throw usage_error(fmt::format("doctl context '{}' is not in {} (it has: {}); pick one of those with --context or "
                                  "DIGITALOCEAN_CONTEXT, or run `doctl auth init --context {}`",
                                  name.substr(0, 64), path, names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")),
                                  name.substr(0, 64)));
  }
  if (found->second.empty()) {
    return std::nullopt;
  }
  return DoctlChoice{found->second, name};
}

}  // namespace scalectl::config::detail
