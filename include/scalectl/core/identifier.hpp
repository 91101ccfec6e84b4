#pragma once
// The id alphabet (worker ids, claim ids, policy names) and escaping of text shown to people.

#include <string>
#include <string_view>

namespace scalectl::core {

// Returns true when `text` holds only ASCII letters, digits, '-', '_', '.' and ':' (so it is valid
// UTF-8, has no control characters, and is stored and compared byte for byte everywhere).
inline bool is_identifier(std::string_view text)
{
  for (const char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.' || c == ':';
    if (!ok) {
      return false;
    }
  }
  return !text.empty();
}

// Returns `text` with control characters, DEL, backslash and bytes >= 0x80 written as \xHH, so
// that a terminal shows exactly what the bytes were and no escape sequence takes effect.
inline std::string escape_for_display(std::string_view text)
{
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '\\') {
      out += "\\x";
      out += k_hex[byte >> 4U];
      out += k_hex[byte & 0xfU];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace scalectl::core
