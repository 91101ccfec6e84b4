// do-app: an App Platform component's instance_count, with the minimal direct API calls
// (GET /v2/apps/{id}; PUT the spec with only instance_count changed).

#include "ops/autoscale_app_target.hpp"

#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/digitalocean/client.hpp>
#include <scalectl/error.hpp>

namespace scalectl::ops {

namespace {

using nlohmann::json;

constexpr const char* k_scalable[] = {"services", "workers"};

bool looks_like_uuid(const std::string& text)
{
  if (text.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (text[i] == '-') || (!dash && std::isxdigit(static_cast<unsigned char>(text[i])) == 0)) {
      return false;
    }
  }
  return true;
}

class AppTarget final : public ReplicaTarget {
 public:
  AppTarget(TargetSpec spec, TargetDeps deps) : m_spec(std::move(spec)), m_deps(std::move(deps)) {}

  std::int64_t current() override
  {
    json spec = fetch_spec();
    return instance_count(component(spec));
  }

  std::string apply(std::int64_t replicas) override
  {
    // Re-read the spec right before the PUT so that only instance_count differs from what runs.
    json spec = fetch_spec();
    component(spec)["instance_count"] = replicas;
    const json body = {{"spec", spec}, {"update_all_source_versions", false}};
    const json answer = m_deps.digitalocean().request_json("PUT", fmt::format("/v2/apps/{}", app_id()), &body);
    const json app = answer.value("app", json::object());
    for (const char* key : {"pending_deployment", "in_progress_deployment"}) {
      if (app.contains(key) && app[key].is_object() && app[key].contains("id")) {
        return fmt::format("deployment {}", app[key]["id"].get<std::string>());
      }
    }
    return "spec updated";
  }

  std::string describe() const override
  {
    return fmt::format("App Platform app {}, component {}", m_spec.app, m_spec.component);
  }
  std::string current_source() const override { return "the app spec's instance_count"; }

 private:
  const std::string& app_id()
  {
    if (!m_app_id.empty()) {
      return m_app_id;
    }
    if (looks_like_uuid(m_spec.app)) {
      m_app_id = m_spec.app;
      return m_app_id;
    }
    auto& api = m_deps.digitalocean();
    for (int page = 1; page <= 100; ++page) {
      const json answer = api.request_json("GET", fmt::format("/v2/apps?page={}&per_page=200", page));
      for (const auto& app : answer.value("apps", json::array())) {
        if (app.contains("spec") && app["spec"].value("name", "") == m_spec.app) {
          m_app_id = app.value("id", "");
          return m_app_id;
        }
      }
      const json links = answer.value("links", json::object());
      if (!links.contains("pages") || !links["pages"].contains("next")) {
        break;
      }
    }
    throw usage_error(fmt::format("no App Platform app named \"{}\"; check autoscale app (an id or the app's name)",
                                  m_spec.app));
  }

  json fetch_spec()
  {
    const json answer = m_deps.digitalocean().request_json("GET", fmt::format("/v2/apps/{}", app_id()));
    if (!answer.contains("app") || !answer["app"].contains("spec") || !answer["app"]["spec"].is_object()) {
      throw Error(fmt::format("GET /v2/apps/{} returned no app spec; check the app id", app_id()));
    }
    return answer["app"]["spec"];
  }

  json& component(json& spec)
  {
    std::vector<std::string> names;
    for (const char* list : k_scalable) {
      if (!spec.contains(list) || !spec[list].is_array()) {
        continue;
      }
      for (auto& c : spec[list]) {
        const std::string name = c.value("name", "");
        if (name != m_spec.component) {
          names.push_back(name);
          continue;
        }
        if (c.contains("autoscaling")) {
          throw usage_error(fmt::format("component {} of app {} uses App Platform autoscaling, which would fight "
                                        "scalectl; remove its autoscaling block or use another target",
                                        m_spec.component, m_spec.app));
        }
        return c;
      }
    }
    throw usage_error(fmt::format("app {} has no service or worker named \"{}\"{}; fix autoscale component", m_spec.app,
                                  m_spec.component,
                                  names.empty() ? std::string() : fmt::format(" (it has: {})", fmt::join(names, ", "))));
  }

  static std::int64_t instance_count(const json& component)
  {
    const auto it = component.find("instance_count");
    if (it == component.end() || it->is_null()) {
      return 1;  // App Platform's default
    }
    if (!it->is_number_integer()) {
      throw Error(fmt::format("instance_count of component {} is {}, not an integer", component.value("name", ""),
                              it->dump()));
    }
    return it->get<std::int64_t>();
  }

  TargetSpec m_spec;
  TargetDeps m_deps;
  std::string m_app_id;
};

}  // namespace

std::unique_ptr<ReplicaTarget> make_app_target(const TargetSpec& spec, TargetDeps deps)
{
  if (!deps.digitalocean) {
    throw Error("internal error: the do-app target needs a DigitalOcean client");
  }
  return std::make_unique<AppTarget>(spec, std::move(deps));
}

}  // namespace scalectl::ops
