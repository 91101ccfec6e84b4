// The routes of `autoscale run --listen`; the HTTP server itself is the scalectl-http.so module.

#include "http_server/status_server.hpp"

#include <exception>
#include <utility>

#include <fmt/format.h>

#include <scalectl/error.hpp>

#include "http_server/module_loader.hpp"

namespace scalectl::http_server {

namespace {

using nlohmann::json;

constexpr std::size_t k_max_policy_param = 200;

HttpReply json_reply(int status, const json& body)
{
  HttpReply reply;
  reply.status = status;
  reply.content_type = "application/json";
  reply.body = body.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  return reply;
}

HttpReply error_reply(int status, const std::string& message)
{
  return json_reply(status, json{{"success", false}, {"error", message}});
}

std::string bearer(std::string_view header)
{
  constexpr std::string_view prefix = "Bearer ";
  if (header.size() <= prefix.size() || header.substr(0, prefix.size()) != prefix) {
    return {};
  }
  return std::string(header.substr(prefix.size()));
}

HttpReply trigger(const HttpRequest& request, const StatusHandlers& handlers, std::string_view token)
{
  if (token.empty()) {
    return error_reply(403, "POST /trigger is disabled: start `autoscale run` with --token-file");
  }
  if (!token_matches(bearer(request.authorization), token)) {
    HttpReply reply = error_reply(401, "missing or wrong bearer token");
    reply.www_authenticate = "Bearer";
    return reply;
  }
  if (request.policy.size() > k_max_policy_param) {
    return error_reply(400, "policy name too long");
  }
  const json result = handlers.trigger(request.policy);
  if (result.value("busy", false)) {
    return json_reply(409, result);  // another apply of the daemon runs: try again later
  }
  return json_reply(result.value("success", false) ? 200 : 500, result);
}

HttpReply dispatch(const HttpRequest& request, const StatusHandlers& handlers, std::string_view token)
{
  const bool get = request.method == "GET";
  if (request.path == "/healthz" && get) {
    const bool ok = handlers.healthy();
    return HttpReply{ok ? 200 : 503, "text/plain", ok ? "ok\n" : "stopping\n", ""};
  }
  if (request.path == "/status" && get) {
    return json_reply(200, handlers.status());
  }
  if (request.path == "/metrics" && get) {
    return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", handlers.metrics(), ""};
  }
  if (request.path == "/trigger" && request.method == "POST") {
    return trigger(request, handlers, token);
  }
  const bool known = request.path == "/healthz" || request.path == "/status" || request.path == "/metrics" ||
                     request.path == "/trigger";
  if (known) {
    return error_reply(405, fmt::format("{} does not take {}", request.path, request.method.substr(0, 16)));
  }
  return error_reply(404, "no such endpoint; use GET /status, /metrics, /healthz or POST /trigger");
}

}  // namespace

HttpReply route(const HttpRequest& request, const StatusHandlers& handlers, std::string_view token)
{
  try {
    return dispatch(request, handlers, token);
  } catch (const Error& e) {
    return error_reply(e.code() == ExitCode::usage ? 400 : 500, e.what());
  } catch (const std::exception& e) {
    return error_reply(500, e.what());
  } catch (...) {
    return error_reply(500, "internal error");
  }
}

StatusServer::StatusServer(ListenAddress address, std::string token, StatusHandlers handlers, ServerLimits limits)
    : m_address(std::move(address)), m_token(std::move(token)), m_handlers(std::move(handlers)), m_limits(limits)
{
}

StatusServer::~StatusServer()
{
  stop();
}

void StatusServer::start()
{
  const ModuleCreateFn create = http_module();
  ServerSpec spec;
  spec.host = m_address.host;
  spec.port = m_address.port;
  spec.limits = m_limits;
  spec.handle = [this](const HttpRequest& request) { return route(request, m_handlers, m_token); };
  spec.log = [this](const std::string& method, const std::string& path, int status) noexcept {
    try {
      if (m_handlers.log) {
        m_handlers.log(method, path, status);
      }
    } catch (...) {
      // A log line that cannot be written must not take the server thread down.
    }
  };
  std::unique_ptr<ModuleServer> server(create(spec));
  if (!server) {
    throw Error(ExitCode::failure, "the HTTP module could not create a server; reinstall scalectl");
  }
  const std::string failure = server->start();
  if (!failure.empty()) {
    throw Error(ExitCode::failure, fmt::format("cannot listen on {}:{} ({}); choose another --listen",
                                               m_address.host, m_address.port, failure));
  }
  m_server = std::move(server);
}

void StatusServer::stop()
{
  if (m_server) {
    m_server->stop();
    m_server.reset();
  }
}

}  // namespace scalectl::http_server
