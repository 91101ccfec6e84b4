#pragma once
// Private pieces of the libcurl transport, exposed for unit tests. make_curl_transport() itself is
// declared in <scalectl/net/http.hpp>.

#include <string>
#include <string_view>
#include <vector>

#include <scalectl/net/http.hpp>

namespace scalectl::net {

// Response bodies larger than this abort the transfer: no DigitalOcean response comes close.
inline constexpr std::size_t k_max_response_body = 64u * 1024u * 1024u;

// Maps a CURLcode to a TransportError kind; `request_sent` is false when the transfer failed before
// the request went out (then the server cannot have acted, and the failure counts as `connect`).
TransportError::Kind classify_curl_error(int curl_code, bool request_sent);

// Adds one raw header line (as libcurl's header callback receives it) to `headers`: a status line
// starts a new block, so only the final response's headers remain; folded lines extend the last value.
void add_header_line(std::vector<Header>& headers, std::string_view line);

// Returns the --verbose line for one answered request, e.g.
// "GET /v2/droplets?page=2 200 87ms ratelimit-remaining=4998".
std::string verbose_line(const Request& request, const Response& response);

}  // namespace scalectl::net
