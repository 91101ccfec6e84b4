#include <scalectl/config/config.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <scalectl/error.hpp>

#include "values.hpp"

namespace scalectl::config {

namespace {

[[noreturn]] void wrong_type(std::string_view key, const Entry& entry, std::string_view expected)
{
  throw usage_error(fmt::format("{} ({}): expected {}, found {}; fix the value there", key, entry.origin.describe(),
                                expected, detail::value_kind(entry.value)));
}

// Returns the value of `key` as T, nullopt when unset; throws when it holds another type.
template <typename T>
std::optional<T> get_as(const Config& config, std::string_view key, std::string_view expected)
{
  const Entry* entry = config.find(key);
  if (entry == nullptr) {
    return std::nullopt;
  }
  if (const T* value = std::get_if<T>(&entry->value)) {
    return *value;
  }
  wrong_type(key, *entry, expected);
}

}  // namespace

std::string Origin::describe() const
{
  switch (layer) {
    case Layer::builtin:
      return detail.empty() ? "default" : fmt::format("default, {}", detail);
    case Layer::system_file:
    case Layer::user_file:
    case Layer::explicit_file: {
      // detail is "path:line:col"; the column is noise in a listing.
      const auto numeric = [](std::string_view text) {
        return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
      };
      const std::string_view text = detail;
      const std::size_t column = text.rfind(':');
      const std::size_t line = column == std::string_view::npos || column == 0 ? std::string_view::npos
                                                                               : text.rfind(':', column - 1);
      if (line != std::string_view::npos && numeric(text.substr(column + 1)) &&
          numeric(text.substr(line + 1, column - line - 1))) {
        return std::string(text.substr(0, column));
      }
      return detail;
    }
    case Layer::environment:
      return fmt::format("env {}", detail);
    case Layer::flag:
      return fmt::format("flag {}", detail);
  }
  return detail;
}

const Entry* Config::find(std::string_view key) const
{
  const auto it = m_entries.find(std::string(key));
  return it == m_entries.end() ? nullptr : &it->second;
}

std::optional<std::string> Config::get_string(std::string_view key) const
{
  return get_as<std::string>(*this, key, "string");
}

std::optional<std::int64_t> Config::get_int(std::string_view key) const
{
  return get_as<std::int64_t>(*this, key, "integer");
}

std::optional<double> Config::get_number(std::string_view key) const
{
  const Entry* entry = find(key);
  if (entry == nullptr) {
    return std::nullopt;
  }
  if (const auto* whole = std::get_if<std::int64_t>(&entry->value)) {
    return static_cast<double>(*whole);
  }
  if (const auto* number = std::get_if<double>(&entry->value)) {
    return *number;
  }
  wrong_type(key, *entry, "number");
}

std::optional<bool> Config::get_bool(std::string_view key) const
{
  return get_as<bool>(*this, key, "boolean");
}

std::optional<std::chrono::milliseconds> Config::get_duration(std::string_view key) const
{
  const Entry* entry = find(key);
  if (entry == nullptr) {
    return std::nullopt;
  }
  if (auto duration = detail::to_duration(entry->value)) {
    return duration;
  }
  wrong_type(key, *entry, "duration (\"30s\", \"5m\" or an integer of seconds)");
}

std::optional<std::vector<std::string>> Config::get_strings(std::string_view key) const
{
  return get_as<std::vector<std::string>>(*this, key, "array of strings");
}

std::optional<std::vector<std::string>> Config::get_slugs(std::string_view key) const
{
  const Entry* entry = find(key);
  if (entry == nullptr) {
    return std::nullopt;
  }
  if (const auto* one = std::get_if<std::string>(&entry->value)) {
    return std::vector<std::string>{*one};
  }
  if (const auto* list = std::get_if<std::vector<std::string>>(&entry->value)) {
    return *list;
  }
  wrong_type(key, *entry, "string or array of strings");
}

std::vector<std::string> Config::table_names(std::string_view prefix) const
{
  const std::string head = std::string(prefix) + ".";
  std::vector<std::string> names;
  for (const std::string& key : m_order) {
    if (!key.starts_with(head)) {
      continue;
    }
    const std::string_view rest = std::string_view(key).substr(head.size());
    const std::size_t dot = rest.find('.');
    if (dot == std::string_view::npos || dot == 0) {
      continue;  // a value directly under `prefix`, not a table
    }
    std::string name(rest.substr(0, dot));
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(std::move(name));
    }
  }
  return names;
}

void Config::set(const std::string& key, Value value, Origin origin, bool secret)
{
  const auto [it, inserted] = m_entries.insert_or_assign(key, Entry{std::move(value), std::move(origin), secret});
  if (inserted) {
    m_order.push_back(key);
  }
}

}  // namespace scalectl::config
