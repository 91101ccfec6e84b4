#include <doctest/doctest.h>

#include <scalectl/error.hpp>

#include "http_server/module_loader.hpp"
#include "http_server/status_server.hpp"
#include "scratch_dir.hpp"

using namespace scalectl;
using namespace scalectl::http_server;
using scalectl::test::ScratchDir;

namespace {

ExitCode code_of(const std::function<void()>& f)
{
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return ExitCode::ok;
}

}  // namespace

TEST_CASE("parse_listen: addresses, ports and loopback")
{
  struct Row {
    const char* text;
    const char* host;
    int port;
    bool loopback;
  };
  const Row rows[] = {
    {"127.0.0.1:9464", "127.0.0.1", 9464, true}, {"127.0.0.2:1", "127.0.0.2", 1, true},
    {"localhost:80", "localhost", 80, true},      {"[::1]:9464", "::1", 9464, true},
    {"0.0.0.0:9464", "0.0.0.0", 9464, false},     {"[::]:65535", "::", 65535, false},
    {"192.0.2.1:8080", "192.0.2.1", 8080, false}, {"[::ffff:127.0.0.1]:80", "::ffff:127.0.0.1", 80, false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.text);
    const ListenAddress a = parse_listen(row.text);
    CHECK(a.host == row.host);
    CHECK(a.port == row.port);
    CHECK(a.loopback == row.loopback);
  }
  for (const char* bad : {"9464", ":9464", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1",
                          "127.0.0.1:80x", "::1:9464", "host name:80", "a/b:80", "1127.0.0.1:80",
                          // a name could resolve to any address, so only "localhost" is taken
                          "127.attacker.example:80", "example.com:80"}) {
    CAPTURE(bad);
    CHECK(code_of([&] { (void)parse_listen(bad); }) == ExitCode::usage);
  }
}

TEST_CASE("token_matches: equal tokens only")
{
  CHECK(token_matches("s3cret", "s3cret"));
  CHECK_FALSE(token_matches("s3cre", "s3cret"));
  CHECK_FALSE(token_matches("s3cret!", "s3cret"));
  CHECK_FALSE(token_matches("S3cret", "s3cret"));
  CHECK_FALSE(token_matches("", "s3cret"));
  CHECK_FALSE(token_matches("", ""));  // no token configured never matches
}

TEST_CASE("read_token_file: private regular small files holding one token")
{
  ScratchDir dir;
  CHECK(read_token_file(dir.write("ok", "tok-123\n", std::filesystem::perms(0600))) == "tok-123");
  CHECK(read_token_file(dir.write("ro", "tok-456", std::filesystem::perms(0400))) == "tok-456");
  CHECK(code_of([&] { (void)read_token_file(dir.write("open", "tok\n", std::filesystem::perms(0644))); }) ==
        ExitCode::usage);
  CHECK(code_of([&] { (void)read_token_file(dir.write("group", "tok\n", std::filesystem::perms(0640))); }) ==
        ExitCode::usage);
  CHECK(code_of([&] { (void)read_token_file(dir.write("empty", "\n", std::filesystem::perms(0600))); }) ==
        ExitCode::usage);
  CHECK(code_of([&] { (void)read_token_file(dir.write("two", "a b\n", std::filesystem::perms(0600))); }) ==
        ExitCode::usage);
  const std::string big(k_max_token_file_bytes + 1, 'x');
  CHECK(code_of([&] { (void)read_token_file(dir.write("big", big, std::filesystem::perms(0600))); }) ==
        ExitCode::usage);
  CHECK(code_of([&] { (void)read_token_file(dir.path() / "missing"); }) == ExitCode::usage);
  CHECK(code_of([&] { (void)read_token_file(dir.path()); }) == ExitCode::usage);
}

