#pragma once
// An in-memory net::Transport for unit tests: canned responses in order, requests recorded.

#include <deque>
#include <string>
#include <vector>

#include <scalectl/net/http.hpp>

namespace scalectl::test {

class FakeTransport final : public net::Transport {
 public:
  void reply(long status, std::string body, std::vector<net::Header> headers = {})
  {
    net::Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    m_replies.push_back(std::move(r));
  }

  net::Response send(const net::Request& request) override
  {
    m_requests.push_back(request);
    if (m_replies.empty()) {
      throw net::TransportError(net::TransportError::Kind::connect, "no canned reply for " + request.url);
    }
    auto r = m_replies.front();
    m_replies.pop_front();
    return r;
  }

  const std::vector<net::Request>& requests() const { return m_requests; }

 private:
  std::deque<net::Response> m_replies;
  std::vector<net::Request> m_requests;
};

}  // namespace scalectl::test
