#include "toml_reader.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/core/text.hpp>
#include <scalectl/error.hpp>

// toml++ 3.3 asserts on some malformed input that its parser then reports as an error anyway
// ("[" then a newline; found by fuzz_toml_config). A config file is user input, so in every
// build type that is an error, not an abort; release builds with GCC already behave so.
#define TOML_ASSERT(expr) static_cast<void>(0)
#define TOML_ENABLE_FORMATTERS 0
#define TOML_ENABLE_WINDOWS_COMPAT 0
#include <toml++/toml.h>

namespace scalectl::config::detail {

namespace {

std::string kind_name(toml::node_type type)
{
  switch (type) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// An inline table of scalars as one JSON object text, for arrays of tables such as
// `policies = [{ pods = 4, period = "15s" }]`; nullopt when a value is not a scalar.
std::optional<std::string> table_as_json(const toml::table& table)
{
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, node] : table) {
    if (const auto* text = node.as_string()) {
      out[std::string(key.str())] = text->get();
    } else if (const auto* integer = node.as_integer()) {
      out[std::string(key.str())] = integer->get();
    } else if (const auto* number = node.as_floating_point()) {
      out[std::string(key.str())] = number->get();
    } else if (const auto* flag = node.as_boolean()) {
      out[std::string(key.str())] = flag->get();
    } else {
      return std::nullopt;
    }
  }
  return out.dump();
}

std::optional<Value> to_value(const toml::node& node)
{
  if (const auto* text = node.as_string()) {
    return Value(text->get());
  }
  if (const auto* integer = node.as_integer()) {
    return Value(integer->get());
  }
  if (const auto* number = node.as_floating_point()) {
    return Value(number->get());
  }
  if (const auto* flag = node.as_boolean()) {
    return Value(flag->get());
  }
  if (const auto* array = node.as_array()) {
    std::vector<std::string> items;
    for (const toml::node& item : *array) {
      if (const auto* table = item.as_table()) {
        auto json = table_as_json(*table);
        if (!json) {
          return std::nullopt;
        }
        items.push_back(std::move(*json));
        continue;
      }
      const auto* text = item.as_string();
      if (text == nullptr) {
        return std::nullopt;
      }
      items.push_back(text->get());
    }
    return Value(std::move(items));
  }
  return std::nullopt;
}

void walk(const toml::table& table, std::vector<std::string>& path, std::vector<TomlNode>& out)
{
  for (const auto& [key, node] : table) {
    path.emplace_back(key.str());
    const toml::source_position& at = key.source().begin;
    out.push_back(TomlNode{.path = path, .kind = kind_name(node.type()), .value = to_value(node),
                           .line = at.line, .column = at.column});
    if (const auto* child = node.as_table()) {
      walk(*child, path, out);
    }
    path.pop_back();
  }
}

}  // namespace

