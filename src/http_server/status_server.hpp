#pragma once
// The HTTP endpoint of `autoscale run` (GET /status, POST /trigger, GET /metrics, GET /healthz).
// The routes, the token check and the answers live here, in the executable; the HTTP server is
// the scalectl-http.so module (module_abi.hpp), loaded only when --listen is given.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "http_server/module_abi.hpp"

namespace scalectl::http_server {

// A parsed --listen ADDR:PORT.
struct ListenAddress {
  std::string host;  // "127.0.0.1", "::1", "0.0.0.0", "localhost", ...
  int port = 0;
  bool loopback = false;  // 127.0.0.0/8, ::1 or localhost
};

// Parses "IPV4:PORT", "[IPV6]:PORT" or "localhost:PORT" (port 1-65535).
// Throws Error(usage) naming --listen otherwise. Resolves nothing.
ListenAddress parse_listen(const std::string& text);

// The largest token file read.
inline constexpr std::size_t k_max_token_file_bytes = 4096;

// Reads the bearer token from `path`: a regular file, at most k_max_token_file_bytes, not
// readable by group or others, one non-empty line of printable characters. Throws Error(usage)
// saying what is wrong and how to fix it (never printing the token).
std::string read_token_file(const std::filesystem::path& path);

// Returns true when `given` equals `expected`, in time independent of where they differ: both
// are reduced to fixed-length digests and every byte is compared.
bool token_matches(std::string_view given, std::string_view expected);

// What the endpoints answer with; each may be called from a server thread and may throw.
struct StatusHandlers {
  std::function<nlohmann::json()> status;
  std::function<nlohmann::json(const std::string& policy)> trigger;
  std::function<std::string()> metrics;
  std::function<bool()> healthy;
  // Logs one request line (method, path, status); never given headers or bodies.
  std::function<void(const std::string& method, const std::string& path, int status)> log;
};

// Returns the answer to `request`: the four routes, 401/403 for /trigger without the right
// bearer token (`token` "" = /trigger disabled), 409 when the trigger's result says "busy",
// 404 and 405 otherwise. An exception of a handler
// becomes a 400 (usage) or 500 JSON answer; never throws.
HttpReply route(const HttpRequest& request, const StatusHandlers& handlers, std::string_view token);

class StatusServer {
 public:
  // A server on `address`; `token` ("" = none) is required by POST /trigger.
  StatusServer(ListenAddress address, std::string token, StatusHandlers handlers, ServerLimits limits = {});
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // Loads the HTTP module, binds and starts serving on a background thread. Throws
  // Error(failure) when the module cannot be loaded or the address cannot be bound.
  void start();
  // Stops accepting, waits for running requests, joins the threads. Idempotent.
  void stop();

 private:
  ListenAddress m_address;
  std::string m_token;
  StatusHandlers m_handlers;
  ServerLimits m_limits;
  std::unique_ptr<ModuleServer> m_server;
};

}  // namespace scalectl::http_server
