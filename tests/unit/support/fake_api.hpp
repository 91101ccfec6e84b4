#pragma once
// An in-memory DigitalOcean API for unit tests of the droplet ops: one droplet whose actions run
// to completion on the first poll, with scripted 422 answers, failed actions and an interrupt,
// and raw GETs answered by a test's function.

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <scalectl/digitalocean/client.hpp>

namespace scalectl::test {

class FakeApi final : public digitalocean::Api {
 public:
  FakeApi()
  {
    droplet.id = 123;
    droplet.name = "batch";
    droplet.status = "active";
    droplet.size_slug = "s-2vcpu-4gb";
    droplet.memory_mb = 4096;
    droplet.disk_gb = 80;
    sizes = {size("s-2vcpu-4gb", 4096, 80), size("s-8vcpu-16gb", 16384, 320)};
  }

  digitalocean::Droplet droplet;
  std::vector<digitalocean::Size> sizes;
  // Answers for the next submissions of an action type: 0 = accept, else the HTTP status of an
  // ApiError (422 = unprocessable_entity, 5xx = server_error) carrying answer_message.
  std::map<std::string, std::deque<int>> answers;
  std::string answer_message = "Droplet already has a pending event.";
  // Action types that end "errored" instead of "completed".
  std::vector<std::string> failing_types;
  // Called before every get_action (e.g. to raise an interrupt mid-wait).
  std::function<void(const digitalocean::Action&)> on_poll;
  // Every action type submitted, in order.
  std::vector<std::string> submitted;
  // Answers request_json (the droplet view's GET /v2/droplets/{id}) when set.
  std::function<nlohmann::json(std::string_view method, const std::string& path)> on_request_json;

  digitalocean::Droplet get_droplet(std::int64_t) override
  {
    ++m_requests;
    return droplet;
  }
  std::vector<digitalocean::Droplet> find_droplets_by_name(const std::string& name) override
  {
    ++m_requests;
    return name == droplet.name ? std::vector<digitalocean::Droplet>{droplet} : std::vector<digitalocean::Droplet>{};
  }
  digitalocean::Action droplet_action(std::int64_t, std::string_view type) override
  {
    return submit(std::string(type), "");
  }
  digitalocean::Action resize(std::int64_t, const std::string& size_slug, bool) override
  {
    return submit("resize", size_slug);
  }
  digitalocean::Action get_action(std::int64_t action_id) override
  {
    ++m_requests;
    auto& action = m_actions.at(action_id);
    if (on_poll) {
      on_poll(action);
    }
    if (action.status == "in-progress") {
      finish(action);
    }
    return action;
  }
  std::vector<digitalocean::Action> droplet_actions(std::int64_t) override
  {
    ++m_requests;
    std::vector<digitalocean::Action> out;
    for (const auto& [id, a] : m_actions) {
      out.insert(out.begin(), a);
    }
    return out;
  }
  std::vector<digitalocean::Size> list_sizes() override
  {
    ++m_requests;
    return sizes;
  }
  nlohmann::json request_json(std::string_view method, const std::string& path, const nlohmann::json*) override
  {
    ++m_requests;
    if (!on_request_json) {
      throw std::logic_error("unused");
    }
    return on_request_json(method, path);
  }
  std::string request_text(std::string_view, const std::string&, const std::string*) override
  {
    throw std::logic_error("unused");
  }
  int request_count() const override { return m_requests; }

 private:
  static digitalocean::Size size(const char* slug, std::int64_t memory_mb, std::int64_t disk_gb)
  {
    digitalocean::Size s;
    s.slug = slug;
    s.memory_mb = memory_mb;
    s.disk_gb = disk_gb;
    return s;
  }

  digitalocean::Action submit(const std::string& type, const std::string& size_slug)
  {
    ++m_requests;
    auto& queue = answers[type];
    const int answer = queue.empty() ? 0 : queue.front();
    if (!queue.empty()) {
      queue.pop_front();
    }
    if (answer != 0) {
      const std::string id = answer == 422 ? "unprocessable_entity" : "server_error";
      throw digitalocean::ApiError(answer, id, answer_message, "req-1",
                                   "DigitalOcean API POST answered " + std::to_string(answer) + " " + id + ": " +
                                     answer_message);
    }
    submitted.push_back(type);
    digitalocean::Action a;
    a.id = m_next_id++;
    a.type = type;
    a.status = "in-progress";
    a.resource_id = droplet.id;
    m_targets[a.id] = size_slug;
    m_actions[a.id] = a;
    droplet.locked = true;
    return a;
  }

  void finish(digitalocean::Action& action)
  {
    droplet.locked = false;
    if (std::find(failing_types.begin(), failing_types.end(), action.type) != failing_types.end()) {
      action.status = "errored";
      return;
    }
    action.status = "completed";
    if (action.type == "shutdown" || action.type == "power_off") {
      droplet.status = "off";
    } else if (action.type == "power_on") {
      droplet.status = "active";
    } else if (action.type == "resize") {
      droplet.size_slug = m_targets[action.id];
      for (const auto& s : sizes) {
        if (s.slug == droplet.size_slug) {
          droplet.memory_mb = s.memory_mb;
        }
      }
    }
  }

  std::map<std::int64_t, digitalocean::Action> m_actions;
  std::map<std::int64_t, std::string> m_targets;
  std::int64_t m_next_id = 1000;
  int m_requests = 0;
};

}  // namespace scalectl::test