namespace {

// Refuses what TOML 1.0 forbids everywhere before toml++ sees it: a document that is not UTF-8,
// and control characters other than tab, LF and CR (allowed in no key, value or comment).
void require_toml_text(std::string_view text, const std::string& path)
{
  const auto where = [&](std::size_t offset) {
    const std::string_view before = text.substr(0, offset);
    const auto line = 1 + static_cast<std::size_t>(std::ranges::count(before, '\n'));
    const auto line_start = before.rfind('\n');
    const auto column = offset - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
    return fmt::format("{}:{}:{}", path, line, column);
  };
  if (const auto bad = core::invalid_utf8_offset(text)) {
    throw usage_error(fmt::format("{}: invalid TOML: not UTF-8 (byte 0x{:02x}); save the file as UTF-8", where(*bad),
                                  static_cast<unsigned char>(text[*bad])));
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if ((byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') || byte == 0x7f) {
      throw usage_error(fmt::format("{}: invalid TOML: control character 0x{:02x}; write it as an escape inside a "
                                    "string, or remove it",
                                    where(i), byte));
    }
  }
}

// toml++ 3.3's is_non_ascii_horizontal_whitespace reaches __builtin_unreachable (undefined
// behaviour in every build) for most code points in U+00A1..U+FEFE: é, Cyrillic, CJK
// punctuation... It is called wherever the parser looks for whitespace, which can be inside a
// valid multi-line string or in the bad token of an invalid line (fuzz_toml_config found both
// kinds). So toml++ never sees those code points: each is shifted to U+F0000 + itself (plane 15,
// above the table's range, and like the original neither whitespace nor a bare-key letter, so the
// parse is the same), and shifted back in keys, strings and messages. Plane 15 itself is refused.
constexpr char32_t k_shift = 0xF0000;

bool shifted_for_tomlpp(char32_t c)
{
  const bool whitespace_it_knows = c == 0xA0 || c == 0x1680 || c == 0x180E || (c >= 0x2000 && c <= 0x200B) ||
                                   c == 0x202F || c == 0x205F || c == 0x2060 || c == 0x3000 || c == 0xFEFF;
  return c >= 0xA1 && c <= 0xFEFE && !whitespace_it_knows;
}

// Decodes the UTF-8 sequence at `text[i]` (already validated) and advances `i` past it.
char32_t next_code_point(std::string_view text, std::size_t& i)
{
  const auto lead = static_cast<unsigned char>(text[i]);
  const std::size_t length = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
  char32_t c = length == 1 ? lead : (lead & (0xffU >> (length + 1)));
  for (std::size_t k = 1; k < length; ++k) {
    c = (c << 6U) | (static_cast<unsigned char>(text[i + k]) & 0x3fU);
  }
  i += length;
  return c;
}

void append_utf8(std::string& out, char32_t c)
{
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xc0 | (c >> 6U));
    out += static_cast<char>(0x80 | (c & 0x3fU));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xe0 | (c >> 12U));
    out += static_cast<char>(0x80 | ((c >> 6U) & 0x3fU));
    out += static_cast<char>(0x80 | (c & 0x3fU));
  } else {
    out += static_cast<char>(0xf0 | (c >> 18U));
    out += static_cast<char>(0x80 | ((c >> 12U) & 0x3fU));
    out += static_cast<char>(0x80 | ((c >> 6U) & 0x3fU));
    out += static_cast<char>(0x80 | (c & 0x3fU));
  }
}

// Returns `text` with the code points toml++ misreads shifted up by k_shift.
std::string shift_for_tomlpp(std::string_view text, const std::string& path)
{
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size();) {
    const char32_t c = next_code_point(text, i);
    line += c == '\n' ? 1 : 0;
    if (c >= k_shift + 0xA1 && c <= k_shift + 0xFEFE) {
      throw usage_error(fmt::format("{}:{}: invalid TOML for scalectl: U+{:X} (plane 15 private use) cannot be read; "
                                    "remove it",
                                    path, line, static_cast<std::uint32_t>(c)));
    }
    append_utf8(out, shifted_for_tomlpp(c) ? c + k_shift : c);
  }
  return out;
}

// Returns `text` with shift_for_tomlpp undone.
std::string unshift(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const char32_t c = next_code_point(text, i);
    append_utf8(out, c >= k_shift + 0xA1 && c <= k_shift + 0xFEFE ? c - k_shift : c);
  }
  return out;
}

void unshift(TomlNode& node)
{
  for (auto& segment : node.path) {
    segment = unshift(segment);
  }
  if (!node.value) {
    return;
  }
  if (auto* text = std::get_if<std::string>(&*node.value)) {
    *text = unshift(*text);
  } else if (auto* items = std::get_if<std::vector<std::string>>(&*node.value)) {
    for (auto& item : *items) {
      item = unshift(item);
    }
  }
}

}  // namespace

std::vector<TomlNode> read_toml(std::string_view text, const std::string& path)
{
  require_toml_text(text, path);
  const std::string shifted = shift_for_tomlpp(text, path);
  toml::table root;
  try {
    root = toml::parse(shifted, path);
  } catch (const toml::parse_error& error) {
    const toml::source_position& at = error.source().begin;
    throw usage_error(
      fmt::format("{}:{}:{}: invalid TOML: {}", path, at.line, at.column, unshift(error.description())));
  }
  std::vector<TomlNode> nodes;
  std::vector<std::string> key_path;
  walk(root, key_path, nodes);
  for (auto& node : nodes) {
    unshift(node);
  }
  std::ranges::stable_sort(nodes, [](const TomlNode& a, const TomlNode& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return nodes;
}

}  // namespace scalectl::config::detail
