// Trail tags: POST /v2/tags, POST and DELETE /v2/tags/{tag_id}/resources.

#include "ops/droplet_trail.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace scalectl::ops::detail {

using nlohmann::json;

std::string trail_tag(const ReconcileOutcome& outcome)
{
  std::string tag = fmt::format("{}{}:{}", k_trail_prefix, outcome.result,
                                outcome.size_used.empty() ? outcome.desired_size : outcome.size_used);
  for (auto& c : tag) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
                    c == '-' || c == '_';
    if (!ok) {
      c = '_';
    }
  }
  if (tag.size() > 255) {
    tag.resize(255);
  }
  return tag;
}

void set_trail_tag(digitalocean::Api& api, Reporter& reporter, const DropletView& view,
                   const ReconcileOutcome& outcome)
{
  const auto tag = trail_tag(outcome);
  const std::string resources =
    json{{"resources", json::array({{{"resource_id", std::to_string(view.droplet.id)}, {"resource_type", "droplet"}}})}}
      .dump();
  try {
    bool present = false;
    for (const auto& old : view.tags) {
      if (old == tag) {
        present = true;
      } else if (old.starts_with(k_trail_prefix)) {
        api.request_text("DELETE", fmt::format("/v2/tags/{}/resources", old), &resources);
      }
    }
    if (!present) {
      const std::string create = json{{"name", tag}}.dump();
      api.request_text("POST", "/v2/tags", &create);
      api.request_text("POST", fmt::format("/v2/tags/{}/resources", tag), &resources);
    }
  } catch (const Error& e) {
    reporter.warn(fmt::format("could not set the trail tag {} on droplet {}: {}", tag, view.droplet.id, e.what()));
  }
}

}  // namespace scalectl::ops::detail
