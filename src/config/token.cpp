// resolve_token(): finds the DigitalOcean API token. There is deliberately no flag for it: the
// command line is visible to every user through ps.

#include <scalectl/config/config.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <scalectl/process.hpp>

#include <scalectl/error.hpp>

#include "environment.hpp"
#include "read_file.hpp"
#include "values.hpp"

namespace scalectl::config {

namespace {

// Returns the trimmed token; throws when it is empty or would corrupt an HTTP header.
Token checked(std::string_view raw, std::string source)
{
  const std::string_view value = detail::trim(raw);
  if (value.empty()) {
    throw usage_error(fmt::format("the DigitalOcean token from {} is empty; put the token there or remove it", source));
  }
  if (std::ranges::any_of(value, [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == '\x7f'; })) {
    throw usage_error(fmt::format("the DigitalOcean token from {} contains spaces or control characters; it must "
                                  "hold only the token",
                                  source));
  }
  hold_secret_in_memory();
  return Token{std::string(value), std::move(source)};
}

// Returns the top-level `access-token:` of doctl's config.yaml, or "" when there is none.
std::string doctl_access_token(std::string_view yaml)
{
  constexpr std::string_view k_field = "access-token:";
  while (!yaml.empty()) {
    const std::size_t newline = yaml.find('\n');
    const std::string_view line = yaml.substr(0, newline);
    yaml = newline == std::string_view::npos ? std::string_view{} : yaml.substr(newline + 1);
    if (!line.starts_with(k_field)) {
      continue;  // indented lines belong to auth-contexts and other maps
    }
    std::string_view value = detail::trim(line.substr(k_field.size()));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (const std::size_t comment = value.find(" #"); comment != std::string_view::npos) {
      value = detail::trim(value.substr(0, comment));
    }
    return std::string(value);
  }
  return {};
}

}  // namespace

Token resolve_token(const Config& config, const LoadOptions& options)
{
  const detail::Environment env(options);
  std::vector<std::string> looked;

  // 1, 2: the environment, under the names doctl and Terraform use.
  for (const char* name : {"DIGITALOCEAN_ACCESS_TOKEN", "DIGITALOCEAN_TOKEN"}) {
    if (const auto value = env.get(name); value && !detail::trim(*value).empty()) {
      return checked(*value, fmt::format("env {}", name));
    }
    looked.push_back(fmt::format("env {}", name));
  }

  // 3: a systemd credential (LoadCredential=digitalocean-token:...).
  if (const auto directory = env.get("CREDENTIALS_DIRECTORY")) {
    const std::filesystem::path path = std::filesystem::path(*directory) / "digitalocean-token";
    if (const auto file = detail::read_regular_file(path, "credential")) {
      return checked(file->text, fmt::format("credential {}", path.string()));
    }
    looked.push_back(path.string());
  } else {
    looked.emplace_back("$CREDENTIALS_DIRECTORY/digitalocean-token");
  }

  // 4: digitalocean.token in a config file (the loader refused files group or others can read).
  if (const auto token = config.get_string("digitalocean.token")) {
    return checked(*token, fmt::format("digitalocean.token ({})", config.find("digitalocean.token")->origin.describe()));
  }
  looked.emplace_back("digitalocean.token");

  // 5: digitalocean.token_file.
  if (const auto token_file = config.get_string("digitalocean.token_file")) {
    const std::string origin = config.find("digitalocean.token_file")->origin.describe();
    const auto file = detail::read_regular_file(*token_file, "token file");
    if (!file) {
      throw usage_error(fmt::format("token file {} (digitalocean.token_file, {}) does not exist; create it or fix "
                                    "the path",
                                    *token_file, origin));
    }
    if (detail::group_or_other_access(file->mode)) {
      throw usage_error(fmt::format("permissions {} for token file '{}' are too open: group and others must have "
                                    "no access; run `chmod 600 {}`",
                                    detail::mode_text(file->mode), *token_file, *token_file));
    }
    return checked(file->text, fmt::format("token_file {}", *token_file));
  }
  looked.emplace_back("digitalocean.token_file");

  // 6: doctl's own configuration, for hosts already set up with `doctl auth init`.
  if (const auto config_home = env.config_home()) {
    const std::filesystem::path path = *config_home / "doctl" / "config.yaml";
    if (const auto file = detail::read_regular_file(path, "doctl config")) {
      if (const std::string token = doctl_access_token(file->text); !token.empty()) {
        return checked(token, fmt::format("doctl config {}", path.string()));
      }
    }
    looked.push_back(path.string());
  } else {
    looked.emplace_back("~/.config/doctl/config.yaml");
  }

  throw usage_error(fmt::format("no DigitalOcean API token found (looked in: {}); set DIGITALOCEAN_ACCESS_TOKEN "
                                "or point digitalocean.token_file at a mode 0600 file",
                                fmt::join(looked, ", ")));
}

}  // namespace scalectl::config
