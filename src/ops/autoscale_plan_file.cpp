// Saved plan files: `autoscale plan --out FILE` writes one, `autoscale apply FILE` reads it.

#include <scalectl/core/numeric.hpp>
#include <scalectl/ops/autoscale.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>


#include <fmt/format.h>

#include "config/read_file.hpp"

#include <scalectl/atomic_file.hpp>
#include <scalectl/error.hpp>

namespace scalectl::ops {

namespace {

using nlohmann::json;

constexpr const char* k_format = "scalectl-autoscale-plan";
constexpr int k_version = 1;

std::int64_t to_ms(SystemTime t)
{
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

json saved_plan_json(const PlanReport& report, const PlanOptions& options)
{
  json doc = report.to_json();
  doc["format"] = k_format;
  doc["version"] = k_version;
  doc["observed"] = report.plan.current;
  doc["current_override"] = options.current ? json(*options.current) : json(nullptr);
  doc["created_at_ms"] = to_ms(report.created_at);
  doc["expires_at_ms"] = to_ms(report.expires_at);
  return doc;
}

void write_plan_file(const std::filesystem::path& path, const json& document)
{
  replace_file(path, document.dump(2) + "\n", 0644);
}

SavedPlan read_plan_file(const std::filesystem::path& path)
{
  // A regular file under the size cap: `autoscale apply /dev/zero` or a FIFO must not hang or eat memory.
  const auto file = config::detail::read_regular_file(path, "the plan file");
  if (!file) {
    throw usage_error(fmt::format("cannot read the plan file {}: {}; give the file written by `autoscale plan --out`",
                                  path.string(), std::strerror(ENOENT)));
  }
  const json doc = json::parse(file->text, nullptr, false);
  const auto bad = [&](std::string_view what) {
    return usage_error(fmt::format("{} is not a usable scalectl plan file ({}); write one with `scalectl autoscale plan "
                                   "--policy NAME --out {}`",
                                   path.string(), what, path.string()));
  };
  if (doc.is_discarded() || !doc.is_object()) {
    throw bad("not JSON");
  }
  // json::value() throws when the field has another type (fuzz_plan_file: "format": 1800000900000).
  const auto format = doc.find("format");
  if (format == doc.end() || !format->is_string() || format->get<std::string>() != k_format) {
    throw bad("no \"format\": \"scalectl-autoscale-plan\"");
  }
  const auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() || version->get<std::int64_t>() != k_version) {
    throw bad(fmt::format("version {} is not {}", version == doc.end() ? "(none)" : version->dump().substr(0, 40),
                          k_version));
  }
  SavedPlan plan;
  plan.document = doc;
  try {
    plan.policy = doc.at("policy").get<std::string>();
    plan.policy_digest = doc.at("policy_digest").get<std::string>();
    plan.lineage = doc.at("state").at("lineage").get<std::string>();
    // Integers only (nlohmann converts a float with a plain cast, undefined beyond int64), each
    // bounded before it is used; the policy's own min/max are applied again at apply time.
    const auto whole = [&](const json& value, const char* name, std::int64_t lo, std::int64_t hi) {
      if (!value.is_number_integer()) {
        throw bad(fmt::format("\"{}\" is not an integer", name));
      }
      const bool in_range = value.is_number_unsigned() ? value.get<std::uint64_t>() <= static_cast<std::uint64_t>(hi)
                                                       : value.get<std::int64_t>() >= lo && value.get<std::int64_t>() <= hi;
      if (!in_range) {
        throw bad(fmt::format("\"{}\" is {}, outside {}..{}", name, value.dump(), lo, hi));
      }
      return value.get<std::int64_t>();
    };
    plan.serial = whole(doc.at("state").at("serial"), "serial", 0, core::k_max_amount);
    plan.observed = whole(doc.at("observed"), "observed", 0, core::k_max_workers);
    if (doc.contains("current_override") && !doc["current_override"].is_null()) {
      plan.current_override = whole(doc["current_override"], "current_override", 0, core::k_max_workers);
    }
    // desired: only int64-safe here; the policy's min/max give the precise refusal at apply time.
    plan.desired = whole(doc.at("desired"), "desired", -core::k_max_amount, core::k_max_amount);
    if (doc.contains("recommendation") && !doc["recommendation"].is_null()) {
      plan.recommendation = whole(doc["recommendation"], "recommendation", -core::k_max_amount, core::k_max_amount);
    }
    for (const auto& r : doc.at("reasons")) {
      plan.reasons.push_back(r.at("text").get<std::string>());
    }
    // Bounded before they become time points (nanoseconds overflow after the year 2262).
    const auto created_ms = whole(doc.at("created_at_ms"), "created_at_ms", 0, k_max_time_ms);
    const auto expires_ms = whole(doc.at("expires_at_ms"), "expires_at_ms", 0, k_max_time_ms);
    plan.created_at = SystemTime(std::chrono::milliseconds(created_ms));
    plan.expires_at = SystemTime(std::chrono::milliseconds(expires_ms));
  } catch (const json::exception& e) {
    throw bad(fmt::format("missing or wrong field: {}", e.what()));
  }
  if (plan.policy.empty()) {
    throw bad("no policy name");
  }
  return plan;
}

}  // namespace scalectl::ops
