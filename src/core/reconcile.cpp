// The desired size of a droplet from its claims, its schedule and down_size, and whether the
// move may happen now. Table-tested in tests/unit/test_core_reconcile.cpp.

#include <scalectl/core/reconcile.hpp>

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/error.hpp>

namespace scalectl::core {

using nlohmann::json;

bool satisfies(const SizeSpec& have, const SizeSpec& want)
{
  return have.memory_mb >= want.memory_mb && have.vcpus >= want.vcpus;
}

std::optional<SizeSpec> find_size(const std::vector<SizeSpec>& sizes, std::string_view slug)
{
  for (const auto& s : sizes) {
    if (s.slug == slug) {
      return s;
    }
  }
  return std::nullopt;
}

std::string largest_size(const std::vector<SizeSpec>& sizes, const std::vector<std::string>& slugs)
{
  std::string best;
  std::optional<SizeSpec> best_spec;
  for (const auto& slug : slugs) {
    const auto spec = find_size(sizes, slug);
    if (best.empty()) {
      best = slug;
      best_spec = spec;
      continue;
    }
    if (!spec) {
      continue;
    }
    if (!best_spec || spec->memory_mb > best_spec->memory_mb ||
        (spec->memory_mb == best_spec->memory_mb && spec->vcpus > best_spec->vcpus)) {
      best = slug;
      best_spec = spec;
    }
  }
  return best;
}

json Claim::to_json() const
{
  return {{"id", id},
          {"size", size},
          {"host", host},
          {"pid", pid},
          {"created_ms", created_ms},
          {"renewed_ms", renewed_ms},
          {"expires_at_ms", expires_at_ms ? json(*expires_at_ms) : json(nullptr)}};
}

Claim Claim::from_json(const json& j)
{
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string() || !j.contains("size") || !j["size"].is_string()) {
    throw Error("a droplet claim record in the state store is malformed; remove it with `scalectl droplet unclaim ID`");
  }
  Claim c;
  c.id = j["id"].get<std::string>().substr(0, 128);
  c.size = j["size"].get<std::string>().substr(0, 64);
  c.host = j.value("host", "").substr(0, 255);
  c.pid = j.value("pid", 0L);
  c.created_ms = j.value("created_ms", std::int64_t{0});
  c.renewed_ms = j.value("renewed_ms", c.created_ms);
  if (const auto e = j.find("expires_at_ms"); e != j.end() && e->is_number_integer()) {
    c.expires_at_ms = e->get<std::int64_t>();
  }
  return c;
}

void ClaimSet::prune(std::int64_t now_ms)
{
  for (auto it = claims.begin(); it != claims.end();) {
    if (!it->second.live(now_ms)) {
      last_ended_ms = std::max(last_ended_ms, *it->second.expires_at_ms);
      it = claims.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<Claim> ClaimSet::live(std::int64_t now_ms) const
{
  std::vector<Claim> out;
  for (const auto& [id, c] : claims) {
    if (c.live(now_ms)) {
      out.push_back(c);
    }
  }
  std::sort(out.begin(), out.end(), [](const Claim& a, const Claim& b) {
    return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.id < b.id;
  });
  return out;
}

json ClaimSet::to_json() const
{
  json list = json::array();
  for (const auto& [id, c] : claims) {
    list.push_back(c.to_json());
  }
  return {{"claims", list}, {"last_ended_ms", last_ended_ms}};
}

ClaimSet ClaimSet::from_json(const json& j)
{
  ClaimSet set;
  if (j.is_null()) {
    return set;
  }
  if (!j.is_object() || !j.contains("claims") || !j["claims"].is_array()) {
    throw Error("the droplet claims record in the state store is malformed; remove claims with `scalectl droplet "
                "unclaim ID`");
  }
  constexpr std::size_t k_max_claims = 10'000;
  for (const auto& c : j["claims"]) {
    if (set.claims.size() >= k_max_claims) {
      break;
    }
    auto claim = Claim::from_json(c);
    set.claims[claim.id] = std::move(claim);
  }
  set.last_ended_ms = j.value("last_ended_ms", std::int64_t{0});
  return set;
}

std::optional<std::string> claim_id_problem(std::string_view id)
{
  if (id.empty()) {
    return "a claim id must not be empty";
  }
  if (id.size() > 128) {
    return "a claim id must be at most 128 characters";
  }
  for (const char ch : id) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7e) {
      return "a claim id must be printable ASCII without spaces or control characters";
    }
  }
  return std::nullopt;
}

ReconcileDecision decide_reconcile(const ReconcileInput& in)
{
  ReconcileDecision d;
  if (!in.claims.empty()) {
    std::vector<std::string> slugs;
    for (const auto& c : in.claims) {
      slugs.push_back(c.size);
    }
    d.desired = largest_size(in.sizes, slugs);
    for (const auto& c : in.claims) {
      if (c.size == d.desired) {
        d.source = "claim " + c.id;
        break;
      }
    }
  } else if (!in.scheduled.empty()) {
    d.desired = largest_size(in.sizes, in.scheduled);
    d.source = "schedule";
  } else {
    d.desired = in.down_size;
    d.source = "down_size";
  }
  const auto cur = find_size(in.sizes, in.current_size);
  const auto want = find_size(in.sizes, d.desired);
  const bool settled = in.status == "active" && !in.resume_pending;
  if (in.current_size == d.desired || (!in.claims.empty() && cur && want && satisfies(*cur, *want))) {
    if (settled) {
      d.reason = fmt::format("{} satisfies {} ({})", in.current_size, d.desired, d.source);
      return d;
    }
    d.kind = ReconcileDecision::Kind::resize;
    d.desired = in.current_size;
    d.reason = fmt::format("droplet is {} at {}{}; resuming to bring it back active", in.status, in.current_size,
                           in.resume_pending ? " after an unfinished operation" : "");
    return d;
  }
  const bool shrink = cur && want && satisfies(*cur, *want);
  if (!shrink) {
    d.kind = ReconcileDecision::Kind::resize;
    d.reason = fmt::format("{} wants {}; the droplet was at {}", d.source, d.desired, in.current_size);
    return d;
  }
  if (in.live_leases > 0) {
    d.kind = ReconcileDecision::Kind::blocked;
    d.reason = fmt::format("{} live capacity lease(s) keep the droplet at {}", in.live_leases, in.current_size);
    return d;
  }
  const auto allowed_at = in.last_claim_ended_ms + in.down_delay.count();
  if (in.last_claim_ended_ms > 0 && in.now_ms < allowed_at) {
    d.kind = ReconcileDecision::Kind::blocked;
    d.not_before_ms = allowed_at;
    d.reason = fmt::format("down_delay: the last claim ended {}s ago; going down to {} in {}s",
                           (in.now_ms - in.last_claim_ended_ms) / 1000, d.desired, (allowed_at - in.now_ms + 999) / 1000);
    return d;
  }
  d.kind = ReconcileDecision::Kind::resize;
  d.reason = fmt::format("no live claim; {} wants {}; the droplet was at {}", d.source, d.desired, in.current_size);
  return d;
}

}  // namespace scalectl::core
