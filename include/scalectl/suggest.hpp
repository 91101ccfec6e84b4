#pragma once
// "Did you mean" helpers shared by configuration keys, size slugs and worker types.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace scalectl {

// Returns the optimal-string-alignment distance between `a` and `b`: insertions, deletions,
// substitutions and swaps of two adjacent characters each cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

// Returns up to `limit` candidates closest to `word` (edit distance, then longest common
// prefix, then candidate order), most likely first.
std::vector<std::string> closest_matches(std::string_view word, const std::vector<std::string>& candidates,
                                         std::size_t limit);

}  // namespace scalectl
