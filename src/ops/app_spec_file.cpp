// Reading a local app spec for `app scale --from-file`. YAML goes through yaml-cpp and is turned
// into the same RawJson the API gives, so one extraction (core::request_from_spec_file) serves both.

#include <scalectl/ops/app.hpp>

#include <cerrno>
#include <cstring>
#include <regex>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <scalectl/core/text.hpp>
#include <scalectl/error.hpp>

#include "config/read_file.hpp"

namespace scalectl::ops {

using core::RawJson;

namespace {

std::string read_text(const std::string& path)
{
  // A regular file under the size cap: a FIFO or /dev/zero is refused, not read for ever.
  auto file = config::detail::read_regular_file(path, "--from-file");
  if (!file) {
    throw usage_error(fmt::format("cannot read --from-file {}: {}", path, std::strerror(ENOENT)));
  }
  return std::move(file->text);
}

// Aliases make a YAML document a graph: `a: &a [*a]` is a cycle, and nine nested aliases of nine
// ("billion laughs") expand to 10^9 nodes from 600 bytes. The walk is bounded in depth and size.
constexpr std::size_t k_max_yaml_depth = 64;
constexpr std::size_t k_max_yaml_nodes = 200'000;

// Resolves a plain (unquoted) YAML scalar as YAML 1.2's core schema does.
RawJson plain_scalar(const std::string& text)
{
  static const std::regex k_null("~|null|Null|NULL|");
  static const std::regex k_true("true|True|TRUE");
  static const std::regex k_false("false|False|FALSE");
  static const std::regex k_int("[-+]?[0-9]+");
  static const std::regex k_json_number("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?");
  static const std::regex k_float("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (std::regex_match(text, k_null)) {
    return nullptr;
  }
  if (std::regex_match(text, k_true)) {
    return true;
  }
  if (std::regex_match(text, k_false)) {
    return false;
  }
  if (std::regex_match(text, k_int)) {
    try {
      return std::stoll(text);
    } catch (const std::out_of_range&) {
      return text;
    }
  }
  // A number too large for a double (5e55555, found by fuzz_yaml_spec) stays text, as a too
  // large integer does above: the API then refuses the field by name.
  if (std::regex_match(text, k_json_number)) {
    try {
      return core::parse_raw_json(text, "a YAML number");  // keeps the spelling, as for JSON
    } catch (const Error&) {
      return text;
    }
  }
  if (std::regex_match(text, k_float)) {
    try {
      return std::stod(text);
    } catch (const std::out_of_range&) {
      return text;
    }
  }
  return text;
}

class YamlWalk {
 public:
  explicit YamlWalk(const std::string& path) : m_path(path) {}

  // Returns `node` as RawJson; throws Error(usage) on an alias cycle or a document too large.
  RawJson convert(const YAML::Node& node)
  {
    if (++m_nodes > k_max_yaml_nodes) {
      throw usage_error(fmt::format("--from-file {} expands to more than {} YAML nodes (aliases?); give a plain app "
                                    "spec",
                                    m_path, k_max_yaml_nodes));
    }
    if (node.IsSequence() || node.IsMap()) {
      for (const auto& ancestor : m_stack) {
        if (ancestor.is(node)) {
          throw usage_error(fmt::format("--from-file {} has a YAML alias that contains itself (a cycle); give a "
                                        "plain app spec",
                                        m_path));
        }
      }
      if (m_stack.size() >= k_max_yaml_depth) {
        throw usage_error(fmt::format("--from-file {} nests YAML deeper than {} levels; give a plain app spec", m_path,
                                      k_max_yaml_depth));
      }
    }
    switch (node.Type()) {
    case YAML::NodeType::Sequence: {
      m_stack.push_back(node);
      RawJson out = RawJson::array();
      for (const auto& element : node) {
        out.push_back(convert(element));
      }
      m_stack.pop_back();
      return out;
    }
    case YAML::NodeType::Map: {
      m_stack.push_back(node);
      RawJson out = RawJson::object();
      for (const auto& member : node) {
        if (!member.first.IsScalar()) {
          throw usage_error(fmt::format("--from-file {} has a YAML map key that is not a scalar; give a plain app "
                                        "spec",
                                        m_path));
        }
        out[checked_text(member.first)] = convert(member.second);
      }
      m_stack.pop_back();
      return out;
    }
    case YAML::NodeType::Scalar:
      // yaml-cpp tags plain scalars "?" and quoted ones "!"; explicit tags are kept as strings.
      if (node.Tag() == "?" || node.Tag() == "tag:yaml.org,2002:int" || node.Tag() == "tag:yaml.org,2002:float" ||
          node.Tag() == "tag:yaml.org,2002:bool") {
        return plain_scalar(checked_text(node));
      }
      return checked_text(node);
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    }
    return nullptr;
  }

 private:
  // Returns a scalar's text once unescaped; YAML escapes such as "\uD800" or "\x80" can make
  // bytes that are not UTF-8 (found by fuzz_yaml_spec), which no JSON spec may carry.
  const std::string& checked_text(const YAML::Node& node) const
  {
    const std::string& text = node.Scalar();
    if (core::invalid_utf8_offset(text)) {
      throw usage_error(fmt::format("--from-file {}:{}: a string is not valid UTF-8 once its escapes are read; "
                                    "write the character itself",
                                    m_path, node.Mark().line + 1));
    }
    return text;
  }

  const std::string& m_path;
  std::vector<YAML::Node> m_stack;
  std::size_t m_nodes = 0;
};

bool is_json(const std::string& path, const std::string& text)
{
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    return true;
  }
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string::npos && text[first] == '{';
}

}  // namespace

RawJson read_spec_file(const std::string& path)
{
  const auto text = read_text(path);
  if (const auto bad = core::invalid_utf8_offset(text)) {
    throw usage_error(fmt::format("--from-file {} is not valid UTF-8 (byte {}); an app spec is UTF-8 text", path,
                                  *bad + 1));
  }
  if (is_json(path, text)) {
    try {
      return core::parse_raw_json(text, path);
    } catch (const Error& e) {
      throw usage_error(e.what());
    }
  }
  try {
    return YamlWalk(path).convert(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    throw usage_error(fmt::format("{}:{}:{}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

}  // namespace scalectl::ops
