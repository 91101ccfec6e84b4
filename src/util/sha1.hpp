#pragma once
// SHA-1 (FIPS 180-4), used to name Lua scripts for Redis EVALSHA. Not for security.

#include <string>
#include <string_view>

namespace scalectl::util {

// Returns the SHA-1 digest of `data` as 40 lowercase hex characters.
std::string sha1_hex(std::string_view data);

}  // namespace scalectl::util
