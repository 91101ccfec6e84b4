#pragma once
// Text that came from outside (an API, a file, a server's error) made safe to print.

#include <string>
#include <string_view>

namespace scalectl::core {

// Returns `text` with ASCII control characters (including ESC, CR and LF) and DEL shown as \xHH,
// so a name or a message from a server can neither move the cursor nor forge an output line.
std::string escape_control(std::string_view text);

}  // namespace scalectl::core
