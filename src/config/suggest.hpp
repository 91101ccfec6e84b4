#pragma once
// Private: "did you mean" suggestions for unknown configuration keys.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace scalectl::config::detail {

// Returns the optimal-string-alignment distance between `a` and `b`: insertions, deletions,
// substitutions and swaps of two adjacent characters each cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

// Returns the known key the unknown dotted `key` most likely meant, with the table names the
// user wrote kept in wildcard positions; nullopt when no key is close.
std::optional<std::string> suggest_key(std::string_view key);

}  // namespace scalectl::config::detail
