#include <scalectl/digitalocean/apps.hpp>

#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/digitalocean/client.hpp>

namespace scalectl::digitalocean {

using core::RawJson;
using nlohmann::json;

namespace {

std::string text_of(const RawJson& j, const char* key)
{
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t int_of(const RawJson& j, const char* key)
{
  const auto it = j.find(key);
  return it != j.end() ? core::integral_value(*it).value_or(0) : 0;
}

// Reads a number the API may send as a JSON string ("5.00") or as a number.
template <typename T>
T number_in(const json& j, const char* key)
{
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return T{};
  }
  if (it->is_number()) {
    return it->get<T>();
  }
  if (!it->is_string()) {
    return T{};
  }
  const auto& text = it->get_ref<const std::string&>();
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw Error(fmt::format("GET /v2/apps/tiers/instance_sizes: {} of size {} is '{}', not a number; the API "
                            "changed, report this",
                            key, j.value("slug", "?"), text));
  }
  return value;
}

// Depth-first search for the first leaf step whose status is `status`; fills its path and reason.
bool find_step(const RawJson& node, const std::string& status, std::vector<std::string>& path, Deployment& out)
{
  const auto name = text_of(node, "name");
  const bool named = !name.empty() && name != "components";
  if (named) {
    path.push_back(name);
  }
  const auto steps = node.find("steps");
  bool found = false;
  if (steps != node.end() && steps->is_array() && !steps->empty()) {
    for (const auto& child : *steps) {
      if (find_step(child, status, path, out)) {
        found = true;
        break;
      }
    }
  } else if (text_of(node, "status") == status) {
    std::string joined;
    for (const auto& part : path) {
      joined += (joined.empty() ? "" : " > ") + part;
    }
    out.failed_step = joined;
    if (const auto reason = node.find("reason"); reason != node.end() && reason->is_object()) {
      const auto code = text_of(*reason, "code");
      const auto message = text_of(*reason, "message");
      out.failure_reason = code.empty() ? message : (message.empty() ? code : code + ": " + message);
    }
    found = true;
  }
  if (named) {
    path.pop_back();
  }
  return found;
}

std::string not_found_hint(const ApiError& e, const std::string& what)
{
  return fmt::format("{} does not exist or this token cannot see it (404 {}); check the APP argument, "
                     "SCALECTL_APP_ID or [app] id",
                     what, e.id().empty() ? "not_found" : e.id());
}

}  // namespace

bool Deployment::finished() const
{
  return phase == "ACTIVE" || phase == "SUPERSEDED" || phase == "ERROR" || phase == "CANCELED";
}

Deployment parse_deployment(const RawJson& j)
{
  Deployment d;
  d.id = text_of(j, "id");
  d.phase = text_of(j, "phase");
  d.cause = text_of(j, "cause");
  d.created_at = text_of(j, "created_at");
  d.updated_at = text_of(j, "updated_at");
  if (const auto progress = j.find("progress"); progress != j.end() && progress->is_object()) {
    d.success_steps = int_of(*progress, "success_steps");
    d.error_steps = int_of(*progress, "error_steps");
    d.total_steps = int_of(*progress, "total_steps");
    if (d.phase == "ERROR" || d.phase == "CANCELED") {
      std::vector<std::string> path;
      RawJson root = RawJson::object();
      if (const auto steps = progress->find("steps"); steps != progress->end()) {
        root["steps"] = *steps;
      }
      if (!find_step(root, "ERROR", path, d)) {
        find_step(root, "UNKNOWN", path, d);
      }
    }
  }
  return d;
}

core::AppSize parse_instance_size(const json& j)
{
  core::AppSize s;
  s.slug = j.value("slug", "");
  s.memory_bytes = number_in<std::int64_t>(j, "memory_bytes");
  s.cpus = number_in<double>(j, "cpus");
  s.usd_per_month = number_in<double>(j, "usd_per_month");
  s.usd_per_second = number_in<double>(j, "usd_per_second");
  s.dedicated = j.value("cpu_type", "") == "DEDICATED";
  s.single_instance_only = j.value("single_instance_only", false);
  return s;
}

