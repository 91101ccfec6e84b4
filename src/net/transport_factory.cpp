#include <scalectl/net/transport_factory.hpp>

#include <algorithm>

namespace scalectl::net {

namespace {

constexpr std::chrono::milliseconds k_max_connect_timeout{10'000};

}  // namespace

TransportFactory::TransportFactory(Clock& clock, TransportMaker maker) : m_clock(clock), m_maker(std::move(maker)) {}

std::unique_ptr<Transport> TransportFactory::plain(TransportOptions options) const
{
  if (options.user_agent.empty()) {
    options.user_agent = "scalectl/" SCALECTL_VERSION;
  }
  return m_maker(options);
}

std::unique_ptr<Transport> TransportFactory::retrying(TransportOptions options, RetryPolicy policy,
                                                      RequestLog retry_log) const
{
  return make_retrying_transport(plain(std::move(options)), policy, m_clock, std::move(retry_log));
}

std::unique_ptr<Transport> TransportFactory::bounded(std::chrono::milliseconds timeout) const
{
  TransportOptions options;
  options.connect_timeout = std::min(timeout, k_max_connect_timeout);
  options.total_timeout = timeout;
  return plain(std::move(options));
}

}  // namespace scalectl::net
