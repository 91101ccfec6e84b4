#pragma once
// Text that came from outside (an API, a file, a server's error) made safe to print.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace scalectl::core {

// Returns `text` with ASCII control characters (including ESC, CR and LF) and DEL shown as \xHH,
// so a name or a message from a server can neither move the cursor nor forge an output line.
std::string escape_control(std::string_view text);

// Returns the offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), or nullopt when all of `text` is UTF-8.
std::optional<std::size_t> invalid_utf8_offset(std::string_view text);

}  // namespace scalectl::core
