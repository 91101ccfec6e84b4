#pragma once
// DigitalOcean API v2: the Api interface the ops use, and its HTTP client over an injected net::Transport. Error bodies
// ({"id","message","request_id"}) become ApiError with an actionable message.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include <scalectl/core/droplet.hpp>
#include <scalectl/error.hpp>

namespace scalectl::net {
class Transport;
}

namespace scalectl::digitalocean {

// The value types live in core; these names keep the adapter's spelling.
using Size = core::Size;
using Droplet = core::Droplet;
using Action = core::Action;

// What kind of refusal an API error is, from its HTTP status and the body's `id` only.
enum class ApiErrorKind {
  unauthorized,   // 401 / "unauthorized": the token is wrong or revoked
  forbidden,      // 403 / "forbidden"
  not_found,      // 404 / "not_found"
  rate_limited,   // 429 / "too_many_requests"
  unprocessable,  // 422 / "unprocessable_entity": the API refused this request in the resource's current state
  server,         // 5xx
  other,
};

// Returns the kind of an API error answer with HTTP `status` and body id `id`.
ApiErrorKind classify_api_error(long status, std::string_view id);

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
  // Returns the error's kind, from status and id (never from the message text).
  ApiErrorKind kind() const noexcept { return classify_api_error(m_status, m_id); }

 private:
  long m_status;
  std::string m_id;
  std::string m_api_message;
  std::string m_request_id;
};

// The DigitalOcean API as the ops use it. The HTTP client implements it; unit tests use a fake.
class Api {
 public:
  virtual ~Api() = default;

  // Returns the droplet; throws ApiError (404 names the id) on failure.
  virtual Droplet get_droplet(std::int64_t id) = 0;
  // Returns the droplets named exactly `name` (GET /v2/droplets?name=).
  virtual std::vector<Droplet> find_droplets_by_name(const std::string& name) = 0;
  // Submits a droplet action (shutdown, power_off, power_on) and returns it.
  virtual Action droplet_action(std::int64_t droplet_id, std::string_view type) = 0;
  // Submits a resize to `size_slug`; `disk` true makes it permanent (disk grows).
  virtual Action resize(std::int64_t droplet_id, const std::string& size_slug, bool disk) = 0;
  // Returns the action by id.
  virtual Action get_action(std::int64_t action_id) = 0;
  // Returns the droplet's most recent actions (first page, newest first).
  virtual std::vector<Action> droplet_actions(std::int64_t droplet_id) = 0;
  // Returns every size, following links.pages.next to the end.
  virtual std::vector<Size> list_sizes() = 0;
  // Sends a request with a JSON body (or none) and returns the parsed JSON response; throws
  // ApiError for non-2xx answers. `path` starts with /v2/.
  virtual nlohmann::json request_json(std::string_view method, const std::string& path,
                                      const nlohmann::json* body = nullptr) = 0;
  // Sends a request with a JSON body given as text (or none) and returns the response body as
  // received; throws ApiError for non-2xx answers. For JSON that must not be reordered (app specs).
  virtual std::string request_text(std::string_view method, const std::string& path,
                                   const std::string* body = nullptr) = 0;
  // Returns how many requests this API has sent.
  virtual int request_count() const = 0;
};

// Returns the in-progress action of `droplet_id` (the newest one), or nullopt when none runs.
std::optional<Action> in_progress_action(Api& api, std::int64_t droplet_id);

struct ClientOptions {
  std::string base_url = "https://api.digitalocean.com";
  std::string token;
  std::string token_source;  // where the token came from, for the 401 message
};

// The API over HTTP: an injected net::Transport, the token, and error bodies turned into ApiError.
class Client final : public Api {
 public:
  Client(net::Transport& transport, ClientOptions options);

  Droplet get_droplet(std::int64_t id) override;
  std::vector<Droplet> find_droplets_by_name(const std::string& name) override;
  Action droplet_action(std::int64_t droplet_id, std::string_view type) override;
  Action resize(std::int64_t droplet_id, const std::string& size_slug, bool disk) override;
  Action get_action(std::int64_t action_id) override;
  std::vector<Action> droplet_actions(std::int64_t droplet_id) override;
  std::vector<Size> list_sizes() override;
  nlohmann::json request_json(std::string_view method, const std::string& path,
                              const nlohmann::json* body = nullptr) override;
  std::string request_text(std::string_view method, const std::string& path,
                           const std::string* body = nullptr) override;
  int request_count() const override { return m_requests; }

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
