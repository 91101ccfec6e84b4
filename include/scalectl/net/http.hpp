#pragma once
// The HTTP transport interface. Nothing here mentions libcurl: the curl adapter is private to
// src/net/, and it is loaded with dlopen() on the first request.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <scalectl/error.hpp>

namespace scalectl {
class Clock;
}

namespace scalectl::net {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<Header> headers;
  std::string body;
};

struct Response {
  long status = 0;
  std::vector<Header> headers;
  std::string body;
  std::chrono::milliseconds elapsed{0};

  // Returns the first header named `name`, compared case-insensitively, or nullopt.
  std::optional<std::string> header(std::string_view name) const;
};

// A request that got no HTTP response: connection refused or dropped, DNS, TLS, or timeout.
class TransportError : public Error {
 public:
  enum class Kind { connect, timeout, dropped, tls, other };
  TransportError(Kind kind, const std::string& message) : Error(ExitCode::failure, message), m_kind(kind) {}
  Kind kind() const noexcept { return m_kind; }

 private:
  Kind m_kind;
};

// Receives one line per request for --verbose: method, path, status and duration. Never a secret.
using RequestLog = std::function<void(const std::string& line)>;

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{60'000};
  std::string ca_bundle;   // optional CA file; TLS verification itself can never be disabled
  std::string user_agent;  // defaults to scalectl/<version>
  RequestLog log;          // optional
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends `request` and returns the response, whatever its status; throws TransportError when
  // no response arrived and Interrupted when a signal stopped the transfer.
  virtual Response send(const Request& request) = 0;
};

// Returns a libcurl transport that reuses one connection across calls. libcurl is dlopen()ed on
// the first send(); if it cannot be loaded, send() throws Error naming the package to install.
std::unique_ptr<Transport> make_curl_transport(const TransportOptions& options);

struct RetryPolicy {
  int max_attempts = 5;                            // total tries, including the first
  std::chrono::milliseconds base_delay{500};       // first backoff, doubled each retry
  std::chrono::milliseconds max_delay{30'000};     // cap for one backoff and for server hints
};

// What went wrong with one attempt, as the retry decision sees it.
struct AttemptOutcome {
  std::optional<long> status;                      // nullopt: transport error (no response)
  std::optional<TransportError::Kind> transport_error;
  std::optional<std::string> retry_after;          // raw `retry-after` header
  std::optional<std::string> ratelimit_reset;      // raw `ratelimit-reset` header (Unix seconds)
  bool request_is_idempotent = true;               // POST actions are not blindly replayed on timeout
  std::optional<std::string> ratelimit_remaining;  // raw `ratelimit-remaining` header
};

// The longest server hint (retry-after, ratelimit-reset) that is still waited out; beyond it the
// outcome is not retried, because the caller is better served by failing now.
inline constexpr std::chrono::milliseconds k_max_server_hint{5 * 60 * 1000};

// Returns true for the methods RFC 9110 defines as idempotent (GET, HEAD, PUT, DELETE, OPTIONS, TRACE).
bool is_idempotent(std::string_view method);

// Returns the delay before attempt `attempt + 1` (attempt counts from 1), or nullopt when the
// outcome must not be retried: success, 4xx other than 429, or max_attempts reached.
// `jitter` in [0, 1) scales a random part of the backoff; `now_unix` resolves ratelimit-reset.
// Backoff uses "equal jitter": half of min(base * 2^(attempt-1), max_delay) is fixed and the other
// half is scaled by `jitter`. A server hint longer than the backoff replaces it; hints up to
// k_max_server_hint are honoured even beyond max_delay, longer ones end the retries. A request that
// is not idempotent is replayed only when the server cannot have acted on it: connect errors, 429, 503.
std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, int attempt,
                                                     const AttemptOutcome& outcome, double jitter,
                                                     double now_unix);

// Returns a transport that retries `inner` per `policy`, sleeping on `clock` between attempts.
std::unique_ptr<Transport> make_retrying_transport(std::unique_ptr<Transport> inner, RetryPolicy policy,
                                                   Clock& clock, RequestLog log = {});

}  // namespace scalectl::net
