// Droplet views from the API's list/get answers, the cached size catalogue and the guard that
// keeps the state store off the droplet it would power off.

#include "ops/droplet_view.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/error.hpp>

#include "state/redis_url.hpp"

namespace scalectl::ops::detail {

using nlohmann::json;

namespace {

constexpr std::int64_t k_sizes_max_age_ms = 6LL * 3600 * 1000;
constexpr std::size_t k_max_pages = 500;

// Returns `text` as inet_ntop prints it, or "" when it is not an address.
std::string normalise_address(const std::string& text)
{
  char buf[INET6_ADDRSTRLEN] = {};
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return inet_ntop(AF_INET, &v4, buf, sizeof buf) != nullptr ? std::string(buf) : "";
  }
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return inet_ntop(AF_INET6, &v6, buf, sizeof buf) != nullptr ? std::string(buf) : "";
  }
  return "";
}

std::vector<std::string> resolve_host(const std::string& host)
{
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    return {};
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, &freeaddrinfo);
  std::vector<std::string> out;
  for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    const void* addr = nullptr;
    if (ai->ai_family == AF_INET) {
      addr = &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr;
    } else if (ai->ai_family == AF_INET6) {
      addr = &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr;
    }
    if (addr != nullptr && inet_ntop(ai->ai_family, addr, buf, sizeof buf) != nullptr) {
      out.emplace_back(buf);
    }
  }
  return out;
}

}  // namespace

DropletView parse_droplet_view(const json& j)
{
  DropletView v;
  v.droplet = digitalocean::parse_droplet(j);
  if (const auto n = j.find("networks"); n != j.end() && n->is_object()) {
    for (const char* family : {"v4", "v6"}) {
      const auto list = n->find(family);
      if (list == n->end() || !list->is_array()) {
        continue;
      }
      for (const auto& entry : *list) {
        if (entry.is_object() && entry.contains("ip_address") && entry["ip_address"].is_string()) {
          const auto addr = normalise_address(entry["ip_address"].get<std::string>());
          if (!addr.empty()) {
            v.addresses.push_back(addr);
          }
        }
      }
    }
  }
  if (const auto t = j.find("tags"); t != j.end() && t->is_array()) {
    for (const auto& tag : *t) {
      if (tag.is_string() && tag.get_ref<const std::string&>().size() <= 255) {
        v.tags.push_back(tag.get<std::string>());
      }
    }
  }
  return v;
}

DropletView get_droplet_view(digitalocean::Api& api, std::int64_t id)
{
  const auto body = api.request_json("GET", fmt::format("/v2/droplets/{}", id));
  if (!body.is_object() || !body.contains("droplet")) {
    throw Error(fmt::format("GET /v2/droplets/{} answered without a droplet object", id));
  }
  return parse_droplet_view(body["droplet"]);
}

std::vector<DropletView> list_tagged(digitalocean::Api& api, const std::string& tag)
{
  std::vector<DropletView> out;
  std::string path = fmt::format("/v2/droplets?tag_name={}&per_page=200", tag);
  for (std::size_t page = 0; page < k_max_pages && !path.empty(); ++page) {
    const auto body = api.request_json("GET", path);
    if (!body.is_object() || !body.contains("droplets") || !body["droplets"].is_array()) {
      throw Error(fmt::format("GET {} answered without a droplets list", path));
    }
    for (const auto& d : body["droplets"]) {
      out.push_back(parse_droplet_view(d));
    }
    path = digitalocean::next_page_path(body);
  }
  return out;
}

std::int64_t shared_now_ms(state::Store& store, Clock& clock)
{
  if (const auto at = store.time_ms()) {
    return *at;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
}

std::vector<core::SizeSpec> size_catalogue(digitalocean::Api& api, state::Store& store, std::int64_t now_ms)
{
  constexpr const char* k_key = "digitalocean-sizes";
  if (const auto cached = store.get(k_key); cached && cached->is_object()) {
    const auto fetched = cached->value("fetched_ms", std::int64_t{0});
    if (now_ms - fetched >= 0 && now_ms - fetched < k_sizes_max_age_ms && cached->contains("sizes") &&
        (*cached)["sizes"].is_array()) {
      std::vector<core::SizeSpec> out;
      for (const auto& s : (*cached)["sizes"]) {
        if (s.is_object() && s.contains("slug") && s["slug"].is_string()) {
          out.push_back({s["slug"].get<std::string>().substr(0, 64), s.value("memory_mb", std::int64_t{0}),
                         s.value("vcpus", 0)});
        }
      }
      if (!out.empty()) {
        return out;
      }
    }
  }
  std::vector<core::SizeSpec> out;
  json list = json::array();
  for (const auto& s : api.list_sizes()) {
    out.push_back({s.slug, s.memory_mb, s.vcpus});
    list.push_back({{"slug", s.slug}, {"memory_mb", s.memory_mb}, {"vcpus", s.vcpus}});
  }
  const json record = {{"fetched_ms", now_ms}, {"sizes", list}};
  store.update(k_key, [&](const std::optional<json>&) { return record; });
  return out;
}

void refuse_state_on_droplet(const StateLocation& state, const DropletView& view)
{
  if (state.redis_url.empty()) {
    return;
  }
  const auto endpoint = state::parse_redis_url(state.redis_url);
  if (!endpoint || endpoint->host.empty()) {
    return;  // a unix socket is on this host; a bad URL is reported when the store opens
  }
  for (const auto& addr : resolve_host(endpoint->host)) {
    if (std::find(view.addresses.begin(), view.addresses.end(), addr) != view.addresses.end()) {
      throw refused_error(fmt::format(
        "the state store (Redis at {}) runs on droplet {} ({}) itself ({}): resizing powers it off and takes the "
        "claims and locks with it mid-resize; use a store that lives elsewhere, such as DigitalOcean Managed "
        "Valkey or Redis on the control host that runs `scalectl droplet reconcile`",
        endpoint->address(), view.droplet.id, view.droplet.name, addr));
    }
  }
}

}  // namespace scalectl::ops::detail
