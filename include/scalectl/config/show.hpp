#pragma once
// Rendering of `scalectl config show`: every effective value with its origin, secrets redacted.

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include <scalectl/config/config.hpp>

namespace scalectl::config {

// The text that replaces a secret in any output.
inline constexpr std::string_view k_redacted = "<redacted>";

// Returns `text` with the password of every URL userinfo replaced by k_redacted, e.g.
// "redis://:pw@host" -> "redis://:<redacted>@host"; other text is unchanged.
std::string redact_url_passwords(std::string_view text);

// Returns one line "(origin) key = value" per entry, in key order. Strings are quoted, lists
// print as ["a", "b"]; secret keys print as "<redacted>" and URL passwords are redacted.
std::string show_text(const Config& config);

// Returns {"key": {"value": ..., "origin": "..."}, ...} with values as JSON types and the same
// redaction as show_text.
nlohmann::json show_json(const Config& config);

}  // namespace scalectl::config
