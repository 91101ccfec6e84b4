#include "state/file_queue.hpp"

#include <algorithm>

#include "state/waiter_json.hpp"

namespace scalectl::state {

namespace {

using nlohmann::json;

json& waiters_of(json& pool)
{
  if (!pool.is_object()) {
    pool = json::object();
  }
  auto& waiters = pool["waiters"];
  if (!waiters.is_object()) {
    waiters = json::object();
  }
  return waiters;
}

bool admitted_before(const Waiter& a, const Waiter& b)
{
  if (a.priority != b.priority) {
    return a.priority > b.priority;
  }
  return a.seq != b.seq ? a.seq < b.seq : a.id < b.id;
}

}  // namespace

void queue_reap(json& pool, std::int64_t now_ms)
{
  auto& waiters = waiters_of(pool);
  std::vector<std::string> gone;
  for (const auto& [id, value] : waiters.items()) {
    const auto waiter = waiter_from_json(id, value);
    if (!waiter || waiter->expires_at_ms <= now_ms) {
      gone.push_back(id);
    }
  }
  for (const auto& id : gone) {
    waiters.erase(id);
  }
  if (waiters.empty()) {
    pool.erase("waiters");
    pool.erase("wait_seq");
  }
}

void queue_join(json& pool, const AllocateRequest& request, std::int64_t now_ms)
{
  auto& waiters = waiters_of(pool);
  const auto ttl = request.queue_ttl.value_or(std::chrono::milliseconds(0)).count();
  if (const auto it = waiters.find(request.lease.id); it != waiters.end()) {
    if (auto waiter = waiter_from_json(request.lease.id, *it)) {
      waiter->expires_at_ms = now_ms + ttl;
      *it = waiter_to_json(*waiter);
      return;
    }
  }
  const auto seq_it = pool.find("wait_seq");
  const std::int64_t last = seq_it != pool.end() && seq_it->is_number_integer() ? seq_it->get<std::int64_t>() : 0;
  Waiter waiter = waiter_of(request);
  waiter.seq = std::max<std::int64_t>(last, 0) + 1;
  waiter.since_ms = now_ms;
  waiter.expires_at_ms = now_ms + ttl;
  pool["wait_seq"] = waiter.seq;
  waiters[waiter.id] = waiter_to_json(waiter);
}

bool queue_leave(json& pool, std::string_view id)
{
  if (!pool.is_object() || !pool.contains("waiters") || !pool["waiters"].is_object()) {
    return false;
  }
  auto& waiters = pool["waiters"];
  const bool removed = waiters.erase(std::string(id)) > 0;
  if (waiters.empty()) {
    pool.erase("waiters");
    pool.erase("wait_seq");
  }
  return removed;
}

std::vector<Waiter> queue_list(const json& pool, std::int64_t now_ms)
{
  std::vector<Waiter> order;
  if (!pool.is_object()) {
    return order;
  }
  const auto it = pool.find("waiters");
  if (it == pool.end() || !it->is_object()) {
    return order;
  }
  for (const auto& [id, value] : it->items()) {
    if (auto waiter = waiter_from_json(id, value); waiter && waiter->expires_at_ms > now_ms) {
      order.push_back(std::move(*waiter));
    }
  }
  std::sort(order.begin(), order.end(), admitted_before);
  return order;
}

QueuePlace queue_place(const std::vector<Waiter>& order, const AllocateRequest& request,
                       const core::Resources& allocated)
{
  QueuePlace place;
  const auto fits = [&](const core::Resources& need) {
    return core::check_fit(request.usable, allocated + place.reserved, need).fits;
  };
  const Waiter* first = nullptr;
  bool stopped = false;
  std::size_t seen = 0;
  for (const auto& waiter : order) {
    if (seen++ == k_queue_ahead) {
      break;
    }
    if (waiter.id == request.lease.id) {
      stopped = true;
      break;
    }
    if (!request.queue_ttl && waiter.priority < request.priority) {
      stopped = true;
      break;
    }
    first = first != nullptr ? first : &waiter;
    if (!fits(waiter.resources)) {
      place.blocker = waiter;
      break;
    }
    place.reserved = place.reserved + waiter.resources;
  }
  const bool too_far = !stopped && seen > k_queue_ahead;
  const bool squeezed = !fits(request.lease.resources) &&
                        core::check_fit(request.usable, allocated, request.lease.resources).fits;
  if (!place.blocker && first != nullptr && (too_far || squeezed)) {
    place.blocker = *first;
  }
  if (request.queue_ttl) {
    const auto me = std::find_if(order.begin(), order.end(), [&](const Waiter& w) { return w.id == request.lease.id; });
    place.position = me == order.end() ? 0 : static_cast<std::int64_t>(me - order.begin()) + 1;
  }
  return place;
}

}  // namespace scalectl::state
