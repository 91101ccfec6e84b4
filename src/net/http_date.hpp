#pragma once
// HTTP-date parsing (RFC 9110 section 5.6.7), for retry-after.

#include <optional>
#include <string_view>

namespace scalectl::net {

// Returns the Unix time of an HTTP-date in any of the three RFC 9110 formats (IMF-fixdate,
// obsolete RFC 850, asctime), or nullopt if `text` is not one.
std::optional<double> parse_http_date(std::string_view text);

}  // namespace scalectl::net
