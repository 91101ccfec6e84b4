#pragma once
// Private: "did you mean" suggestions for unknown configuration keys.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <scalectl/suggest.hpp>

namespace scalectl::config::detail {

using scalectl::edit_distance;

// Returns the known key the unknown dotted `key` most likely meant, with the table names the
// user wrote kept in wildcard positions; nullopt when no key is close.
std::optional<std::string> suggest_key(std::string_view key);

}  // namespace scalectl::config::detail
