#pragma once
// An in-memory App Platform for unit tests of the app ops: one app whose deployments start
// PENDING_BUILD when a spec is PUT and end (ACTIVE, or a scripted phase) on their first poll, with
// scripted 422 answers to the PUT and a hook called on every poll.

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/digitalocean/client.hpp>

namespace scalectl::test {

class FakeAppApi final : public digitalocean::Api {
 public:
  static constexpr const char* k_app_id = "4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf";

  FakeAppApi()
  {
    spec = nlohmann::json::parse(R"({"name":"shop","services":[{"name":"web","instance_size_slug":)"
                                 R"("apps-s-1vcpu-1gb","instance_count":1}]})");
    deployments["dep-0"] = {"dep-0", "ACTIVE"};
    active = "dep-0";
  }

  struct FakeDeployment {
    std::string id;
    std::string phase;
  };

  nlohmann::json spec;  // the app's current spec
  std::map<std::string, FakeDeployment> deployments;
  std::string active;       // the active deployment's id
  std::string in_progress;  // the running deployment's id ("" = none)
  // Answers to the next PUTs: 0 = accept, 422 = refuse as unprocessable (a deployment is pending).
  std::deque<int> put_answers;
  // The phase a new deployment ends in on its first poll; "" keeps it DEPLOYING forever.
  std::string end_phase = "ACTIVE";
  // When false, the answer to a PUT and the deployments list show no new deployment.
  bool show_new_deployment = true;
  // Called before every deployment poll (e.g. to raise an interrupt or fail the store mid-wait).
  std::function<void(const FakeDeployment&)> on_poll;
  // Every spec PUT, in order.
  std::vector<nlohmann::json> puts;

  // Starts a deployment that is still running when the driver first looks.
  void start_deployment(const std::string& id)
  {
    deployments[id] = {id, "DEPLOYING"};
    in_progress = id;
  }

  std::string request_text(std::string_view method, const std::string& path, const std::string* body) override
  {
    ++m_requests;
    const std::string app_path = std::string("/v2/apps/") + k_app_id;
    if (method == "GET" && path == app_path) {
      return nlohmann::json{{"app", app_json()}}.dump();
    }
    if (method == "PUT" && path == app_path && body != nullptr) {
      return put(*body);
    }
    if (method == "GET" && path.rfind(app_path + "/deployments?", 0) == 0) {
      nlohmann::json list = nlohmann::json::array();
      if (show_new_deployment && !m_last_new.empty()) {
        list.push_back(deployment_json(deployments.at(m_last_new)));
      } else {
        list.push_back(deployment_json(deployments.at(active)));
      }
      return nlohmann::json{{"deployments", list}}.dump();
    }
    if (method == "GET" && path.rfind(app_path + "/deployments/", 0) == 0) {
      auto& d = deployments.at(path.substr(app_path.size() + 13));
      if (on_poll) {
        on_poll(d);
      }
      advance(d);
      return nlohmann::json{{"deployment", deployment_json(d)}}.dump();
    }
    throw digitalocean::ApiError(404, "not_found", "not found", "req-1", fmt::format("{} {}: not found", method, path));
  }

  nlohmann::json request_json(std::string_view method, const std::string& path, const nlohmann::json*) override
  {
    ++m_requests;
    if (method == "GET" && path == "/v2/apps/tiers/instance_sizes") {
      return nlohmann::json::parse(
        R"({"instance_sizes":[{"slug":"apps-s-1vcpu-1gb","cpu_type":"SHARED","cpus":"1","memory_bytes":"1073741824",)"
        R"("usd_per_month":"12.00","usd_per_second":"0.000004"},{"slug":"apps-s-1vcpu-2gb","cpu_type":"SHARED",)"
        R"("cpus":"1","memory_bytes":"2147483648","usd_per_month":"25.00","usd_per_second":"0.000009"}]})");
    }
    throw std::logic_error("unused");
  }

  digitalocean::Droplet get_droplet(std::int64_t) override { throw std::logic_error("unused"); }
  std::vector<digitalocean::Droplet> find_droplets_by_name(const std::string&) override
  {
    throw std::logic_error("unused");
  }
  digitalocean::Action droplet_action(std::int64_t, std::string_view) override { throw std::logic_error("unused"); }
  digitalocean::Action resize(std::int64_t, const std::string&, bool) override { throw std::logic_error("unused"); }
  digitalocean::Action get_action(std::int64_t) override { throw std::logic_error("unused"); }
  std::vector<digitalocean::Action> droplet_actions(std::int64_t) override { throw std::logic_error("unused"); }
  std::vector<digitalocean::Size> list_sizes() override { throw std::logic_error("unused"); }
  int request_count() const override { return m_requests; }

 private:
  static nlohmann::json deployment_json(const FakeDeployment& d)
  {
    const bool done = d.phase == "ACTIVE" || d.phase == "SUPERSEDED";
    nlohmann::json j = {{"id", d.id},
                        {"phase", d.phase},
                        {"cause", "app spec updated"},
                        {"progress", {{"success_steps", done ? 3 : 1}, {"total_steps", 3}}}};
    if (d.phase == "ERROR") {
      j["progress"]["error_steps"] = 1;
      j["progress"]["steps"] = nlohmann::json::parse(
        R"([{"name":"deploy","status":"ERROR","steps":[{"name":"web","status":"ERROR",)"
        R"("reason":{"code":"DeployHealthChecksFailed","message":"health checks failed"}}]}])");
    }
    return j;
  }

  nlohmann::json app_json() const
  {
    nlohmann::json j = {{"id", k_app_id}, {"spec", spec}, {"active_deployment", deployment_json(deployments.at(active))}};
    if (!in_progress.empty()) {
      j["in_progress_deployment"] = deployment_json(deployments.at(in_progress));
    }
    return j;
  }

  std::string put(const std::string& body)
  {
    const int answer = put_answers.empty() ? 0 : put_answers.front();
    if (!put_answers.empty()) {
      put_answers.pop_front();
    }
    if (answer != 0) {
      // The text is deliberately unlike any phrase the driver could search for: only status and id count.
      throw digitalocean::ApiError(answer, "unprocessable_entity", "Das geht gerade nicht.", "req-2",
                                   "DigitalOcean API PUT answered 422 unprocessable_entity");
    }
    spec = nlohmann::json::parse(body).at("spec");
    puts.push_back(spec);
    const auto id = fmt::format("dep-{}", puts.size());
    deployments[id] = {id, "PENDING_BUILD"};
    m_last_new = id;
    nlohmann::json app = app_json();
    if (show_new_deployment) {
      app["pending_deployment"] = deployment_json(deployments.at(id));
    }
    return nlohmann::json{{"app", app}}.dump();
  }

  void advance(FakeDeployment& d)
  {
    if (d.phase == "ACTIVE" || d.phase == "ERROR" || d.phase == "CANCELED" || d.phase == "SUPERSEDED") {
      return;
    }
    const bool mine = d.id != in_progress;  // a deployment started by a PUT ends in end_phase
    const std::string next = mine ? end_phase : "ACTIVE";
    if (next.empty()) {
      d.phase = "DEPLOYING";
      return;
    }
    d.phase = next;
    if (d.id == in_progress) {
      in_progress.clear();
    }
    if (next == "ACTIVE") {
      active = d.id;
    }
  }

  std::string m_last_new;
  int m_requests = 0;
};

}  // namespace scalectl::test
