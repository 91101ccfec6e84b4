#include <scalectl/core/redis_cluster.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace scalectl::core {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b)
{
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
         });
}

template <class Int>
std::optional<Int> parse_int(std::string_view text)
{
  Int value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::uint16_t crc16_xmodem(std::string_view data)
{
  std::uint16_t crc = 0;
  for (const char c : data) {
    crc = static_cast<std::uint16_t>(crc ^ (static_cast<unsigned char>(c) << 8));
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000U) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021U)
                                 : static_cast<std::uint16_t>(crc << 1);
    }
  }
  return crc;
}

std::uint16_t redis_key_slot(std::string_view key)
{
  if (const auto open = key.find('{'); open != std::string_view::npos) {
    if (const auto close = key.find('}', open + 1); close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return static_cast<std::uint16_t>(crc16_xmodem(key) % k_cluster_slots);
}

std::optional<ClusterRedirect> parse_cluster_redirect(std::string_view text)
{
  ClusterRedirect redirect;
  if (text.starts_with("MOVED ")) {
    redirect.kind = ClusterRedirect::Kind::moved;
    text.remove_prefix(6);
  } else if (text.starts_with("ASK ")) {
    redirect.kind = ClusterRedirect::Kind::ask;
    text.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const auto space = text.find(' ');
  if (space == std::string_view::npos) {
    return std::nullopt;
  }
  const auto slot = parse_int<unsigned>(text.substr(0, space));
  const std::string_view address = text.substr(space + 1);
  const auto colon = address.rfind(':');
  if (!slot || *slot >= k_cluster_slots || colon == std::string_view::npos) {
    return std::nullopt;
  }
  const auto port = parse_int<int>(address.substr(colon + 1));
  if (!port || *port < 1 || *port > 65535) {
    return std::nullopt;
  }
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.size() > 255 || host.find_first_of(" \r\n[]") != std::string_view::npos) {
    return std::nullopt;
  }
  redirect.slot = static_cast<std::uint16_t>(*slot);
  redirect.host = std::string(host);
  redirect.port = *port;
  return redirect;
}

std::optional<std::size_t> command_key_index(std::span<const std::string_view> args)
{
  if (args.empty()) {
    return std::nullopt;
  }
  const std::string_view name = args[0];
  if (equals_ignoring_case(name, "EVAL") || equals_ignoring_case(name, "EVALSHA")) {
    if (args.size() < 4) {
      return std::nullopt;
    }
    const auto count = parse_int<long long>(args[2]);
    return count && *count > 0 ? std::optional<std::size_t>(3) : std::nullopt;
  }
  static constexpr std::array<std::string_view, 10> k_keyless = {
      "AUTH", "SELECT", "PING", "CLUSTER", "ASKING", "SCRIPT", "INFO", "HELLO", "READONLY", "TIME"};
  for (const auto keyless : k_keyless) {
    if (equals_ignoring_case(name, keyless)) {
      return std::nullopt;
    }
  }
  return args.size() >= 2 ? std::optional<std::size_t>(1) : std::nullopt;
}

}  // namespace scalectl::core
