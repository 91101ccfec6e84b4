#include <scalectl/core/sizes.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <scalectl/suggest.hpp>

namespace scalectl::core {

SizeCheck check_target_size(const std::vector<Size>& sizes, const std::string& target_slug,
                            const std::string& current_slug, std::int64_t current_disk_gb)
{
  SizeCheck check;
  const auto it = std::find_if(sizes.begin(), sizes.end(), [&](const auto& s) { return s.slug == target_slug; });
  if (it == sizes.end()) {
    std::vector<std::string> slugs;
    for (const auto& s : sizes) {
      slugs.push_back(s.slug);
    }
    std::string hint;
    for (const auto& slug : closest_matches(target_slug, slugs, 3)) {
      hint += (hint.empty() ? "" : ", ") + slug;
    }
    check.code = ExitCode::usage;
    check.message = fmt::format("unknown droplet size '{}' (not in GET /v2/sizes); did you mean {}?", target_slug,
                                hint.empty() ? "a slug from `doctl compute size list`" : hint);
    return check;
  }
  if (!it->available) {
    check.code = ExitCode::refused;
    check.message = fmt::format("droplet size '{}' is not available for new resizes right now; pick another size",
                                target_slug);
    return check;
  }
  if (it->disk_gb < current_disk_gb && current_slug != target_slug) {
    check.code = ExitCode::refused;
    check.message = fmt::format("the droplet has a {} GB disk but size '{}' has {} GB; DigitalOcean cannot shrink a "
                                "disk (it was resized permanently), so pick a size with at least {} GB",
                                current_disk_gb, target_slug, it->disk_gb, current_disk_gb);
    return check;
  }
  check.size = *it;
  return check;
}

}  // namespace scalectl::core
