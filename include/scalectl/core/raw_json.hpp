#pragma once
// JSON that goes back to the API as it came: object keys keep their order (ordered_json) and
// non-integer numbers keep their spelling ("1.50", "1e3", integers beyond 64 bits). Such numbers
// are held as binary values with subtype k_raw_number_subtype, which JSON text never produces,
// and dump_raw_json() writes their text back verbatim.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace scalectl::core {

using RawJson = nlohmann::ordered_json;

// The binary subtype that marks a number kept as its source text.
inline constexpr std::uint8_t k_raw_number_subtype = 0x4e;

// Returns `text` parsed with key order and number spelling kept; throws Error(failure) naming
// `what` and the parser's message when it is not JSON.
RawJson parse_raw_json(std::string_view text, std::string_view what);

// Returns compact JSON text; raw numbers are written as they were read, strings are escaped
// as nlohmann::json does (UTF-8 kept, control characters escaped).
std::string dump_raw_json(const RawJson& value);

// Returns a copy of `value` as a plain nlohmann::json (raw numbers become numbers), for output.
nlohmann::json to_plain_json(const RawJson& value);

// Returns the integer value of `value` (an integer, or an integral float or raw number), or
// nullopt when it is not an integral number.
std::optional<std::int64_t> integral_value(const RawJson& value);

// Returns the numeric value of `value` (any number or raw number), or nullopt.
std::optional<double> number_value(const RawJson& value);

}  // namespace scalectl::core
