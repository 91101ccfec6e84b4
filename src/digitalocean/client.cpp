#include <scalectl/digitalocean/client.hpp>
#include <scalectl/core/numeric.hpp>
#include <scalectl/core/text.hpp>

#include <cctype>
#include <charconv>
#include <cmath>

#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/error.hpp>
#include <scalectl/net/http.hpp>

namespace scalectl::digitalocean {

using nlohmann::json;

namespace {

// The largest price a size may have, in USD a month (the largest droplets cost a few thousand):
// beyond it a price is garbage, and it would overflow the cost arithmetic of `droplet cost`.
constexpr double k_max_price_monthly = 1'000'000;

std::string url_encode(std::string_view text)
{
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((std::isalnum(u) != 0) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

// Strips scheme://host from an absolute URL so logs and errors show only the path.
std::string path_of(const std::string& url)
{
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) {
    return url;
  }
  const auto slash = url.find('/', scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

ApiError make_api_error(const std::string& method, const std::string& path, const net::Response& response,
                        const ClientOptions& options)
{
  std::string id;
  std::string message;
  std::string request_id;
  try {
    const auto body = json::parse(response.body);
    id = body.value("id", "");
    message = body.value("message", "");
    request_id = body.value("request_id", "");
  } catch (const json::exception&) {
    message = response.body.substr(0, 200);
  }
  std::string text = fmt::format("DigitalOcean API {} {} answered {}", method, path, response.status);
  if (!id.empty()) {
    text += fmt::format(" {}", id);
  }
  if (!message.empty()) {
    text += fmt::format(": {}", message);
  }
  if (response.status == 401) {
    text = fmt::format("DigitalOcean rejected the API token from {} (401 {}); check that it is valid and not "
                       "revoked, or create a new one at cloud.digitalocean.com/account/api/tokens",
                       options.token_source.empty() ? "the configuration" : options.token_source,
                       id.empty() ? "unauthorized" : id);
  } else if (response.status == 403) {
    text += "; the token lacks the scope for this request (it needs read and write access)";
  } else if (response.status == 429) {
    text += "; the API rate limit is exhausted, wait and rerun";
  } else if (response.status >= 500) {
    text += "; DigitalOcean had a server error, rerun later";
  }
  if (!request_id.empty()) {
    text += fmt::format(" (request_id {})", request_id);
  }
  return ApiError(response.status, std::move(id), std::move(message), std::move(request_id), text);
}

// Returns the number at `key` (a JSON number or a numeric string), `fallback` when it is missing
// or null; throws Error naming the field when it is not a finite number within [lo, hi].
double number_or(const json& j, const char* key, double fallback, double lo = -1e15, double hi = 1e15)
{
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return fallback;
  }
  double value = fallback;
  bool ok = false;
  if (it->is_number()) {
    value = it->get<double>();
    ok = true;
  } else if (it->is_string()) {
    const auto& text = it->get_ref<const std::string&>();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    ok = ec == std::errc() && end == text.data() + text.size();
  }
  if (!ok || !std::isfinite(value) || value < lo || value > hi) {
    throw Error(fmt::format("the DigitalOcean API returned {} = {} (expected a number from {} to {}); the API or a "
                            "proxy in front of it answered something unexpected, retry later or report it",
                            key, core::escape_control(it->dump().substr(0, 40)), lo, hi));
  }
  return value;
}

// Returns the string at `key` ("" when missing), bounded to 1 KiB and with control characters
// escaped: every name, slug and status is printed somewhere, and a server must not forge lines.
std::string string_or(const json& j, const char* key)
{
  constexpr std::size_t k_max_text = 1024;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return {};
  }
  const auto& text = it->get_ref<const std::string&>();
  return core::escape_control(std::string_view(text).substr(0, k_max_text));
}

}  // namespace

std::string next_page_path(const json& body)
{
  const auto links = body.find("links");
  if (links == body.end() || !links->is_object()) {
    return {};
  }
  const auto pages = links->find("pages");
  if (pages == links->end() || !pages->is_object()) {
    return {};
  }
  const auto next = pages->find("next");
  if (next == pages->end() || !next->is_string()) {
    return {};
  }
  const auto link = next->get<std::string>();
  if (link.find("://") == std::string::npos && !link.starts_with('/')) {
    // Relative links must be absolute paths: "@127.0.0.2:80/v2/..." appended to the base URL
    // would send the token to another host. The client refuses it; keep it visible as is.
    return link;
  }
  return path_of(link);
}

namespace {

// Returns the integer id under `key`; a missing, fractional or out-of-range id is an Error (a
// float id such as 7.4e116 would otherwise be converted with undefined behaviour: fuzz_do_json).
std::int64_t id_at(const json& j, const char* key)
{
  const auto it = j.find(key);
  const bool usable = it != j.end() && it->is_number_integer() &&
                      (!it->is_number_unsigned() ||
                       it->get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  if (!usable) {
    throw Error(fmt::format("the DigitalOcean API answered an object whose \"{}\" is not an integer id ({}); check "
                            "that digitalocean.api_url points at the API",
                            key, it == j.end() ? std::string("missing") : it->dump().substr(0, 40)));
  }
  return it->get<std::int64_t>();
}

}  // namespace

Droplet parse_droplet(const json& j)
{
  Droplet d;
  d.id = id_at(j, "id");
  d.name = string_or(j, "name");
  d.status = string_or(j, "status");
  d.locked = j.value("locked", false);
  d.size_slug = string_or(j, "size_slug");
  d.memory_mb = core::clamp_to_int64(number_or(j, "memory", 0), 0, core::k_max_amount);
  d.vcpus = static_cast<int>(core::clamp_to_int64(number_or(j, "vcpus", 0), 0, 1 << 20));
  d.disk_gb = core::clamp_to_int64(number_or(j, "disk", 0), 0, core::k_max_amount);
  if (const auto size = j.find("size"); size != j.end() && size->is_object()) {
    if (d.size_slug.empty()) {
      d.size_slug = string_or(*size, "slug");
    }
    d.price_monthly = number_or(*size, "price_monthly", 0, 0, k_max_price_monthly);
    d.price_hourly = number_or(*size, "price_hourly", 0, 0, k_max_price_monthly);
  }
  if (const auto region = j.find("region"); region != j.end() && region->is_object()) {
    d.region = string_or(*region, "slug");
  }
  return d;
}

Action parse_action(const json& j)
{
  Action a;
  a.id = id_at(j, "id");
  a.status = string_or(j, "status");
  a.type = string_or(j, "type");
  a.started_at = string_or(j, "started_at");
  a.completed_at = string_or(j, "completed_at");
  if (const auto it = j.find("resource_id"); it != j.end() && it->is_number_integer()) {
    a.resource_id = id_at(j, "resource_id");
  }
  return a;
}

Size parse_size(const json& j)
{
  Size s;
  s.slug = string_or(j, "slug");
  s.memory_mb = core::clamp_to_int64(number_or(j, "memory", 0), 0, core::k_max_amount);
  s.vcpus = static_cast<int>(core::clamp_to_int64(number_or(j, "vcpus", 0), 0, 1 << 20));
  s.disk_gb = core::clamp_to_int64(number_or(j, "disk", 0), 0, core::k_max_amount);
  s.price_monthly = number_or(j, "price_monthly", 0, 0, k_max_price_monthly);
  s.price_hourly = number_or(j, "price_hourly", 0, 0, k_max_price_monthly);
  s.available = j.value("available", true);
  s.description = string_or(j, "description");
  return s;
}

Client::Client(net::Transport& transport, ClientOptions options)
    : m_transport(transport), m_options(std::move(options))
{
  while (!m_options.base_url.empty() && m_options.base_url.back() == '/') {
    m_options.base_url.pop_back();
  }
}

std::string Client::request_text(std::string_view method, const std::string& path, const std::string* body)
{
  net::Request request;
  request.method = std::string(method);
  // The token goes to the base URL only: a path that does not start with one '/' ("@evil:80/",
  // "//evil/") would change the host the URL names.
  if (!path.starts_with('/') || path.starts_with("//") || path.find_first_of("\\ \t\r\n") != std::string::npos) {
    throw Error(fmt::format("refusing to send the API token to \"{}\": not a path on the API base URL {} (a "
                            "pagination link from the server?); check DIGITALOCEAN_API_URL",
                            core::escape_control(path.substr(0, 200)), m_options.base_url));
  }
  request.url = m_options.base_url + path;
  request.headers.push_back({"Authorization", "Bearer " + m_options.token});
  request.headers.push_back({"Accept", "application/json"});
  if (body != nullptr) {
    request.headers.push_back({"Content-Type", "application/json"});
    request.body = *body;
  }
  ++m_requests;
  net::Response response = m_transport.send(request);
  if (response.status < 200 || response.status >= 300) {
    throw make_api_error(request.method, path_of(request.url), response, m_options);
  }
  return std::move(response.body);
}

json Client::request_json(std::string_view method, const std::string& path, const json* body)
{
  const std::string text = body != nullptr ? body->dump() : std::string();
  const std::string response = request_text(method, path, body != nullptr ? &text : nullptr);
  if (response.empty()) {
    return json::object();
  }
  try {
    return json::parse(response);
  } catch (const json::exception& e) {
    throw Error(fmt::format("DigitalOcean API {} {} returned a body that is not JSON ({}); check "
                            "digitalocean.api_url points at the API",
                            method, path, e.what()));
  }
}

Droplet Client::get_droplet(std::int64_t id)
{
  try {
    return parse_droplet(request_json("GET", fmt::format("/v2/droplets/{}", id)).at("droplet"));
  } catch (const ApiError& e) {
    if (e.status() == 404) {
      throw ApiError(e.status(), e.id(), e.api_message(), e.request_id(),
                     fmt::format("droplet {} does not exist or this token cannot see it (404 {}); check --droplet, "
                                 "DROPLET_ID or [droplet] id",
                                 id, e.id().empty() ? "not_found" : e.id()));
    }
    throw;
  }
}

std::vector<Droplet> Client::find_droplets_by_name(const std::string& name)
{
  std::vector<Droplet> found;
  std::string path = "/v2/droplets?name=" + url_encode(name) + "&per_page=200";
  for (int page = 0; page < 100 && !path.empty(); ++page) {
    const json body = request_json("GET", path);
    for (const auto& d : body.value("droplets", json::array())) {
      found.push_back(parse_droplet(d));
    }
    path = next_page_path(body);
  }
  return found;
}

Action Client::droplet_action(std::int64_t droplet_id, std::string_view type)
{
  const json body = {{"type", type}};
  return parse_action(request_json("POST", fmt::format("/v2/droplets/{}/actions", droplet_id), &body).at("action"));
}

Action Client::resize(std::int64_t droplet_id, const std::string& size_slug, bool disk)
{
  const json body = {{"type", "resize"}, {"size", size_slug}, {"disk", disk}};
  return parse_action(request_json("POST", fmt::format("/v2/droplets/{}/actions", droplet_id), &body).at("action"));
}

Action Client::get_action(std::int64_t action_id)
{
  return parse_action(request_json("GET", fmt::format("/v2/actions/{}", action_id)).at("action"));
}

std::vector<Action> Client::droplet_actions(std::int64_t droplet_id)
{
  std::vector<Action> actions;
  const json body = request_json("GET", fmt::format("/v2/droplets/{}/actions?page=1&per_page=20", droplet_id));
  for (const auto& a : body.value("actions", json::array())) {
    actions.push_back(parse_action(a));
  }
  return actions;
}

std::vector<Size> Client::list_sizes()
{
  std::vector<Size> sizes;
  std::string path = "/v2/sizes?per_page=200";
  for (int page = 0; page < 100 && !path.empty(); ++page) {
    const json body = request_json("GET", path);
    for (const auto& s : body.value("sizes", json::array())) {
      sizes.push_back(parse_size(s));
    }
    path = next_page_path(body);
  }
  return sizes;
}

ApiErrorKind classify_api_error(long status, std::string_view id)
{
  if (status == 401 || id == "unauthorized") {
    return ApiErrorKind::unauthorized;
  }
  if (status == 403 || id == "forbidden") {
    return ApiErrorKind::forbidden;
  }
  if (status == 404 || id == "not_found") {
    return ApiErrorKind::not_found;
  }
  if (status == 429 || id == "too_many_requests") {
    return ApiErrorKind::rate_limited;
  }
  if (status == 422 || id == "unprocessable_entity") {
    return ApiErrorKind::unprocessable;
  }
  if (status >= 500) {
    return ApiErrorKind::server;
  }
  return ApiErrorKind::other;
}

std::optional<Action> in_progress_action(Api& api, std::int64_t droplet_id)
{
  for (const auto& action : api.droplet_actions(droplet_id)) {
    if (action.status == "in-progress") {
      return action;
    }
  }
  return std::nullopt;
}

}  // namespace scalectl::digitalocean
