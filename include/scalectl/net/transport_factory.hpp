#pragma once
// The one place that builds HTTP transports: the DigitalOcean client, webhooks and HTTP metrics
// all get theirs here. libcurl stays behind make_curl_transport() and is dlopen()ed on the first
// request, so building a transport never loads it.

#include <chrono>
#include <functional>
#include <memory>

#include <scalectl/net/http.hpp>

namespace scalectl::net {

// Builds the transport under every decorator; make_curl_transport() outside tests.
using TransportMaker = std::function<std::unique_ptr<Transport>(const TransportOptions& options)>;

class TransportFactory {
 public:
  // A factory whose retrying transports sleep on `clock` and whose plain transports come from `maker`.
  explicit TransportFactory(Clock& clock, TransportMaker maker = make_curl_transport);

  // Returns a transport that tries each request once; an empty user agent becomes scalectl/<version>.
  std::unique_ptr<Transport> plain(TransportOptions options) const;

  // Returns a transport that retries per `policy` (net::retry_delay), logging each retry to `retry_log`.
  std::unique_ptr<Transport> retrying(TransportOptions options, RetryPolicy policy, RequestLog retry_log = {}) const;

  // Returns a plain transport for one short request bounded by `timeout` in all (webhooks, HTTP
  // metrics): connecting may take at most min(timeout, 10 s).
  std::unique_ptr<Transport> bounded(std::chrono::milliseconds timeout) const;

 private:
  Clock& m_clock;
  TransportMaker m_maker;
};

}  // namespace scalectl::net
