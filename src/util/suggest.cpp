#include <scalectl/suggest.hpp>

#include <algorithm>

namespace scalectl {

std::size_t edit_distance(std::string_view a, std::string_view b)
{
  const std::size_t n = b.size() + 1;
  std::vector<std::size_t> before(n), previous(n), current(n);
  for (std::size_t j = 0; j < n; ++j) {
    previous[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j < n; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    before.swap(previous);
    previous.swap(current);
  }
  return previous[n - 1];
}

std::vector<std::string> closest_matches(std::string_view word, const std::vector<std::string>& candidates,
                                         std::size_t limit)
{
  struct Scored {
    std::size_t distance;
    std::size_t prefix;
    std::size_t order;
  };
  std::vector<Scored> scored;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto& c = candidates[i];
    const auto prefix = static_cast<std::size_t>(std::ranges::mismatch(word, c).in1 - word.begin());
    scored.push_back({edit_distance(word, c), prefix, i});
  }
  std::ranges::sort(scored, [](const Scored& a, const Scored& b) {
    if (a.distance != b.distance) {
      return a.distance < b.distance;
    }
    if (a.prefix != b.prefix) {
      return a.prefix > b.prefix;
    }
    return a.order < b.order;
  });
  std::vector<std::string> out;
  for (std::size_t i = 0; i < scored.size() && i < limit; ++i) {
    out.push_back(candidates[scored[i].order]);
  }
  return out;
}

}  // namespace scalectl
