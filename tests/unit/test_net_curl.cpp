#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>

#include <scalectl/interrupt.hpp>
#include <scalectl/net/http.hpp>

#include "net/curl_loader.hpp"
#include "net/curl_transport.hpp"

extern char** environ;

using namespace std::chrono_literals;
using scalectl::ExitCode;
using scalectl::net::Header;
using scalectl::net::Request;
using scalectl::net::Response;
using scalectl::net::TransportError;
using scalectl::net::TransportOptions;
using Kind = scalectl::net::TransportError::Kind;

namespace {

// One request as the loopback server parsed it.
struct SeenRequest {
  std::string method;
  std::string target;
  std::vector<Header> headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const
  {
    Response view;
    view.headers = headers;
    return view.header(name);
  }
};

// What the server does with a request: send `raw` bytes (and maybe close), close without a reply,
// or never answer.
struct Reply {
  enum class Action { respond, respond_and_close, close, hang } action = Action::respond;
  std::string raw;
};

std::string http_response(int status, const std::string& reason, const std::vector<Header>& headers,
                          const std::string& body)
{
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  for (const auto& header : headers) {
    out += header.name + ": " + header.value + "\r\n";
  }
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return out;
}

// A minimal HTTP/1.1 server on 127.0.0.1 with keep-alive, run by one thread with a 50 ms poll
// loop; it counts accepted connections and records every request.
class LoopbackServer {
 public:
  using Handler = std::function<Reply(const SeenRequest&)>;

  explicit LoopbackServer(Handler handler) : m_handler(std::move(handler))
  {
    m_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_listen < 0) {
      throw std::runtime_error("socket() failed");
    }
    const int one = 1;
    ::setsockopt(m_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(m_listen, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(m_listen, 16) != 0 ||
        ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(m_listen);
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    m_port = ntohs(address.sin_port);
    m_thread = std::thread([this] { run(); });
  }

  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  ~LoopbackServer()
  {
    m_stop = true;
    m_thread.join();
    ::close(m_listen);
  }

  std::string url(const std::string& target) const { return "http://127.0.0.1:" + std::to_string(m_port) + target; }
  int port() const { return m_port; }
  int connections() const { return m_connections; }

  std::vector<SeenRequest> requests() const
  {
    const std::lock_guard lock(m_mutex);
    return m_requests;
  }

 private:
  struct Connection {
    int fd = -1;
    std::string input;
    bool hung = false;
  };

  void run()
  {
    std::vector<Connection> connections;
    while (!m_stop) {
      std::vector<pollfd> fds{{m_listen, POLLIN, 0}};
      for (const auto& connection : connections) {
        fds.push_back({connection.fd, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 50) <= 0) {
        continue;
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
          serve(connections[i - 1]);
        }
      }
      std::erase_if(connections, [](const Connection& c) { return c.fd < 0; });
      if ((fds[0].revents & POLLIN) != 0) {
        const int fd = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          ++m_connections;
          connections.push_back({fd, {}, false});
        }
      }
    }
    for (auto& connection : connections) {
      ::close(connection.fd);
    }
  }

  static void close_connection(Connection& connection)
  {
    ::close(connection.fd);
    connection.fd = -1;
  }

  static void send_all(int fd, std::string_view data)
  {
    while (!data.empty()) {
      const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (sent <= 0) {
        return;
      }
      data.remove_prefix(static_cast<std::size_t>(sent));
    }
  }

  void serve(Connection& connection)
  {
    char buffer[16384];
    const ssize_t got = ::recv(connection.fd, buffer, sizeof buffer, 0);
    if (got <= 0) {
      close_connection(connection);
      return;
    }
    if (connection.hung) {
      return;
    }
    connection.input.append(buffer, static_cast<std::size_t>(got));
    if (std::isupper(static_cast<unsigned char>(connection.input.front())) == 0) {
      // Not HTTP (a TLS ClientHello, say): answer like a plain HTTP server would.
      send_all(connection.fd, http_response(400, "Bad Request", {{"Connection", "close"}}, ""));
      close_connection(connection);
      return;
    }
    while (auto request = take_request(connection.input)) {
      {
        const std::lock_guard lock(m_mutex);
        m_requests.push_back(*request);
      }
      const Reply reply = m_handler(*request);
      if (reply.action == Reply::Action::close) {
        close_connection(connection);
        return;
      }
      if (reply.action == Reply::Action::hang) {
        connection.hung = true;
        return;
      }
      send_all(connection.fd, reply.raw);
      if (reply.action == Reply::Action::respond_and_close) {
        close_connection(connection);
        return;
      }
    }
  }

