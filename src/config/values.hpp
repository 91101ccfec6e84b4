#pragma once
// Private: checking configuration values against their schema type, and converting text
// (environment variables, flags, schema defaults) to typed values.

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include <scalectl/config/config.hpp>

namespace scalectl::config::detail {

// Returns the type of `value` as messages name it: "string", "integer", "float", "boolean",
// "array of strings".
std::string_view value_kind(const Value& value);

// Returns the duration held by a duration value (a string such as "30s", or integer seconds),
// or nullopt when it holds no valid non-negative duration.
std::optional<std::chrono::milliseconds> to_duration(const Value& value);

// Returns why `value` does not fit `info` (type, duration syntax, allowed choices), or nullopt
// when it fits.
std::optional<std::string> check_value(const KeyInfo& info, const Value& value);

// Converts `text` to a value of the key's type: integers, numbers, booleans (true/false, 1/0,
// yes/no, on/off), durations, comma-separated string lists; returns why it cannot on failure.
// The text is trimmed; it is never echoed in the reason for a secret key.
std::expected<Value, std::string> parse_text_value(const KeyInfo& info, std::string_view text);

// Returns the integer spelled by all of the (trimmed) `text`, or nullopt.
std::optional<std::int64_t> parse_integer(std::string_view text);

// Returns `text` without leading and trailing whitespace.
std::string_view trim(std::string_view text);

}  // namespace scalectl::config::detail
