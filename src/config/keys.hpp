#pragma once
// Private: lookups over the schema table (src/config/schema.cpp) and the value types it names.

#include <optional>
#include <string>
#include <string_view>

#include <scalectl/config/config.hpp>

namespace scalectl::config::detail {

// `slugs`: a string or a non-empty array of strings, tried in order (droplet.up_size).
enum class ValueType { string, integer, number, boolean, duration, strings, slugs };

// Returns the value type named by `info.type`.
ValueType value_type(const KeyInfo& info);

// Returns the type as messages name it, e.g. "integer", "array of strings".
std::string_view describe_type(ValueType type);

// Returns the schema row for the dotted `key`, where a "*" in the schema matches any one table
// name; nullptr when the key is unknown.
const KeyInfo* find_key_info(std::string_view key);

// Returns true when some known key lies below `key`, i.e. `key` names a table.
bool is_table(std::string_view key);

// Returns the wildcard table `key` lies in or names, e.g. "capacity.worker_types.registre" for
// "capacity.worker_types.registre.cpu"; nullopt when it is not in one.
std::optional<std::string> wildcard_table_of(std::string_view key);

// Returns `pattern` with its wildcard table replaced by `table` when `table` is an instance of it
// ("autoscale.policies.*.min", "autoscale.policies.web" -> "autoscale.policies.web.min").
std::optional<std::string> instantiate(std::string_view pattern, std::string_view table);

// Returns the generic environment name of a key: SCALECTL_ + key, dots and dashes as
// underscores, upper case ("droplet.up_size" -> "SCALECTL_DROPLET_UP_SIZE").
std::string generic_env_name(std::string_view key);

// Returns true when `name` is a bare TOML key: letters, digits, '-' and '_', at least one.
bool is_bare_name(std::string_view name);

}  // namespace scalectl::config::detail
