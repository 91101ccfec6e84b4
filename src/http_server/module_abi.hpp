#pragma once
// The boundary between scalectl and its HTTP module (scalectl-http.so, built from
// src/http_module/ against Debian's cpp-httplib). The executable never links cpp-httplib: `autoscale
// run --listen` dlopen()s the module and calls the one factory below. Only standard-library types
// cross the boundary, and nothing thrown crosses it: the module reports a failure as text, and the
// request handler the executable hands over never throws.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace scalectl::http_server {

// Bumped whenever anything in this header changes; the executable refuses a module with another.
inline constexpr int k_module_abi_version = 1;
// The module's file name, beside the executable in a build tree and in lib/scalectl/ when installed.
inline constexpr const char* k_module_file_name = "scalectl-http.so";
// The symbols the module exports (extern "C", so their names are not mangled).
inline constexpr const char* k_module_abi_symbol = "scalectl_http_module_abi";
inline constexpr const char* k_module_create_symbol = "scalectl_http_module_create";

// One request as the handler sees it: no body and no other header reaches scalectl.
struct HttpRequest {
  std::string method;         // "GET", "POST", ...
  std::string path;           // without the query string
  std::string authorization;  // the Authorization header, "" when absent
  std::string policy;         // the `policy` query parameter, "" when absent
};

// What the handler answers.
struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string www_authenticate;  // sent as WWW-Authenticate when not empty
};

// Bounds of the server.
struct ServerLimits {
  std::size_t max_payload_bytes = 4096;  // a larger request body gets 413
  std::size_t threads = 4;               // requests handled at once
  std::size_t max_pending = 16;          // accepted connections waiting for a thread
  std::chrono::seconds read_timeout{5};
  std::chrono::seconds write_timeout{5};
  std::size_t keep_alive_max = 5;  // requests per connection
};

// What the module serves, and where.
struct ServerSpec {
  std::string host;  // an IP address or "localhost"
  int port = 0;
  ServerLimits limits;
  // Answers every request; called from server threads, never throws.
  std::function<HttpReply(const HttpRequest&)> handle;
  // Logs one request line (method, path, status); never given headers or bodies. Never throws.
  std::function<void(const std::string& method, const std::string& path, int status)> log;
};

// A running server inside the module.
class ModuleServer {
 public:
  virtual ~ModuleServer() = default;
  // Binds and starts serving on a background thread; returns "" on success, else why it could
  // not bind.
  virtual std::string start() = 0;
  // Stops accepting, waits for running requests and joins the threads. Idempotent.
  virtual void stop() noexcept = 0;
};

// The module's exported functions.
using ModuleAbiFn = int (*)();
using ModuleCreateFn = ModuleServer* (*)(const ServerSpec& spec);

}  // namespace scalectl::http_server