App parse_app(const RawJson& j)
{
  App app;
  app.id = text_of(j, "id");
  app.updated_at = text_of(j, "updated_at");
  if (const auto spec = j.find("spec"); spec != j.end() && spec->is_object()) {
    app.spec = *spec;
    app.name = text_of(*spec, "name");
  } else {
    throw Error(fmt::format("the API returned app {} without a spec; rerun, or report this if it persists", app.id));
  }
  const auto deployment = [&](const char* key) -> std::optional<Deployment> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_object() || text_of(*it, "id").empty()) {
      return std::nullopt;
    }
    return parse_deployment(*it);
  };
  app.active_deployment = deployment("active_deployment");
  app.in_progress_deployment = deployment("in_progress_deployment");
  app.pending_deployment = deployment("pending_deployment");
  return app;
}

std::string app_update_body(const RawJson& spec)
{
  return "{\"spec\":" + core::dump_raw_json(spec) + ",\"update_all_source_versions\":false}";
}

App get_app(Api& client, const std::string& app_id)
{
  const auto path = "/v2/apps/" + app_id;
  try {
    const auto body = core::parse_raw_json(client.request_text("GET", path), "the answer to GET " + path);
    return parse_app(body.at("app"));
  } catch (const ApiError& e) {
    if (e.status() == 404) {
      throw ApiError(e.status(), e.id(), e.api_message(), e.request_id(), not_found_hint(e, "app " + app_id));
    }
    throw;
  } catch (const RawJson::exception& e) {
    throw Error(fmt::format("the answer to GET {} has no app object ({}); check digitalocean.api_url", path, e.what()));
  }
}

std::vector<AppRef> list_apps(Api& client)
{
  std::vector<AppRef> apps;
  std::string path = "/v2/apps?per_page=100";
  for (int page = 0; page < 1000 && !path.empty(); ++page) {
    const json body = client.request_json("GET", path);
    for (const auto& a : body.value("apps", json::array())) {
      AppRef ref;
      ref.id = a.value("id", "");
      if (const auto spec = a.find("spec"); spec != a.end() && spec->is_object()) {
        ref.name = spec->value("name", "");
      }
      apps.push_back(std::move(ref));
    }
    path = next_page_path(body);
  }
  return apps;
}

App update_app_spec(Api& client, const std::string& app_id, const RawJson& spec)
{
  const auto path = "/v2/apps/" + app_id;
  const auto request = app_update_body(spec);
  const auto body = core::parse_raw_json(client.request_text("PUT", path, &request), "the answer to PUT " + path);
  const auto app = body.find("app");
  if (app == body.end() || !app->is_object()) {
    throw Error(fmt::format("the answer to PUT {} has no app object; check `scalectl app status` for what happened",
                            path));
  }
  return parse_app(*app);
}

Deployment get_deployment(Api& client, const std::string& app_id, const std::string& deployment_id)
{
  const auto path = fmt::format("/v2/apps/{}/deployments/{}", app_id, deployment_id);
  const auto body = core::parse_raw_json(client.request_text("GET", path), "the answer to GET " + path);
  const auto it = body.find("deployment");
  if (it == body.end() || !it->is_object()) {
    throw Error(fmt::format("the answer to GET {} has no deployment object; check digitalocean.api_url", path));
  }
  return parse_deployment(*it);
}

std::vector<Deployment> list_deployments(Api& client, const std::string& app_id, int per_page)
{
  const auto path = fmt::format("/v2/apps/{}/deployments?page=1&per_page={}", app_id, per_page);
  const auto body = core::parse_raw_json(client.request_text("GET", path), "the answer to GET " + path);
  std::vector<Deployment> out;
  if (const auto list = body.find("deployments"); list != body.end() && list->is_array()) {
    for (const auto& d : *list) {
      out.push_back(parse_deployment(d));
    }
  }
  return out;
}

std::vector<core::AppSize> list_instance_sizes(Api& client)
{
  const json body = client.request_json("GET", "/v2/apps/tiers/instance_sizes");
  std::vector<core::AppSize> sizes;
  for (const auto& s : body.value("instance_sizes", json::array())) {
    sizes.push_back(parse_instance_size(s));
  }
  return sizes;
}

}  // namespace scalectl::digitalocean
