// scalectl-http.so: the HTTP server of `autoscale run --listen`, the one file that includes
// <httplib.h> (Debian's libcpp-httplib-dev). It is a separate module so that the executable
// never maps cpp-httplib and the TLS, brotli and zlib libraries it pulls in; see
// src/http_server/module_abi.hpp for the boundary. It routes nothing itself: every request goes
// to the executable's handler.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <httplib.h>

#include "http_server/module_abi.hpp"

namespace {

using scalectl::http_server::HttpReply;
using scalectl::http_server::HttpRequest;
using scalectl::http_server::ModuleServer;
using scalectl::http_server::ServerSpec;

// A fixed pool of threads with a bounded queue: when it is full, the accept loop waits, so the
// kernel's listen backlog holds (then refuses) further connections instead of memory growing.
class BoundedPool : public httplib::TaskQueue {
 public:
  BoundedPool(std::size_t threads, std::size_t max_pending) : m_max_pending(max_pending)
  {
    for (std::size_t i = 0; i < threads; ++i) {
      m_threads.emplace_back([this] { work(); });
    }
  }

  void enqueue(std::function<void()> fn) override
  {
    std::unique_lock lock(m_mutex);
    m_space.wait(lock, [this] { return m_jobs.size() < m_max_pending || m_shutdown; });
    m_jobs.push_back(std::move(fn));
    m_ready.notify_one();
  }

  void shutdown() override
  {
    {
      const std::lock_guard lock(m_mutex);
      m_shutdown = true;
    }
    m_ready.notify_all();
    m_space.notify_all();
    for (auto& t : m_threads) {
      t.join();
    }
  }

 private:
  void work()
  {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(m_mutex);
        m_ready.wait(lock, [this] { return !m_jobs.empty() || m_shutdown; });
        if (m_jobs.empty()) {
          return;
        }
        fn = std::move(m_jobs.front());
        m_jobs.pop_front();
      }
      m_space.notify_one();
      fn();  // runs the request and closes the socket
    }
  }

  std::size_t m_max_pending;
  std::mutex m_mutex;
  std::condition_variable m_ready;
  std::condition_variable m_space;
  std::deque<std::function<void()>> m_jobs;
  std::vector<std::thread> m_threads;
  bool m_shutdown = false;
};

class HttplibServer final : public ModuleServer {
 public:
  static constexpr std::chrono::seconds k_ready_wait{10};

  explicit HttplibServer(ServerSpec spec) : m_spec(std::move(spec)) {}
  ~HttplibServer() override { stop(); }
  HttplibServer(const HttplibServer&) = delete;
  HttplibServer& operator=(const HttplibServer&) = delete;

  std::string start() override
  {
    configure();
    if (!m_server.bind_to_port(m_spec.host, m_spec.port)) {
      return "address in use or not available";
    }
    m_started = true;
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    // httplib's stop() does nothing until the accept loop runs, so a stop right after start
    // would leave the thread in accept() for ever: return once it runs (or after k_ready_wait).
    const auto deadline = std::chrono::steady_clock::now() + k_ready_wait;
    while (!m_server.is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!m_server.is_running()) {
      m_thread.detach();  // cannot be stopped; the caller exits with this error
      m_started = false;
      return "the server thread did not start within 10 s";
    }
    return {};
  }

  void stop() noexcept override
  {
    if (!m_started) {
      return;
    }
    m_server.stop();
    if (m_thread.joinable()) {
      m_thread.join();
    }
    m_started = false;
  }

 private:
  void configure()
  {
    const auto limits = m_spec.limits;
    m_server.new_task_queue = [limits] { return new BoundedPool(limits.threads, limits.max_pending); };
    m_server.set_payload_max_length(limits.max_payload_bytes);
    m_server.set_read_timeout(limits.read_timeout);
    m_server.set_write_timeout(limits.write_timeout);
    m_server.set_keep_alive_max_count(limits.keep_alive_max);
    m_server.set_keep_alive_timeout(limits.read_timeout.count());
    m_server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      m_spec.log(req.method, req.path, res.status);
    });
    m_server.set_exception_handler([](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
      res.status = 500;
      res.set_content("{\"success\": false, \"error\": \"internal error\"}\n", "application/json");
    });
    const auto serve = [this](const httplib::Request& req, httplib::Response& res) { answer(req, res); };
    // Every path and method goes to the executable's handler, which answers 404 and 405 itself.
    m_server.Get(".*", serve);
    m_server.Post(".*", serve);
    m_server.Put(".*", serve);
    m_server.Delete(".*", serve);
    m_server.Patch(".*", serve);
  }

  void answer(const httplib::Request& req, httplib::Response& res)
  {
    HttpRequest request;
    request.method = req.method;
    request.path = req.path;
    request.authorization = req.get_header_value("Authorization");
    request.policy = req.has_param("policy") ? req.get_param_value("policy") : "";
    const HttpReply reply = m_spec.handle(request);
    res.status = reply.status;
    if (!reply.www_authenticate.empty()) {
      res.set_header("WWW-Authenticate", reply.www_authenticate);
    }
    res.set_content(reply.body, reply.content_type);
  }

  ServerSpec m_spec;
  httplib::Server m_server;
  std::thread m_thread;
  bool m_started = false;
};

}  // namespace

// Returns the boundary version this module was built with (module_abi.hpp).
extern "C" __attribute__((visibility("default"))) int scalectl_http_module_abi()
{
  return scalectl::http_server::k_module_abi_version;
}

// Returns a new, not yet started server for `spec`, or nullptr when it cannot be built.
extern "C" __attribute__((visibility("default"))) ModuleServer* scalectl_http_module_create(const ServerSpec& spec)
{
  try {
    return new HttplibServer(spec);
  } catch (...) {
    return nullptr;
  }
}
