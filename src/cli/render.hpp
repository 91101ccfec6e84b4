#pragma once
// Rendering helpers shared by every verb's `-o json` output.

#include <nlohmann/json.hpp>

namespace scalectl::cli {

// Prints `value` to stdout as JSON (pretty when `indent` >= 0, one line when -1), then a newline.
// Invalid UTF-8 from a server or a file becomes U+FFFD instead of failing the command.
void print_json(const nlohmann::json& value, int indent = 2);

}  // namespace scalectl::cli
