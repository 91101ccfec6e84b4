// `droplet claim|unclaim|claims`: claims are one record per droplet in the state store, changed
// with the store's atomic update so concurrent claimers on any host never lose each other.

#include <scalectl/ops/droplet_claims.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/report.hpp>

#include "ops/droplet_view.hpp"

namespace scalectl::ops {

using nlohmann::json;

namespace {

bool satisfied(const std::vector<core::SizeSpec>& sizes, const digitalocean::Droplet& d, const std::string& want)
{
  if (d.status != "active" || d.locked) {
    return false;
  }
  if (d.size_slug == want) {
    return true;
  }
  const auto have = core::find_size(sizes, d.size_slug);
  const auto need = core::find_size(sizes, want);
  return have && need && core::satisfies(*have, *need);
}

}  // namespace

std::string droplet_claims_key(std::int64_t droplet_id)
{
  return fmt::format("droplet-{}-claims", droplet_id);
}

json ClaimReport::to_json() const
{
  return {{"claim", claim.to_json()},
          {"renewed", renewed},
          {"state", state},
          {"droplet", {{"id", droplet.id}, {"name", droplet.name}, {"size_slug", droplet.size_slug},
                       {"status", droplet.status}}},
          {"waited_ms", waited.count()}};
}

ClaimReport claim_droplet(DropletDeps& deps, const ClaimOptions& options)
{
  if (const auto problem = core::claim_id_problem(options.id)) {
    throw usage_error(fmt::format("bad claim id: {}", *problem));
  }
  const auto id = resolve_droplet(deps.api, options.droplet);
  if (options.wait) {
    if (const auto own = detect_own_droplet(options.self_check); own && *own == id) {
      throw usage_error(fmt::format(
        "`droplet claim --wait` runs on droplet {} itself, which is powered off to resize it: waiting here means "
        "being killed; claim without --wait, exit, and let the service restart after the resize (a reconciler "
        "on another host does the resize)",
        id));
    }
  }
  const auto view = detail::get_droplet_view(deps.api, id);
  detail::refuse_state_on_droplet(options.state, view);
  const auto start_ms = detail::shared_now_ms(deps.store(), deps.clock);
  const auto sizes = detail::size_catalogue(deps.api, deps.store(), start_ms);
  if (!core::find_size(sizes, options.size)) {
    throw usage_error(fmt::format("unknown size '{}' for claim {}; see the slugs of `doctl compute size list`",
                                  options.size, options.id));
  }

  ClaimReport report;
  deps.store().update(droplet_claims_key(id), [&](const std::optional<json>& old) {
    auto set = core::ClaimSet::from_json(old.value_or(json(nullptr)));
    set.prune(start_ms);
    core::Claim c;
    const auto existing = set.claims.find(options.id);
    report.renewed = existing != set.claims.end();
    c.created_ms = report.renewed ? existing->second.created_ms : start_ms;
    c.id = options.id;
    c.size = options.size;
    c.host = deps.owner.host;
    c.pid = deps.owner.pid;
    c.renewed_ms = start_ms;
    if (options.ttl) {
      c.expires_at_ms = start_ms + options.ttl->count();
    }
    set.claims[c.id] = c;
    report.claim = c;
    return set.to_json();
  });
  report.droplet = view.droplet;
  report.state = satisfied(sizes, view.droplet, options.size) ? "granted" : "pending";
  if (!options.wait || report.state == "granted") {
    return report;
  }
  const auto started = deps.clock.monotonic();
  const auto deadline = started + *options.wait;
  std::chrono::milliseconds poll{1'000};
  install_interrupt_handlers();
  while (true) {
    throw_if_interrupted("waiting for the claimed size");
    if (deps.clock.monotonic() >= deadline) {
      throw Error(ExitCode::timeout,
                  fmt::format("droplet {} ({}) is {} at {} after --wait {}; claim {} stays recorded: is a "
                              "`scalectl droplet reconcile` running on a control host?",
                              id, report.droplet.name, report.droplet.status, report.droplet.size_slug,
                              format_duration(*options.wait), options.id));
    }
    deps.clock.sleep_for(poll);
    poll = std::min(poll * 2, std::chrono::milliseconds{5'000});
    report.droplet = deps.api.get_droplet(id);
    if (satisfied(sizes, report.droplet, options.size)) {
      report.state = "granted";
      report.waited = std::chrono::duration_cast<std::chrono::milliseconds>(deps.clock.monotonic() - started);
      return report;
    }
  }
}

bool unclaim_droplet(DropletDeps& deps, const std::string& droplet, const std::string& id)
{
  if (const auto problem = core::claim_id_problem(id)) {
    throw usage_error(fmt::format("bad claim id: {}", *problem));
  }
  const auto droplet_id = resolve_droplet(deps.api, droplet);
  const auto at = detail::shared_now_ms(deps.store(), deps.clock);
  bool removed = false;
  deps.store().update(droplet_claims_key(droplet_id), [&](const std::optional<json>& old) {
    auto set = core::ClaimSet::from_json(old.value_or(json(nullptr)));
    set.prune(at);
    removed = set.claims.erase(id) > 0;
    if (removed) {
      set.last_ended_ms = std::max(set.last_ended_ms, at);
    }
    return set.to_json();
  });
  return removed;
}

std::pair<std::int64_t, std::vector<core::Claim>> list_claims(DropletDeps& deps, const std::string& droplet,
                                                              std::int64_t* now_out)
{
  const auto droplet_id = resolve_droplet(deps.api, droplet);
  const auto at = detail::shared_now_ms(deps.store(), deps.clock);
  if (now_out != nullptr) {
    *now_out = at;
  }
  const auto rec = deps.store().get(droplet_claims_key(droplet_id));
  return {droplet_id, core::ClaimSet::from_json(rec.value_or(json(nullptr))).live(at)};
}

json ScheduleReport::to_json() const
{
  json ws = json::array();
  for (const auto& w : windows) {
    ws.push_back({{"window", w.text}, {"size", w.size}, {"zone", w.zone}});
  }
  json ts = json::array();
  for (const auto& t : transitions) {
    ts.push_back({{"at", format_rfc3339(t.at)}, {"sizes", t.sizes}, {"windows", t.windows}});
  }
  return {{"windows", ws}, {"open_now", open_now}, {"transitions", ts}};
}

ScheduleReport schedule_report(const std::vector<core::ScheduleWindow>& windows,
                               std::chrono::system_clock::time_point now, std::size_t count)
{
  ScheduleReport r;
  r.windows = windows;
  r.open_now = core::scheduled_sizes(windows, now);
  r.transitions = core::next_transitions(windows, now, count);
  return r;
}

}  // namespace scalectl::ops
