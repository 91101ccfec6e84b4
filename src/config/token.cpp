// resolve_token(): finds the DigitalOcean API token. There is deliberately no flag for it: the
// command line is visible to every user through ps.

#include <scalectl/config/config.hpp>

#include <algorithm>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include <scalectl/process.hpp>

#include <scalectl/error.hpp>

#include "doctl.hpp"
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

// Returns the token doctl's config.yaml gives for `wanted` (else its current context), or
// nullopt when the file is absent or that context has no token.
std::optional<Token> doctl_token(const detail::Environment& env, const std::optional<std::string>& wanted,
                                 std::vector<std::string>& looked)
{
  const auto config_home = env.config_home();
  if (!config_home) {
    looked.emplace_back("~/.config/doctl/config.yaml");
    return std::nullopt;
  }
  const std::filesystem::path path = *config_home / "doctl" / "config.yaml";
  looked.push_back(path.string());
  const auto file = detail::read_regular_file(path, "doctl config");
  if (!file) {
    return std::nullopt;
  }
  const auto choice = detail::choose_doctl_token(detail::parse_doctl_config(file->text), wanted, path.string());
  if (!choice) {
    return std::nullopt;
  }
  const std::string source = choice->context == "default" && !wanted
                                 ? fmt::format("doctl config {}", path.string())
                                 : fmt::format("doctl config {} (context {})", path.string(), choice->context);
  return checked(choice->token, source);
}

}  // namespace

Token resolve_token(const Config& config, const LoadOptions& options)
{
  const detail::Environment env(options);
  std::vector<std::string> looked;

  // 0: an explicit doctl context (--context, DIGITALOCEAN_CONTEXT) names the token to use.
  std::optional<std::string> wanted_context = options.doctl_context;
  if (!wanted_context) {
    wanted_context = env.get("DIGITALOCEAN_CONTEXT");
  }
  if (wanted_context) {
    if (auto token = doctl_token(env, wanted_context, looked)) {
      return std::move(*token);
    }
    throw usage_error(fmt::format("doctl context '{}' has no token ({} is missing or holds none); run `doctl auth "
                                  "init --context {}` or drop --context/DIGITALOCEAN_CONTEXT",
                                  wanted_context->substr(0, 64), looked.back(), wanted_context->substr(0, 64)));
  }

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

  // 6: doctl's own configuration (its current context), for hosts set up with `doctl auth init`.
  if (auto token = doctl_token(env, std::nullopt, looked)) {
    return std::move(*token);
  }

  throw usage_error(fmt::format("no DigitalOcean API token found (looked in: {}); set DIGITALOCEAN_ACCESS_TOKEN "
                                "or point digitalocean.token_file at a mode 0600 file",
                                fmt::join(looked, ", ")));
}

std::string describe_token_source(const Config& config, const LoadOptions& options)
{
  try {
    return resolve_token(config, options).source;
  } catch (const Error& e) {
    return fmt::format("none: {}", e.what());
  }
}

}  // namespace scalectl::config