  static std::optional<SeenRequest> take_request(std::string& input)
  {
    const std::size_t head_end = input.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      return std::nullopt;
    }
    SeenRequest request;
    std::istringstream head(input.substr(0, head_end));
    std::string line;
    std::getline(head, line);
    std::istringstream request_line(line);
    request_line >> request.method >> request.target;
    std::size_t content_length = 0;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) {
        continue;
      }
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      request.headers.push_back({line.substr(0, colon), value});
    }
    if (const auto length = request.header("content-length")) {
      content_length = std::stoul(*length);
    }
    if (input.size() < head_end + 4 + content_length) {
      return std::nullopt;
    }
    request.body = input.substr(head_end + 4, content_length);
    input.erase(0, head_end + 4 + content_length);
    return request;
  }

  Handler m_handler;
  int m_listen = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  mutable std::mutex m_mutex;
  std::vector<SeenRequest> m_requests;
  std::thread m_thread;
};

Reply ok_json(std::vector<Header> headers = {}, std::string body = R"({"ok":true})")
{
  headers.push_back({"Content-Type", "application/json"});
  return Reply{Reply::Action::respond, http_response(200, "OK", headers, body)};
}

TransportOptions quick_options()
{
  TransportOptions options;
  options.connect_timeout = 5000ms;
  options.total_timeout = 10'000ms;
  return options;
}

Request get(const std::string& url)
{
  Request request;
  request.method = "GET";
  request.url = url;
  return request;
}

template <typename Fn>
TransportError expect_transport_error(Fn&& fn)
{
  try {
    fn();
  } catch (const TransportError& error) {
    return error;
  }
  FAIL("expected a TransportError");
  return TransportError(Kind::other, "unreachable");
}

// Returns a loopback port with nothing listening on it.
int closed_port()
{
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool libcurl_mapped()
{
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("/libcurl") != std::string::npos) {
      return true;
    }
  }
  return false;
}

constexpr const char* k_child_env = "SCALECTL_NET_TEST_CHILD";

// Runs this test binary again with only `test_case` selected and SCALECTL_NET_TEST_CHILD set, so
// the case starts in a fresh process; returns its exit status (bounded to 60 s).
int run_in_fresh_process(const std::string& test_case)
{
  std::string filter = "--test-case=" + test_case;
  std::string exe = "/proc/self/exe";
  std::vector<char*> argv{exe.data(), filter.data(), const_cast<char*>("--no-version"),
                            const_cast<char*>("--minimal"), nullptr};
  std::vector<std::string> env_storage{std::string(k_child_env) + "=1"};
  for (char** entry = environ; *entry != nullptr; ++entry) {
    env_storage.emplace_back(*entry);
  }
  std::vector<char*> envp;
  for (auto& entry : env_storage) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), envp.data()) == 0);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL("child test process did not finish within 60 s");
    }
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

bool in_child()
{
  return std::getenv(k_child_env) != nullptr;
}

}  // namespace