TEST_SUITE("http_server: routes of autoscale run --listen")
{
  struct Calls {
    int status = 0;
    int trigger = 0;
    std::string policy;
  };

  StatusHandlers handlers_for(Calls& calls)
  {
    StatusHandlers h;
    h.status = [&calls] {
      ++calls.status;
      return nlohmann::json{{"enabled", true}};
    };
    h.trigger = [&calls](const std::string& policy) {
      ++calls.trigger;
      calls.policy = policy;
      if (policy == "unknown") {
        throw usage_error("policy unknown is not run by this daemon");
      }
      if (policy == "busy") {
        return nlohmann::json{{"success", false}, {"busy", true}};
      }
      return nlohmann::json{{"success", policy != "failing"}};
    };
    h.metrics = [] { return std::string("scalectl_up 1\n"); };
    h.healthy = [] { return true; };
    return h;
  }

  HttpRequest request(const char* method, const char* path, const char* authorization = "", const char* policy = "")
  {
    return HttpRequest{method, path, authorization, policy};
  }

  TEST_CASE("route: each endpoint, method and token case")
  {
    Calls calls;
    const auto h = handlers_for(calls);
    struct Row {
      HttpRequest req;
      std::string_view token;
      int status;
      int triggers;  // calls.trigger after the row
    };
    const Row rows[] = {
      {request("GET", "/healthz"), "Zq7x", 200, 0},
      {request("GET", "/status"), "Zq7x", 200, 0},
      {request("GET", "/metrics"), "Zq7x", 200, 0},
      {request("POST", "/status"), "Zq7x", 405, 0},
      {request("GET", "/trigger"), "Zq7x", 405, 0},
      {request("GET", "/nope"), "Zq7x", 404, 0},
      {request("POST", "/trigger"), "", 403, 0},                      // no token file: disabled
      {request("POST", "/trigger", "Bearer Zq7x"), "", 403, 0},        // even with a header
      {request("POST", "/trigger"), "Zq7x", 401, 0},                   // no header
      {request("POST", "/trigger", "Zq7x"), "Zq7x", 401, 0},            // not a bearer header
      {request("POST", "/trigger", "Bearer Zq7"), "Zq7x", 401, 0},      // a prefix of it
      {request("POST", "/trigger", "Bearer Zq7x2"), "Zq7x", 401, 0},    // longer
      {request("POST", "/trigger", "bearer Zq7x"), "Zq7x", 401, 0},     // the scheme is case-exact here
      {request("POST", "/trigger", "Bearer Zq7x"), "Zq7x", 200, 1},
      {request("POST", "/trigger", "Bearer Zq7x", "failing"), "Zq7x", 500, 2},
      {request("POST", "/trigger", "Bearer Zq7x", "unknown"), "Zq7x", 400, 3},
      {request("POST", "/trigger", "Bearer Zq7x", "busy"), "Zq7x", 409, 4},
    };
    for (const auto& row : rows) {
      CAPTURE(row.req.method);
      CAPTURE(row.req.path);
      CAPTURE(row.req.authorization);
      const HttpReply reply = route(row.req, h, row.token);
      CHECK(reply.status == row.status);
      CHECK(calls.trigger == row.triggers);
      CHECK(reply.body.find("Zq7") == std::string::npos);  // no answer repeats the token
      CHECK(reply.www_authenticate == (row.status == 401 ? "Bearer" : ""));
    }
    CHECK(calls.policy == "busy");  // the policy parameter reaches the handler
    CHECK(route(request("GET", "/metrics"), h, "").content_type.starts_with("text/plain; version=0.0.4"));
  }

  TEST_CASE("route: a throwing handler is a 500 answer, never an exception")
  {
    StatusHandlers h;
    h.status = []() -> nlohmann::json { throw std::runtime_error("store unreadable"); };
    h.healthy = []() -> bool { throw 42; };
    const HttpReply status = route(request("GET", "/status"), h, "");
    CHECK(status.status == 500);
    CHECK(status.body.find("store unreadable") != std::string::npos);
    CHECK(route(request("GET", "/healthz"), h, "").status == 500);
  }

  TEST_CASE("module_candidates: the override alone, else beside the executable, then lib/scalectl")
  {
    CHECK(module_candidates("/opt/x/bin", std::string("/tmp/m.so")) ==
          std::vector<std::filesystem::path>{"/tmp/m.so"});
    CHECK(module_candidates("/usr/bin", std::nullopt) ==
          std::vector<std::filesystem::path>{"/usr/bin/scalectl-http.so", "/usr/lib/scalectl/scalectl-http.so"});
    CHECK(module_candidates("/work/build", std::nullopt).front() == "/work/build/scalectl-http.so");
    CHECK(module_candidates("", std::nullopt).empty());
  }
}
