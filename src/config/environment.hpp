#pragma once
// Private: the process environment as the config layers see it, injectable through LoadOptions.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <scalectl/config/config.hpp>

namespace scalectl::config::detail {

class Environment {
 public:
  // Reads LoadOptions::environment when set, else the real environment.
  explicit Environment(const LoadOptions& options);

  // Returns the variable's value, or nullopt when it is unset or empty.
  std::optional<std::string> get(std::string_view name) const;

  // Returns LoadOptions::home, else $HOME; nullopt when neither is set.
  std::optional<std::filesystem::path> home() const;

  // Returns $XDG_CONFIG_HOME when it is an absolute path, else ~/.config; nullopt without a home.
  std::optional<std::filesystem::path> config_home() const;

 private:
  const std::map<std::string, std::string>* m_injected;
  std::optional<std::filesystem::path> m_home;
};

}  // namespace scalectl::config::detail
