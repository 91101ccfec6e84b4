#include <scalectl/core/raw_json.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include <scalectl/error.hpp>

namespace scalectl::core {

namespace {

bool is_raw_number(const RawJson& value)
{
  return value.is_binary() && value.get_binary().has_subtype() &&
         value.get_binary().subtype() == k_raw_number_subtype;
}

std::string_view raw_text(const RawJson& value)
{
  const auto& bytes = value.get_binary();
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Builds a RawJson tree from SAX events, keeping the text of every floating-point token.
class RawSaxBuilder {
 public:
  using number_integer_t = RawJson::number_integer_t;
  using number_unsigned_t = RawJson::number_unsigned_t;
  using number_float_t = RawJson::number_float_t;
  using string_t = RawJson::string_t;
  using binary_t = RawJson::binary_t;

  bool null() { return put(RawJson(nullptr)); }
  bool boolean(bool value) { return put(RawJson(value)); }
  bool number_integer(number_integer_t value) { return put(RawJson(value)); }
  bool number_unsigned(number_unsigned_t value) { return put(RawJson(value)); }
  bool number_float(number_float_t /*value*/, const string_t& text)
  {
    return put(RawJson::binary(std::vector<std::uint8_t>(text.begin(), text.end()), k_raw_number_subtype));
  }
  bool string(string_t& value) { return put(RawJson(std::move(value))); }
  bool binary(binary_t& value) { return put(RawJson::binary(std::move(value))); }
  bool start_object(std::size_t /*elements*/) { return open(RawJson::object()); }
  bool key(string_t& name)
  {
    m_key = std::move(name);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t /*elements*/) { return open(RawJson::array()); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t /*position*/, const std::string& /*token*/, const nlohmann::detail::exception& e)
  {
    m_error = e.what();
    return false;
  }

  RawJson& root() { return m_root; }
  const std::string& error() const { return m_error; }

 private:
  // Inserts `value` into the open container (or as the root) and returns where it now lives.
  RawJson* insert(RawJson value)
  {
    if (m_open.empty()) {
      m_root = std::move(value);
      return &m_root;
    }
    RawJson& parent = *m_open.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    RawJson& slot = parent[m_key];
    slot = std::move(value);
    return &slot;
  }
  bool put(RawJson value)
  {
    insert(std::move(value));
    return true;
  }
  bool open(RawJson container)
  {
    m_open.push_back(insert(std::move(container)));
    return true;
  }
  bool close()
  {
    m_open.pop_back();
    return true;
  }

  RawJson m_root;
  std::vector<RawJson*> m_open;  // ancestors only: inserting into the innermost never moves them
  std::string m_key;
  std::string m_error;
};

void write(const RawJson& value, std::string& out)
{
  switch (value.type()) {
  case RawJson::value_t::object: {
    out += '{';
    bool first = true;
    for (const auto& [name, member] : value.items()) {
      if (!first) {
        out += ',';
      }
      first = false;
      out += RawJson(name).dump();
      out += ':';
      write(member, out);
    }
    out += '}';
    return;
  }
  case RawJson::value_t::array: {
    out += '[';
    bool first = true;
    for (const auto& element : value) {
      if (!first) {
        out += ',';
      }
      first = false;
      write(element, out);
    }
    out += ']';
    return;
  }
  case RawJson::value_t::binary:
    if (!is_raw_number(value)) {
      throw Error("internal error: a binary value cannot be written as JSON");
    }
    out += raw_text(value);
    return;
  default:
    out += value.dump();
    return;
  }
}

}  // namespace

RawJson parse_raw_json(std::string_view text, std::string_view what)
{
  RawSaxBuilder builder;
  const bool ok = RawJson::sax_parse(text.begin(), text.end(), &builder);
  if (!ok) {
    throw Error(fmt::format("{} is not valid JSON: {}", what, builder.error()));
  }
  return std::move(builder.root());
}

std::string dump_raw_json(const RawJson& value)
{
  std::string out;
  write(value, out);
  return out;
}

nlohmann::json to_plain_json(const RawJson& value)
{
  switch (value.type()) {
  case RawJson::value_t::object: {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, member] : value.items()) {
      out[name] = to_plain_json(member);
    }
    return out;
  }
  case RawJson::value_t::array: {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& element : value) {
      out.push_back(to_plain_json(element));
    }
    return out;
  }
  case RawJson::value_t::binary:
    if (const auto number = number_value(value)) {
      return *number;
    }
    return nullptr;
  case RawJson::value_t::string:
    return value.get<std::string>();
  case RawJson::value_t::boolean:
    return value.get<bool>();
  case RawJson::value_t::number_integer:
    return value.get<std::int64_t>();
  case RawJson::value_t::number_unsigned:
    return value.get<std::uint64_t>();
  case RawJson::value_t::number_float:
    return value.get<double>();
  default:
    return nullptr;
  }
}

std::optional<double> number_value(const RawJson& value)
{
  if (value.is_number()) {
    return value.get<double>();
  }
  if (!is_raw_number(value)) {
    return std::nullopt;
  }
  const auto text = raw_text(value);
  double parsed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return parsed;
}

std::optional<std::int64_t> integral_value(const RawJson& value)
{
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() &&
        value.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return value.get<std::int64_t>();
  }
  const auto number = number_value(value);
  if (!number || std::trunc(*number) != *number || std::fabs(*number) > 9.0e15) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*number);
}

}  // namespace scalectl::core