TEST_SUITE("net.curl")
{
  TEST_CASE("libcurl is loaded by the first send and not before")
  {
    if (!in_child()) {
      CHECK(run_in_fresh_process("libcurl is loaded by the first send and not before") == 0);
      return;
    }
    CHECK_FALSE(libcurl_mapped());
    LoopbackServer server([](const SeenRequest&) { return ok_json(); });
    auto transport = scalectl::net::make_curl_transport(quick_options());
    CHECK_FALSE(libcurl_mapped());
    CHECK(transport->send(get(server.url("/v2/account"))).status == 200);
    CHECK(libcurl_mapped());
  }

  TEST_CASE("SIGINT during a transfer ends it with Interrupted")
  {
    if (!in_child()) {
      CHECK(run_in_fresh_process("SIGINT during a transfer ends it with Interrupted") == 0);
      return;
    }
    scalectl::install_interrupt_handlers();
    LoopbackServer server([](const SeenRequest&) { return Reply{Reply::Action::hang, {}}; });
    auto options = quick_options();
    options.total_timeout = 30'000ms;
    auto transport = scalectl::net::make_curl_transport(options);
    std::thread signaller([] {
      std::this_thread::sleep_for(300ms);
      ::kill(::getpid(), SIGINT);
    });
    bool got_interrupted = false;
    try {
      transport->send(get(server.url("/v2/actions/1")));
    } catch (const TransportError& error) {
      FAIL("got a TransportError instead: " << error.what());
    } catch (const scalectl::Interrupted& interruption) {
      got_interrupted = true;
      CHECK(std::string(interruption.what()).find("interrupted (SIGINT) while sending GET /v2/actions/1") == 0);
    }
    signaller.join();
    CHECK(got_interrupted);
  }

  TEST_CASE("GET round trip: status, body, case-insensitive headers, User-Agent")
  {
    LoopbackServer server([](const SeenRequest&) {
      return ok_json({{"RateLimit-Limit", "5000"}, {"RateLimit-Remaining", "4999"}, {"X-Request-Id", "abc"}});
    });
    auto transport = scalectl::net::make_curl_transport(quick_options());
    Request request = get(server.url("/v2/droplets?page=2&per_page=200"));
    request.headers = {{"Authorization", "Bearer dop_v1_tok"}, {"Accept", "application/json"}};
    const Response response = transport->send(request);
    CHECK(response.status == 200);
    CHECK(response.body == R"({"ok":true})");
    CHECK(response.header("content-type") == "application/json");
    CHECK(response.header("ratelimit-remaining") == "4999");
    CHECK(response.header("RATELIMIT-LIMIT") == "5000");
    CHECK(response.header("x-request-id") == "abc");
    CHECK_FALSE(response.header("retry-after").has_value());

    const auto seen = server.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].method == "GET");
    CHECK(seen[0].target == "/v2/droplets?page=2&per_page=200");
    CHECK(seen[0].header("user-agent") == "scalectl/" SCALECTL_VERSION);
    CHECK(seen[0].header("authorization") == "Bearer dop_v1_tok");
    CHECK(seen[0].header("accept") == "application/json");
    CHECK(seen[0].body.empty());
  }

  TEST_CASE("a custom User-Agent replaces the default")
  {
    LoopbackServer server([](const SeenRequest&) { return ok_json(); });
    auto options = quick_options();
    options.user_agent = "scalectl-test/9";
    auto transport = scalectl::net::make_curl_transport(options);
    transport->send(get(server.url("/")));
    CHECK(server.requests().at(0).header("user-agent") == "scalectl-test/9");
  }

  TEST_CASE("POST, PUT, PATCH, DELETE and HEAD send their method, body and headers")
  {
    LoopbackServer server([](const SeenRequest& request) {
      if (request.method == "HEAD") {
        return Reply{Reply::Action::respond, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Head: yes\r\n\r\n"};
      }
      return Reply{Reply::Action::respond,
                   http_response(201, "Created", {{"X-Method", request.method}}, "echo:" + request.body)};
    });
    auto transport = scalectl::net::make_curl_transport(quick_options());
    const std::string big(5000, 'x');  // large enough that libcurl would otherwise send Expect: 100-continue
    for (const std::string method : {"POST", "PUT", "PATCH", "DELETE"}) {
      CAPTURE(method);
      Request request;
      request.method = method;
      request.url = server.url("/v2/droplets/1/actions");
      request.headers = {{"Content-Type", "application/json"}, {"X-Empty", ""}};
      request.body = method == "PATCH" ? big : R"({"type":"resize","size":"s-2vcpu-4gb"})";
      const Response response = transport->send(request);
      CHECK(response.status == 201);
      CHECK(response.header("x-method") == method);
      CHECK(response.body == "echo:" + request.body);
      const SeenRequest seen = server.requests().back();
      CHECK(seen.method == method);
      CHECK(seen.body == request.body);
      CHECK(seen.header("content-type") == "application/json");
      CHECK(seen.header("x-empty") == "");
      CHECK_FALSE(seen.header("expect").has_value());
    }
    Request empty_post;
    empty_post.method = "POST";
    empty_post.url = server.url("/v2/empty");
    CHECK(transport->send(empty_post).body == "echo:");
    CHECK(server.requests().back().header("content-length") == "0");

    Request head;
    head.method = "HEAD";
    head.url = server.url("/v2/account");
    const Response response = transport->send(head);
    CHECK(response.status == 200);
    CHECK(response.header("x-head") == "yes");
    CHECK(response.body.empty());
    CHECK(server.requests().back().method == "HEAD");
    CHECK(server.connections() == 1);
  }

  TEST_CASE("error statuses are responses, not exceptions")
  {
    LoopbackServer server([](const SeenRequest& request) {
      if (request.target == "/missing") {
        return Reply{Reply::Action::respond,
                     http_response(404, "Not Found", {}, R"({"id":"not_found","message":"gone"})")};
      }
      return Reply{Reply::Action::respond, http_response(503, "Service Unavailable", {{"Retry-After", "3"}}, "")};
    });
    auto transport = scalectl::net::make_curl_transport(quick_options());
    const Response missing = transport->send(get(server.url("/missing")));
    CHECK(missing.status == 404);
    CHECK(missing.body == R"({"id":"not_found","message":"gone"})");
    const Response busy = transport->send(get(server.url("/busy")));
    CHECK(busy.status == 503);
    CHECK(busy.header("Retry-After") == "3");
  }

  TEST_CASE("one connection is reused across requests")
  {
    LoopbackServer server([](const SeenRequest&) { return ok_json(); });
    auto transport = scalectl::net::make_curl_transport(quick_options());
    for (int i = 0; i < 3; ++i) {
      CHECK(transport->send(get(server.url("/v2/droplets/" + std::to_string(i)))).status == 200);
    }
    Request post;
    post.method = "POST";
    post.url = server.url("/v2/droplets/1/actions");
    post.body = "{}";
    CHECK(transport->send(post).status == 200);
    CHECK(server.requests().size() == 4);
    CHECK(server.connections() == 1);
  }

  TEST_CASE("redirects are returned, not followed")
  {
    LoopbackServer server([](const SeenRequest&) {
      return Reply{Reply::Action::respond, http_response(302, "Found", {{"Location", "/elsewhere"}}, "")};
    });
    auto transport = scalectl::net::make_curl_transport(quick_options());
    const Response response = transport->send(get(server.url("/v2/start")));
    CHECK(response.status == 302);
    CHECK(response.header("location") == "/elsewhere");
    CHECK(server.requests().size() == 1);
  }

  TEST_CASE("only the final header block is kept")
  {
    LoopbackServer server([](const SeenRequest&) {
      return Reply{Reply::Action::respond, "HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n" +
                                             http_response(200, "OK", {{"X-Final", "yes"}}, "body")};
    });
    auto transport = scalectl::net::make_curl_transport(quick_options());
    const Response response = transport->send(get(server.url("/")));
    CHECK(response.status == 200);
    CHECK(response.body == "body");
    CHECK(response.header("x-final") == "yes");
    CHECK_FALSE(response.header("x-interim").has_value());
  }

  TEST_CASE("connection refused is a connect error")
  {
    const int port = closed_port();
    auto transport = scalectl::net::make_curl_transport(quick_options());
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v2/x?token=hidden";
    const TransportError error = expect_transport_error([&] { transport->send(get(url)); });
    CHECK(error.kind() == Kind::connect);
    CHECK(error.code() == ExitCode::failure);
    const std::string message = error.what();
    CHECK(message.starts_with("GET http://127.0.0.1:" + std::to_string(port) + "/v2/x?token=REDACTED: "));
    CHECK(message.find("Couldn't connect to server") != std::string::npos);
    CHECK(message.find("hidden") == std::string::npos);
  }

  TEST_CASE("a server that closes without replying is a dropped error")
  {
    LoopbackServer server([](const SeenRequest&) { return Reply{Reply::Action::close, {}}; });
    auto transport = scalectl::net::make_curl_transport(quick_options());
    const TransportError error = expect_transport_error([&] { transport->send(get(server.url("/v2/x"))); });
    CHECK(error.kind() == Kind::dropped);
    CHECK(std::string(error.what()).find("Server returned nothing") != std::string::npos);
  }

  TEST_CASE("a body cut short is a dropped error")
  {
    LoopbackServer server([](const SeenRequest&) {
      return Reply{Reply::Action::respond_and_close, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten.."};
    });
    auto transport = scalectl::net::make_curl_transport(quick_options());
    const TransportError error = expect_transport_error([&] { transport->send(get(server.url("/v2/x"))); });
    CHECK(error.kind() == Kind::dropped);
    CHECK(std::string(error.what()).find("Transferred a partial file") != std::string::npos);
  }

  TEST_CASE("a slow server and a short total timeout give a timeout error")
  {
    LoopbackServer server([](const SeenRequest&) { return Reply{Reply::Action::hang, {}}; });
    auto options = quick_options();
    options.total_timeout = 300ms;
    auto transport = scalectl::net::make_curl_transport(options);
    const TransportError error = expect_transport_error([&] { transport->send(get(server.url("/v2/slow"))); });
    CHECK(error.kind() == Kind::timeout);
    CHECK(std::string(error.what()).find("GET http://127.0.0.1:" + std::to_string(server.port()) + "/v2/slow: ") == 0);
  }

  TEST_CASE("https to a plain HTTP server is a TLS error")
  {
    LoopbackServer server([](const SeenRequest&) { return ok_json(); });
    auto transport = scalectl::net::make_curl_transport(quick_options());
    const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/v2/account";
    const TransportError error = expect_transport_error([&] { transport->send(get(url)); });
    CHECK(error.kind() == Kind::tls);
  }

  TEST_CASE("protocols other than http and https are refused")
  {
    auto transport = scalectl::net::make_curl_transport(quick_options());
    for (const std::string url : {"file:///etc/hostname", "ftp://127.0.0.1:1/", "gopher://127.0.0.1:1/"}) {
      CAPTURE(url);
      const TransportError error = expect_transport_error([&] { transport->send(get(url)); });
      CHECK(error.kind() == Kind::other);
    }
  }

  TEST_CASE("the verbose log has method, path, status, duration and rate limit, never the token")
  {
    const std::string token = "dop_v1_0123456789abcdef";
    LoopbackServer server([](const SeenRequest&) { return ok_json({{"ratelimit-remaining", "4321"}}); });
    std::vector<std::string> lines;
    auto options = quick_options();
    options.log = [&](const std::string& line) { lines.push_back(line); };
    auto transport = scalectl::net::make_curl_transport(options);

    Request request = get(server.url("/v2/droplets?page=2&access_token=" + token));
    request.headers = {{"Authorization", "Bearer " + token}};
    transport->send(request);
    LoopbackServer plain([](const SeenRequest&) { return ok_json(); });
    Request second = get(plain.url("/v2/sizes"));
    second.headers = {{"Authorization", "Bearer " + token}};
    transport->send(second);
    const std::string refused_url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/v2/account";
    Request third = get(refused_url);
    third.headers = {{"Authorization", "Bearer " + token}};
    expect_transport_error([&] { transport->send(third); });

    REQUIRE(lines.size() == 3);
    CHECK(std::regex_match(
      lines[0], std::regex(R"(GET /v2/droplets\?page=2&access_token=REDACTED 200 \d+ms ratelimit-remaining=4321)")));
    CHECK(std::regex_match(lines[1], std::regex(R"(GET /v2/sizes 200 \d+ms)")));
    CHECK(std::regex_match(lines[2], std::regex(R"(GET /v2/account error=connect \d+ms)")));
    for (const auto& line : lines) {
      CHECK(line.find(token) == std::string::npos);
      CHECK(line.find("Bearer") == std::string::npos);
      CHECK(line.find("Authorization") == std::string::npos);
    }
  }

  TEST_CASE("a header value with a line break is refused without echoing it")
  {
    auto transport = scalectl::net::make_curl_transport(quick_options());
    Request request = get("http://127.0.0.1:1/");
    request.headers = {{"Authorization", "Bearer secret\r\nX-Injected: 1"}};
    try {
      transport->send(request);
      FAIL("expected an Error");
    } catch (const TransportError&) {
      FAIL("expected a plain Error, not a TransportError");
    } catch (const scalectl::Error& error) {
      CHECK(error.code() == ExitCode::usage);
      CHECK(std::string(error.what()).find("secret") == std::string::npos);
      CHECK(std::string(error.what()).find("'Authorization'") != std::string::npos);
    }
  }

  TEST_CASE("loading a missing or wrong library names it and the package")
  {
    const auto missing = scalectl::net::open_curl("libscalectl-no-such-curl.so.4");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().starts_with("cannot load libscalectl-no-such-curl.so.4 ("));
    CHECK(missing.error().ends_with("); install the libcurl4 package"));
    const auto wrong = scalectl::net::open_curl("libm.so.6");
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().find("curl_global_init") != std::string::npos);
    CHECK(wrong.error().ends_with("install the libcurl4 package"));
  }

  TEST_CASE("curl error codes map to transport error kinds")
  {
    using scalectl::net::classify_curl_error;
    CHECK(classify_curl_error(CURLE_COULDNT_CONNECT, false) == Kind::connect);
    CHECK(classify_curl_error(CURLE_COULDNT_RESOLVE_HOST, false) == Kind::connect);
    CHECK(classify_curl_error(CURLE_COULDNT_RESOLVE_PROXY, false) == Kind::connect);
    CHECK(classify_curl_error(CURLE_OPERATION_TIMEDOUT, true) == Kind::timeout);
    CHECK(classify_curl_error(CURLE_OPERATION_TIMEDOUT, false) == Kind::connect);  // connect timeout
    for (const CURLcode code : {CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
                                CURLE_HTTP2, CURLE_HTTP2_STREAM}) {
      CAPTURE(code);
      CHECK(classify_curl_error(code, true) == Kind::dropped);
      CHECK(classify_curl_error(code, false) == Kind::connect);
    }
    for (const CURLcode code : {CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
                                CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_USE_SSL_FAILED}) {
      CAPTURE(code);
      CHECK(classify_curl_error(code, false) == Kind::tls);
      CHECK(classify_curl_error(code, true) == Kind::tls);
    }
    CHECK(classify_curl_error(CURLE_UNSUPPORTED_PROTOCOL, false) == Kind::other);
    CHECK(classify_curl_error(CURLE_URL_MALFORMAT, false) == Kind::other);
    CHECK(classify_curl_error(CURLE_WRITE_ERROR, true) == Kind::other);
  }

  TEST_CASE("header lines: status lines reset, folding continues, junk is ignored")
  {
    std::vector<Header> headers;
    using scalectl::net::add_header_line;
    add_header_line(headers, "HTTP/1.1 100 Continue\r\n");
    add_header_line(headers, "X-Interim: 1\r\n");
    add_header_line(headers, "\r\n");
    add_header_line(headers, "HTTP/2 200\r\n");
    add_header_line(headers, "content-type:application/json\r\n");
    add_header_line(headers, "X-Long:  first part \r\n");
    add_header_line(headers, "\t second part\r\n");
    add_header_line(headers, "no colon here\r\n");
    add_header_line(headers, ": no name\r\n");
    add_header_line(headers, "X-Empty:\r\n");
    add_header_line(headers, "\r\n");
    REQUIRE(headers.size() == 3);
    CHECK(headers[0].name == "content-type");
    CHECK(headers[0].value == "application/json");
    CHECK(headers[1].name == "X-Long");
    CHECK(headers[1].value == "first part second part");
    CHECK(headers[2].name == "X-Empty");
    CHECK(headers[2].value.empty());
  }
}
