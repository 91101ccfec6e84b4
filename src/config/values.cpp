#include "values.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include <scalectl/duration.hpp>

#include "keys.hpp"

namespace scalectl::config::detail {

namespace {

std::string lower(std::string_view text)
{
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

std::optional<double> parse_double(std::string_view text)
{
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<bool> parse_bool(std::string_view text)
{
  const std::string word = lower(text);
  if (word == "true" || word == "1" || word == "yes" || word == "on") {
    return true;
  }
  if (word == "false" || word == "0" || word == "no" || word == "off") {
    return false;
  }
  return std::nullopt;
}

std::vector<std::string> split_list(std::string_view text)
{
  std::vector<std::string> items;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    if (!item.empty()) {
      items.emplace_back(item);
    }
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return items;
}

}  // namespace

std::string_view trim(std::string_view text)
{
  constexpr std::string_view k_space = " \t\r\n\f\v";
  const std::size_t first = text.find_first_not_of(k_space);
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(k_space) - first + 1);
}

std::optional<std::int64_t> parse_integer(std::string_view raw)
{
  const std::string_view text = trim(raw);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::string_view value_kind(const Value& value)
{
  if (std::holds_alternative<bool>(value)) {
    return "boolean";
  }
  if (std::holds_alternative<std::int64_t>(value)) {
    return "integer";
  }
  if (std::holds_alternative<double>(value)) {
    return "float";
  }
  if (std::holds_alternative<std::string>(value)) {
    return "string";
  }
  return "array of strings";
}

std::optional<std::chrono::milliseconds> to_duration(const Value& value)
{
  if (const auto* text = std::get_if<std::string>(&value)) {
    return parse_duration(*text);
  }
  if (const auto* seconds = std::get_if<std::int64_t>(&value)) {
    if (*seconds < 0 || *seconds > 1'000'000'000'000) {
      return std::nullopt;
    }
    return std::chrono::seconds(*seconds);
  }
  return std::nullopt;
}

namespace {

// Returns why a well-typed numeric `value` lies outside the key's [min, max], nullopt if it does not.
std::optional<std::string> out_of_bounds(const KeyInfo& info, ValueType type, const Value& value)
{
  if (!info.min && !info.max) {
    return std::nullopt;
  }
  double number = 0;
  std::string shown;
  if (type == ValueType::duration) {
    const auto duration = to_duration(value);
    if (!duration) {
      return std::nullopt;
    }
    number = static_cast<double>(duration->count()) / 1000.0;
    shown = format_duration(*duration);
  } else if (const auto* whole = std::get_if<std::int64_t>(&value)) {
    number = static_cast<double>(*whole);
    shown = std::to_string(*whole);
  } else if (const auto* real = std::get_if<double>(&value)) {
    number = *real;
    shown = fmt::format("{}", *real);
  } else {
    return std::nullopt;
  }
  const double low = info.min.value_or(-std::numeric_limits<double>::infinity());
  const double high = info.max.value_or(std::numeric_limits<double>::infinity());
  if (number >= low && number <= high) {
    return std::nullopt;
  }
  const auto bound = [&](double limit) {
    if (limit == 0) {
      return std::string("0");
    }
    return type == ValueType::duration
             ? format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(limit * 1000.0))))
             : fmt::format("{}", limit);
  };
  return fmt::format("{} is out of range; it must be between {} and {}", shown, bound(low), bound(high));
}

}  // namespace

std::optional<std::string> check_value(const KeyInfo& info, const Value& value)
{
  const ValueType type = value_type(info);
  const auto mismatch = [&] {
    return fmt::format("expected {}, found {}", describe_type(type), value_kind(value));
  };
  switch (type) {
    case ValueType::string:
      if (!std::holds_alternative<std::string>(value)) {
        return mismatch();
      }
      break;
    case ValueType::integer:
      if (!std::holds_alternative<std::int64_t>(value)) {
        return mismatch();
      }
      break;
    case ValueType::number:
      if (const auto* number = std::get_if<double>(&value)) {
        if (!std::isfinite(*number)) {
          return "expected a finite number";
        }
      } else if (!std::holds_alternative<std::int64_t>(value)) {
        return mismatch();
      }
      break;
    case ValueType::boolean:
      if (!std::holds_alternative<bool>(value)) {
        return mismatch();
      }
      break;
    case ValueType::strings:
      if (!std::holds_alternative<std::vector<std::string>>(value)) {
        return mismatch();
      }
      break;
    case ValueType::slugs:
      if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
        if (list->empty()) {
          return "expected at least one size slug";
        }
      } else if (!std::holds_alternative<std::string>(value)) {
        return mismatch();
      }
      break;
    case ValueType::duration:
      if (const auto* text = std::get_if<std::string>(&value)) {
        if (!parse_duration(*text)) {
          return fmt::format("invalid duration \"{}\"; write e.g. \"500ms\", \"30s\", \"5m\", \"1h30m\" or an "
                             "integer of seconds",
                             *text);
        }
      } else if (const auto* seconds = std::get_if<std::int64_t>(&value)) {
        if (!to_duration(value)) {
          return fmt::format("invalid duration {}; a number of seconds must be between 0 and 10^12", *seconds);
        }
      } else {
        return mismatch();
      }
      break;
  }
  if (const auto problem = out_of_bounds(info, type, value)) {
    return problem;
  }
  if (!info.choices.empty()) {
    const auto& text = std::get<std::string>(value);
    if (std::ranges::find(info.choices, text) == info.choices.end()) {
      return fmt::format("\"{}\" is not one of: {}", text, fmt::join(info.choices, ", "));
    }
  }
  return std::nullopt;
}

std::expected<Value, std::string> parse_text_value(const KeyInfo& info, std::string_view raw)
{
  const std::string_view text = trim(raw);
  const ValueType type = value_type(info);
  const std::string shown = info.secret ? std::string("the value") : fmt::format("\"{}\"", text);
  const auto reject = [&] { return std::unexpected(fmt::format("{} is not a valid {}", shown, describe_type(type))); };
  switch (type) {
    case ValueType::string:
      return Value(std::string(text));
    case ValueType::integer:
      if (const auto number = parse_integer(text)) {
        return Value(*number);
      }
      return reject();
    case ValueType::number:
      if (const auto whole = parse_integer(text)) {
        return Value(*whole);
      }
      if (const auto number = parse_double(text)) {
        return Value(*number);
      }
      return reject();
    case ValueType::boolean:
      if (const auto flag = parse_bool(text)) {
        return Value(*flag);
      }
      return std::unexpected(fmt::format("{} is not a boolean (true/false, 1/0, yes/no, on/off)", shown));
    case ValueType::duration:
      if (parse_duration(text)) {
        return Value(std::string(text));
      }
      return reject();
    case ValueType::strings:
      return Value(split_list(text));
    case ValueType::slugs: {
      auto list = split_list(text);
      if (list.size() == 1) {
        return Value(std::move(list.front()));
      }
      return Value(std::move(list));
    }
  }
  return reject();
}

}  // namespace scalectl::config::detail
