#include "suggest.hpp"

#include <scalectl/suggest.hpp>

#include <algorithm>
#include <vector>

#include <scalectl/config/config.hpp>

namespace scalectl::config::detail {

namespace {

std::vector<std::string_view> segments(std::string_view key)
{
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t dot = key.find('.');
    out.push_back(key.substr(0, dot));
    if (dot == std::string_view::npos) {
      return out;
    }
    key = key.substr(dot + 1);
  }
}

// Returns `pattern` with each "*" replaced by the segment `key` has at the same position.
std::string fill_wildcards(std::string_view pattern, const std::vector<std::string_view>& key)
{
  std::string out;
  const std::vector<std::string_view> parts = segments(pattern);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += '.';
    }
    out += (parts[i] == "*" && i < key.size()) ? key[i] : parts[i];
  }
  return out;
}

}  // namespace

std::optional<std::string> suggest_key(std::string_view key)
{
  const std::vector<std::string_view> parts = segments(key);
  const std::string_view last = parts.back();
  // Allow about one typo per three characters of the last segment, and at least two.
  const std::size_t limit = std::max<std::size_t>(2, (last.size() + 2) / 3);
  const auto common_prefix = [&](std::string_view candidate) {
    return static_cast<std::size_t>(std::ranges::mismatch(key, candidate).in1 - key.begin());
  };

  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  std::size_t best_prefix = 0;
  std::optional<std::string> same_leaf;
  std::size_t same_leaf_count = 0;
  for (const KeyInfo& info : schema()) {
    const std::string full = fill_wildcards(info.key, parts);
    // Consider the key and each table above it: "droplet.up_size", then "droplet".
    for (std::string_view candidate = full;;) {
      const std::size_t distance = edit_distance(key, candidate);
      const std::size_t prefix = common_prefix(candidate);
      // Ties go to the candidate sharing the longest prefix: max_ram -> max_ram_gb, not max_cpu.
      if (distance < best_distance || (distance == best_distance && prefix > best_prefix)) {
        best_distance = distance;
        best_prefix = prefix;
        best = std::string(candidate);
      }
      const std::size_t dot = candidate.rfind('.');
      if (dot == std::string_view::npos) {
        break;
      }
      candidate = candidate.substr(0, dot);
    }
    if (segments(full).back() == last) {
      ++same_leaf_count;
      same_leaf = full;
    }
  }
  if (best) {
    return best;
  }
  // A known leaf name in the wrong table ("droplet.max_cpu"): suggest it if it is unambiguous.
  if (same_leaf_count == 1) {
    return same_leaf;
  }
  return std::nullopt;
}

}  // namespace scalectl::config::detail
