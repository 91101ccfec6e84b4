#pragma once
// URL text for messages and logs: credentials and secret-looking query values never appear.

#include <string>
#include <string_view>

namespace scalectl::net {

// Returns `url` without user:password@ and fragment, with the values of secret-looking query
// parameters (token, key, secret, password, signature, auth...) replaced by "REDACTED".
std::string redact_url(std::string_view url);

// Returns the redacted path and query of `url` (e.g. "/v2/droplets?page=2"), "/" when it has no path.
std::string redacted_target(std::string_view url);

}  // namespace scalectl::net
