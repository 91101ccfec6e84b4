#pragma once
// DigitalOcean API v2 client over an injected net::Transport. Error bodies
// ({"id","message","request_id"}) become ApiError with an actionable message.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include <scalectl/error.hpp>

namespace scalectl::net {
class Transport;
}

namespace scalectl::digitalocean {

struct Size {
  std::string slug;
  std::int64_t memory_mb = 0;
  int vcpus = 0;
  std::int64_t disk_gb = 0;
  double price_monthly = 0;
  double price_hourly = 0;
  bool available = true;
  std::string description;
};

struct Droplet {
  std::int64_t id = 0;
  std::string name;
  std::string status;  // new, active, off, archive
  bool locked = false;
  std::string size_slug;
  std::int64_t memory_mb = 0;
  int vcpus = 0;
  std::int64_t disk_gb = 0;
  double price_monthly = 0;
  double price_hourly = 0;
  std::string region;
};

struct Action {
  std::int64_t id = 0;
  std::string status;  // in-progress, completed, errored
  std::string type;
  std::string started_at;
  std::string completed_at;  // "" while running
  std::int64_t resource_id = 0;
};

// An HTTP error answer from the API.
class ApiError : public Error {
 public:
  ApiError(long status, std::string id, std::string api_message, std::string request_id, const std::string& message)
      : Error(ExitCode::failure, message), m_status(status), m_id(std::move(id)), m_api_message(std::move(api_message)),
        m_request_id(std::move(request_id))
  {
  }
  long status() const noexcept { return m_status; }
  const std::string& id() const noexcept { return m_id; }
  const std::string& api_message() const noexcept { return m_api_message; }
  const std::string& request_id() const noexcept { return m_request_id; }

 private:
  long m_status;
  std::string m_id;
  std::string m_api_message;
  std::string m_request_id;
};

struct ClientOptions {
  std::string base_url = "https://api.digitalocean.com";
  std::string token;
  std::string token_source;  // where the token came from, for the 401 message
};

class Client {
 public:
  Client(net::Transport& transport, ClientOptions options);

  // Returns the droplet; throws ApiError (404 names the id) on failure.
  Droplet get_droplet(std::int64_t id);
  // Returns the droplets named exactly `name` (GET /v2/droplets?name=).
  std::vector<Droplet> find_droplets_by_name(const std::string& name);
  // Submits a droplet action (shutdown, power_off, power_on) and returns it.
  Action droplet_action(std::int64_t droplet_id, std::string_view type);
  // Submits a resize to `size_slug`; `disk` true makes it permanent (disk grows).
  Action resize(std::int64_t droplet_id, const std::string& size_slug, bool disk);
  // Returns the action by id.
  Action get_action(std::int64_t action_id);
  // Returns the droplet's most recent actions (first page, newest first).
  std::vector<Action> droplet_actions(std::int64_t droplet_id);
  // Returns every size, following links.pages.next to the end.
  std::vector<Size> list_sizes();

  // Sends a request with a JSON body (or none) and returns the parsed JSON response; throws
  // ApiError for non-2xx answers. `path` starts with /v2/ and is sent to the configured base URL.
  nlohmann::json request_json(std::string_view method, const std::string& path, const nlohmann::json* body = nullptr);
  // Sends a request with a JSON body given as text (or none) and returns the response body as
  // received; throws ApiError for non-2xx answers. For JSON that must not be reordered (app specs).
  std::string request_text(std::string_view method, const std::string& path, const std::string* body = nullptr);

  // Returns how many HTTP requests this client has sent.
  int request_count() const { return m_requests; }

 private:
  net::Transport& m_transport;
  ClientOptions m_options;
  int m_requests = 0;
};

// Returns the path and query of links.pages.next in a list response, or "" on the last page. The
// host of the link is ignored on purpose: the token is only ever sent to the configured base URL.
std::string next_page_path(const nlohmann::json& body);

// Parses the JSON objects the API returns (exposed for unit tests).
Droplet parse_droplet(const nlohmann::json& j);
Action parse_action(const nlohmann::json& j);
Size parse_size(const nlohmann::json& j);

}  // namespace scalectl::digitalocean
