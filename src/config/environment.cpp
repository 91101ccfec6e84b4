#include "environment.hpp"

#include <cstdlib>

namespace scalectl::config::detail {

Environment::Environment(const LoadOptions& options)
  : m_injected(options.environment ? &*options.environment : nullptr),
    m_home(options.home)
{
}

std::optional<std::string> Environment::get(std::string_view name) const
{
  const std::string key(name);
  if (m_injected != nullptr) {
    const auto it = m_injected->find(key);
    if (it == m_injected->end() || it->second.empty()) {
      return std::nullopt;
    }
    return it->second;
  }
  const char* value = std::getenv(key.c_str());
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  return std::string(value);
}

std::optional<std::filesystem::path> Environment::home() const
{
  if (m_home) {
    return m_home;
  }
  if (auto home = get("HOME")) {
    return std::filesystem::path(*home);
  }
  return std::nullopt;
}

std::optional<std::filesystem::path> Environment::config_home() const
{
  if (auto xdg = get("XDG_CONFIG_HOME")) {
    std::filesystem::path path(*xdg);
    if (path.is_absolute()) {
      return path;
    }
  }
  if (auto home_dir = home()) {
    return *home_dir / ".config";
  }
  return std::nullopt;
}

}  // namespace scalectl::config::detail
