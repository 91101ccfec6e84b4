// `droplet reconcile`: reads each droplet's claims, schedule and leases, decides with
// core::decide_reconcile, and converges with the resize driver (ops::resize_droplet), which
// brings the lock, the resume after kill -9 and the power-on after a failure.

#include <scalectl/ops/droplet_claims.hpp>

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/report.hpp>

#include "ops/record_write.hpp"
#include "ops/droplet_trail.hpp"
#include "ops/droplet_view.hpp"

namespace scalectl::ops {

using nlohmann::json;

namespace {

std::string reconcile_key(std::int64_t id)
{
  return fmt::format("droplet-{}-reconcile", id);
}

bool operation_unfinished(state::Store& store, std::int64_t id)
{
  const auto rec = store.get(droplet_record_key(id));
  if (!rec || !rec->is_object() || !rec->contains("operation") || !(*rec)["operation"].is_object()) {
    return false;
  }
  const auto result = (*rec)["operation"].value("result", "");
  return result == "running" || result == "interrupted" || result == "submitted";
}

// After the store failed mid-resize: bring the droplet back on without a lock, then give up.
void finish_power_on(DropletDeps& deps, std::int64_t id, std::chrono::milliseconds budget)
{
  const auto deadline = deps.clock.monotonic() + budget;
  while (deps.clock.monotonic() < deadline) {
    const auto d = deps.api.get_droplet(id);
    if (d.status == "active") {
      return;
    }
    if (d.status == "off" && !d.locked) {
      deps.reporter.step(fmt::format("state store lost: powering droplet {} back on before giving up", id));
      try {
        deps.api.droplet_action(id, "power_on");
      } catch (const digitalocean::ApiError& e) {
        deps.reporter.warn(fmt::format("power_on of droplet {}: {}", id, e.what()));
      }
    }
    deps.clock.sleep_for(std::chrono::milliseconds{1'000});
  }
}

struct Fallback {
  std::string wanted;
  std::string used;
};

std::optional<Fallback> recorded_fallback(state::Store& store, std::int64_t id)
{
  const auto rec = store.get(reconcile_key(id));
  if (!rec || !rec->is_object() || !rec->contains("fallback") || !(*rec)["fallback"].is_object()) {
    return std::nullopt;
  }
  return Fallback{(*rec)["fallback"].value("wanted", ""), (*rec)["fallback"].value("used", "")};
}

void record_outcome(state::Store& store, const ReconcileOutcome& out, const std::optional<Fallback>& fallback,
                    std::int64_t at_ms)
{
  store.update(reconcile_key(out.droplet_id), [&](const std::optional<json>& old) {
    json rec = old.value_or(json::object());
    if (!rec.is_object()) {
      rec = json::object();
    }
    rec["last"] = {{"time_ms", at_ms}, {"result", out.result}, {"from", out.current_size},
                   {"desired", out.desired_size}, {"size_used", out.size_used}, {"reason", out.reason},
                   {"refused_sizes", out.refused_sizes}, {"error", out.error}};
    if (fallback) {
      rec["fallback"] = {{"wanted", fallback->wanted}, {"used", fallback->used}};
    } else {
      rec.erase("fallback");
    }
    return rec;
  });
}

// Returns the droplet's claims, with expired ones pruned from the store (they end for down_delay
// purposes only once recorded).
core::ClaimSet current_claims(DropletDeps& deps, std::int64_t id, std::int64_t at)
{
  const auto rec = deps.store().get(droplet_claims_key(id));
  auto claims = core::ClaimSet::from_json(rec.value_or(json(nullptr)));
  if (claims.claims.size() != claims.live(at).size()) {
    deps.store().update(droplet_claims_key(id), [&](const std::optional<json>& old) {
      auto set = core::ClaimSet::from_json(old.value_or(json(nullptr)));
      set.prune(at);
      return set.to_json();
    });
    claims.prune(at);
  }
  return claims;
}

// Returns what core::decide_reconcile needs to know about droplet `d` at `at`.
core::ReconcileInput reconcile_input(DropletDeps& deps, const ReconcileOptions& options, const digitalocean::Droplet& d,
                                     std::int64_t at)
{
  const auto claims = current_claims(deps, d.id, at);
  core::ReconcileInput in;
  in.now_ms = at;
  in.current_size = d.size_slug;
  in.status = d.locked ? "locked" : d.status;
  in.resume_pending = operation_unfinished(deps.store(), d.id);
  in.claims = claims.live(at);
  in.scheduled = core::scheduled_sizes(options.schedule, deps.clock.now());
  in.down_size = options.down_size;
  in.last_claim_ended_ms = claims.last_ended_ms;
  in.down_delay = options.down_delay;
  if (!options.capacity_pool.empty()) {
    const auto pool = deps.store().snapshot(options.capacity_pool);
    in.live_leases = static_cast<int>(
      std::count_if(pool.leases.begin(), pool.leases.end(), [](const auto& l) { return !l.expired; }));
  }
  // The idle path needs no size catalogue when nothing is to be compared.
  const bool trivially_idle = in.status == "active" && !in.resume_pending &&
                              ((in.claims.empty() && in.scheduled.empty() && d.size_slug == in.down_size) ||
                               (!in.claims.empty() && std::all_of(in.claims.begin(), in.claims.end(), [&](const auto& c) {
                                  return c.size == d.size_slug;
                                })));
  if (!trivially_idle) {
    in.sizes = detail::size_catalogue(deps.api, deps.store(), at);
  }
  return in;
}

// Settles `out` when the decision needs no resize (idle, staying at a refused size's fallback,
// blocked, or a dry run); returns false when a resize is to be made.
bool settled_without_resize(DropletDeps& deps, const ReconcileOptions& options, const digitalocean::Droplet& d,
                            const core::ReconcileInput& in, const core::ReconcileDecision& decision,
                            ReconcileOutcome& out)
{
  const auto fallback = recorded_fallback(deps.store(), d.id);
  if (decision.kind == core::ReconcileDecision::Kind::resize && fallback && fallback->wanted == decision.desired &&
      fallback->used == d.size_slug && in.status == "active" && !in.resume_pending) {
    out.result = "idle";
    out.size_used = d.size_slug;
    out.reason = fmt::format("{} wants {}, which the API refused; staying at fallback {}", decision.source,
                             decision.desired, d.size_slug);
    return true;
  }
  switch (decision.kind) {
  case core::ReconcileDecision::Kind::none:
    out.result = "idle";
    out.size_used = d.size_slug;
    return true;
  case core::ReconcileDecision::Kind::blocked:
    out.result = "blocked";
    return true;
  default:
    break;
  }
  if (options.dry_run) {
    out.result = "would_resize";
    return true;
  }
  return false;
}

// Returns the resize options that take droplet `d` to `size` (up or down by the catalogue).
ResizeOptions resize_options_to(const ReconcileOptions& options, const digitalocean::Droplet& d,
                                const std::vector<core::SizeSpec>& sizes, const std::string& size)
{
  auto ropts = options.resize;
  ropts.target_size = size;
  const auto target = core::find_size(sizes, size);
  const auto current = core::find_size(sizes, d.size_slug);
  ropts.direction = (target && current && core::satisfies(*current, *target) && size != d.size_slug) ? "down" : "up";
  ropts.check_busy = false;  // claims and leases are the busy signals of a reconciler
  ropts.resize_disk = ropts.direction == "up" && options.resize.resize_disk;
  return ropts;
}

// What resizing with fallbacks came to: whether another run held the lock, and the fallback used.
struct ResizeAttempt {
  bool locked = false;
  std::optional<Fallback> fallback;
};

// Resizes to the decision's size, then to each up fallback the API refuses the previous one for;
// fills `out` (resized, locked or failed) and powers the droplet back on after a failure the
// driver could not finish.
ResizeAttempt resize_with_fallbacks(DropletDeps& deps, const ReconcileOptions& options, const digitalocean::Droplet& d,
                                    const std::vector<core::SizeSpec>& sizes,
                                    const core::ReconcileDecision& decision, ReconcileOutcome& out)
{
  std::vector<std::string> candidates{decision.desired};
  if (decision.desired == options.up_size) {
    candidates.insert(candidates.end(), options.up_fallbacks.begin(), options.up_fallbacks.end());
  }
  ResizeAttempt attempt;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    try {
      out.resize = resize_droplet(deps, d.id, resize_options_to(options, d, sizes, candidates[i]));
      out.result = "resized";
      out.size_used = candidates[i];
      if (i > 0) {
        attempt.fallback = Fallback{decision.desired, candidates[i]};
      }
      return attempt;
    } catch (const Error& e) {
      const std::string msg = e.what();
      if (e.code() == ExitCode::lock_held) {
        out.result = "locked";
        out.exit_code = to_int(e.code());
        out.reason = msg;
        attempt.locked = true;
        return attempt;
      }
      if (size_refused(e) && i + 1 < candidates.size()) {
        deps.reporter.warn(fmt::format("droplet {}: the API refused {}; trying {}", d.id, candidates[i], candidates[i + 1]));
        out.refused_sizes.push_back(candidates[i]);
        continue;
      }
      out.result = "failed";
      out.error = msg;
      out.exit_code = to_int(e.code());
      if (e.code() == ExitCode::failure) {
        // The driver powers on after API failures; after a lost state store it cannot, so do it here.
        try {
          finish_power_on(deps, d.id, options.resize.action_timeout);
        } catch (const Error& again) {
          deps.reporter.warn(fmt::format("droplet {} may be left off: {}", d.id, again.what()));
        }
      }
      return attempt;
    }
  }
  return attempt;
}

// Records the outcome (a failed write is a warning naming what was submitted) and tags the trail.
void record_and_tag(DropletDeps& deps, const ReconcileOptions& options, const detail::DropletView& view,
                    const ReconcileOutcome& out, const std::optional<Fallback>& used_fallback)
{
  std::vector<std::string> submitted;
  if (out.resize) {
    for (const auto& a : out.resize->actions) {
      submitted.push_back(fmt::format("action {} ({})", a.id, a.type));
    }
  }
  try {
    record_outcome(deps.store(), out, used_fallback, detail::shared_now_ms(deps.store(), deps.clock));
  } catch (const Error& e) {
    deps.reporter.warn(name_submitted(fmt::format("could not record the reconcile of droplet {}: {}", view.droplet.id,
                                                  e.what()),
                                      submitted, "the next `scalectl droplet reconcile`"));
  }
  if (options.tag_trail) {
    detail::set_trail_tag(deps.api, deps.reporter, view, out);
  }
}

ReconcileOutcome reconcile_droplet(DropletDeps& deps, const ReconcileOptions& options, const detail::DropletView& view)
{
  const auto& d = view.droplet;
  ReconcileOutcome out;
  out.droplet_id = d.id;
  out.droplet_name = d.name;
  out.current_size = d.size_slug;
  detail::refuse_state_on_droplet(options.state, view);
  if (const auto holder = deps.store().lock_holder(droplet_lock_resource(d.id))) {
    out.result = "locked";
    out.exit_code = to_int(ExitCode::lock_held);
    out.reason = fmt::format("another scalectl (pid {} on {}: {}) holds droplet {}'s lock", holder->pid,
                             holder->host, holder->command, d.id);
    return out;
  }
  const auto in = reconcile_input(deps, options, d, detail::shared_now_ms(deps.store(), deps.clock));
  const auto decision = core::decide_reconcile(in);
  out.desired_size = decision.desired;
  out.source = decision.source;
  out.reason = decision.reason;
  if (settled_without_resize(deps, options, d, in, decision, out)) {
    return out;
  }
  const auto attempt = resize_with_fallbacks(deps, options, d, in.sizes, decision, out);
  if (attempt.locked) {
    return out;
  }
  record_and_tag(deps, options, view, out, attempt.fallback);
  return out;
}

}  // namespace

json ReconcileOutcome::to_json() const
{
  json j = {{"droplet_id", droplet_id}, {"droplet_name", droplet_name}, {"current_size", current_size},
            {"desired_size", desired_size}, {"source", source}, {"result", result},
            {"reason", reason}, {"size_used", size_used}, {"refused_sizes", refused_sizes},
            {"exit_code", exit_code}};
  if (resize) {
    j["resize"] = resize->to_json();
  }
  if (!error.empty()) {
    j["error"] = error;
  }
  return j;
}

json ReconcileCycle::to_json() const
{
  json list = json::array();
  for (const auto& d : droplets) {
    list.push_back(d.to_json());
  }
  return {{"droplets", list}, {"api_requests", api_requests}, {"duration_ms", duration.count()}};
}

ReconcileCycle reconcile_once(DropletDeps& deps, const ReconcileOptions& options)
{
  const auto started = deps.clock.monotonic();
  const int requests_before = deps.api.request_count();
  ReconcileCycle cycle;
  std::vector<detail::DropletView> views;
  if (!options.tag.empty()) {
    views = detail::list_tagged(deps.api, options.tag);
  } else {
    views.push_back(detail::get_droplet_view(deps.api, resolve_droplet(deps.api, options.droplet)));
  }
  for (const auto& view : views) {
    throw_if_interrupted("reconcile");
    try {
      cycle.droplets.push_back(reconcile_droplet(deps, options, view));
    } catch (const Error& e) {
      if (options.tag.empty()) {
        throw;
      }
      ReconcileOutcome out;
      out.droplet_id = view.droplet.id;
      out.droplet_name = view.droplet.name;
      out.current_size = view.droplet.size_slug;
      out.result = "failed";
      out.error = e.what();
      out.exit_code = to_int(e.code());
      cycle.droplets.push_back(std::move(out));
    }
  }
  cycle.api_requests = deps.api.request_count() - requests_before;
  cycle.duration = std::chrono::duration_cast<std::chrono::milliseconds>(deps.clock.monotonic() - started);
  return cycle;
}

void reconcile_every(DropletDeps& deps, const ReconcileOptions& options, std::chrono::milliseconds every,
                     const std::function<void(const ReconcileCycle&)>& on_cycle,
                     const std::function<void(const std::string&)>& on_error)
{
  install_interrupt_handlers();
  std::mt19937_64 rng(std::random_device{}());
  int failures = 0;
  while (!interrupted()) {
    std::chrono::milliseconds pause = every;
    try {
      on_cycle(reconcile_once(deps, options));
      failures = 0;
    } catch (const Interrupted& e) {
      on_error(e.what());  // a signal mid-cycle: the cycle's drivers recorded where they stopped
      return;
    } catch (const Error& e) {
      if (e.code() == ExitCode::usage) {
        throw;
      }
      ++failures;
      const auto backoff = std::chrono::milliseconds(std::min<std::int64_t>(
        every.count() * (1LL << std::min(failures, 5)), std::max<std::int64_t>(every.count(), 300'000)));
      pause = backoff;
      on_error(fmt::format("{}; retrying in {}", e.what(), format_duration(pause)));
    }
    const auto jitter_max = std::max<std::int64_t>(pause.count() / 10, 1);
    std::uniform_int_distribution<std::int64_t> dist(0, jitter_max);
    const auto until = deps.clock.monotonic() + pause + std::chrono::milliseconds(dist(rng));
    try {
      while (!interrupted() && deps.clock.monotonic() < until) {
        deps.clock.sleep_for(std::min<std::chrono::milliseconds>(
          std::chrono::milliseconds{200},
          std::chrono::duration_cast<std::chrono::milliseconds>(until - deps.clock.monotonic())));
      }
    } catch (const Interrupted&) {
      return;  // SIGTERM/SIGINT between cycles: nothing is in flight, a clean stop (exit 0)
    }
  }
}

}  // namespace scalectl::ops
