// Reading a local app spec for `app scale --from-file`. YAML goes through yaml-cpp and is turned
// into the same RawJson the API gives, so one extraction (core::request_from_spec_file) serves both.

#include <scalectl/ops/app.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <scalectl/error.hpp>

namespace scalectl::ops {

using core::RawJson;

namespace {

std::string read_text(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw usage_error(fmt::format("cannot read --from-file {}: {}", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

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
  if (std::regex_match(text, k_json_number)) {
    return core::parse_raw_json(text, "a YAML number");  // keeps the spelling, as for JSON
  }
  if (std::regex_match(text, k_float)) {
    return std::stod(text);
  }
  return text;
}

RawJson from_yaml(const YAML::Node& node)
{
  switch (node.Type()) {
  case YAML::NodeType::Sequence: {
    RawJson out = RawJson::array();
    for (const auto& element : node) {
      out.push_back(from_yaml(element));
    }
    return out;
  }
  case YAML::NodeType::Map: {
    RawJson out = RawJson::object();
    for (const auto& member : node) {
      out[member.first.Scalar()] = from_yaml(member.second);
    }
    return out;
  }
  case YAML::NodeType::Scalar:
    // yaml-cpp tags plain scalars "?" and quoted ones "!"; explicit tags are kept as strings.
    if (node.Tag() == "?" || node.Tag() == "tag:yaml.org,2002:int" || node.Tag() == "tag:yaml.org,2002:float" ||
        node.Tag() == "tag:yaml.org,2002:bool") {
      return plain_scalar(node.Scalar());
    }
    return node.Scalar();
  case YAML::NodeType::Null:
  case YAML::NodeType::Undefined:
    return nullptr;
  }
  return nullptr;
}

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
  if (is_json(path, text)) {
    try {
      return core::parse_raw_json(text, path);
    } catch (const Error& e) {
      throw usage_error(e.what());
    }
  }
  try {
    return from_yaml(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    throw usage_error(fmt::format("{}:{}:{}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

}  // namespace scalectl::ops
