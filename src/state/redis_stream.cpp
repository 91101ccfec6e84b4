#include "state/redis_stream.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>

namespace scalectl::state {

namespace {

constexpr std::string_view k_check_url = "is redis-server running and reachable? check state.redis_url";

void set_timeouts(int fd, std::chrono::milliseconds timeout)
{
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Connects `fd` to `address` within `timeout`; returns 0 or an errno value.
int connect_within(int fd, const sockaddr* address, socklen_t length, std::chrono::milliseconds timeout)
{
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int result = 0;
  if (::connect(fd, address, length) != 0) {
    result = errno;
    if (result == EINPROGRESS) {
      pollfd waiting{fd, POLLOUT, 0};
      const int ready = ::poll(&waiting, 1, static_cast<int>(timeout.count()));
      if (ready == 0) {
        result = ETIMEDOUT;
      } else if (ready < 0) {
        result = errno;
      } else {
        socklen_t size = sizeof result;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &result, &size);
      }
    }
  }
  ::fcntl(fd, F_SETFL, flags);
  return result;
}

UniqueFd connect_unix(const RedisEndpoint& endpoint, std::chrono::milliseconds timeout, const std::string& address)
{
  sockaddr_un un{};
  if (endpoint.socket_path.size() >= sizeof un.sun_path) {
    throw Error(fmt::format("the unix socket path {} is too long; use a shorter path", endpoint.socket_path));
  }
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, endpoint.socket_path.c_str(), endpoint.socket_path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    throw Error(fmt::format("cannot create a socket for Redis at {}: {}", address, std::strerror(errno)));
  }
  if (const int e = connect_within(fd.get(), reinterpret_cast<const sockaddr*>(&un), sizeof un, timeout); e != 0) {
    throw Error(fmt::format("cannot connect to Redis at {}: {}; {}", address, std::strerror(e), k_check_url));
  }
  return fd;
}

UniqueFd connect_tcp(const RedisEndpoint& endpoint, std::chrono::milliseconds timeout, const std::string& address)
{
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(endpoint.port);
  if (const int rc = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    throw Error(fmt::format("cannot resolve the Redis host {}: {}; check state.redis_url", endpoint.host,
                            ::gai_strerror(rc)));
  }
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  int last_error = ECONNREFUSED;
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      last_error = errno;
      continue;
    }
    last_error = connect_within(fd.get(), ai->ai_addr, ai->ai_addrlen, timeout);
    if (last_error == 0) {
      const int one = 1;
      ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return fd;
    }
  }
  throw Error(fmt::format("cannot connect to Redis at {}: {}; {}", address,
                          last_error == ETIMEDOUT ? "connection timed out" : std::strerror(last_error), k_check_url));
}

// Returns the newest OpenSSL error as text and clears the queue.
std::string ssl_error_text(const SslApi& api)
{
  unsigned long code = 0;
  unsigned long last = 0;
  while ((code = api.err_get_error()) != 0) {
    last = code;
  }
  if (last == 0) {
    return "unknown TLS error";
  }
  char text[256];
  api.err_error_string_n(last, text, sizeof text);
  return text;
}

bool is_ip_literal(const std::string& host)
{
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

std::string verify_failure(const SslApi& api, long result, const RedisEndpoint& endpoint, const std::string& address)
{
  const std::string ca_hint = endpoint.ca_file.empty()
                                  ? std::string("set state.redis_ca_file to the CA certificate of the server "
                                                "(DigitalOcean: the database's \"Download CA certificate\")")
                                  : fmt::format("check that state.redis_ca_file ({}) is the CA that signed the "
                                                "server's certificate",
                                                endpoint.ca_file);
  switch (result) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return fmt::format("the TLS certificate of Redis at {} has expired; renew the server's certificate", address);
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return fmt::format("the TLS certificate of Redis at {} is not valid yet; check the clocks", address);
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return fmt::format("the TLS certificate of Redis at {} is not valid for the host name \"{}\"; use the host "
                         "name the certificate was issued for in state.redis_url",
                         address, endpoint.host);
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return fmt::format("the TLS certificate of Redis at {} is not signed by a trusted CA ({}); {}", address,
                         api.x509_verify_cert_error_string(result), ca_hint);
    default:
      return fmt::format("the TLS certificate of Redis at {} failed verification ({}); {}", address,
                         api.x509_verify_cert_error_string(result), ca_hint);
  }
}

}  // namespace

RedisStream::RedisStream(const RedisEndpoint& endpoint, std::chrono::milliseconds connect_timeout,
                         std::chrono::milliseconds command_timeout)
    : m_address(endpoint.address()), m_command_timeout(command_timeout)
{
  m_fd = endpoint.socket_path.empty() ? connect_tcp(endpoint, connect_timeout, m_address)
                                      : connect_unix(endpoint, connect_timeout, m_address);
  if (!endpoint.tls) {
    set_timeouts(m_fd.get(), command_timeout);
    return;
  }
  m_api = &ssl_api();
  m_api->err_clear_error();
  m_ctx.reset(m_api->ctx_new(m_api->tls_client_method()));
  if (!m_ctx) {
    throw Error(fmt::format("cannot set up TLS for Redis at {}: {}", m_address, ssl_error_text(*m_api)));
  }
  m_api->ctx_ctrl(m_ctx.get(), SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, nullptr);
  m_api->ctx_set_verify(m_ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (!endpoint.ca_file.empty()) {
    if (m_api->ctx_load_verify_locations(m_ctx.get(), endpoint.ca_file.c_str(), nullptr) != 1) {
      throw Error(fmt::format("cannot load the CA certificate state.redis_ca_file ({}): {}; it must be a PEM file",
                              endpoint.ca_file, ssl_error_text(*m_api)));
    }
  } else if (m_api->ctx_set_default_verify_paths(m_ctx.get()) != 1) {
    throw Error(fmt::format("cannot load the system CA store: {}; install ca-certificates or set "
                            "state.redis_ca_file",
                            ssl_error_text(*m_api)));
  }
  if (endpoint.cert_file.empty() != endpoint.key_file.empty()) {
    throw usage_error("state.redis_cert_file and state.redis_key_file go together; set both or neither");
  }
  if (!endpoint.cert_file.empty()) {
    if (m_api->ctx_use_certificate_chain_file(m_ctx.get(), endpoint.cert_file.c_str()) != 1) {
      throw Error(fmt::format("cannot load the client certificate state.redis_cert_file ({}): {}",
                              endpoint.cert_file, ssl_error_text(*m_api)));
    }
    if (m_api->ctx_use_private_key_file(m_ctx.get(), endpoint.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        m_api->ctx_check_private_key(m_ctx.get()) != 1) {
      throw Error(fmt::format("cannot load the client key state.redis_key_file ({}) or it does not match the "
                              "certificate: {}",
                              endpoint.key_file, ssl_error_text(*m_api)));
    }
  }
  m_ssl.reset(m_api->ssl_new(m_ctx.get()));
  if (!m_ssl || m_api->set_fd(m_ssl.get(), m_fd.get()) != 1) {
    throw Error(fmt::format("cannot set up TLS for Redis at {}: {}", m_address, ssl_error_text(*m_api)));
  }
  if (!endpoint.socket_path.empty()) {
    throw usage_error("TLS over a unix socket is not supported; use rediss://host:port");
  }
  if (is_ip_literal(endpoint.host)) {
    m_api->x509_verify_param_set1_ip_asc(m_api->get0_param(m_ssl.get()), endpoint.host.c_str());
  } else {
    // SNI; SSL_set_tlsext_host_name() is a macro with an old-style cast, so call what it expands to.
    m_api->ctrl(m_ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(endpoint.host.c_str()));
    if (m_api->set1_host(m_ssl.get(), endpoint.host.c_str()) != 1) {
      throw Error(fmt::format("cannot set the expected TLS host name {}: {}", endpoint.host, ssl_error_text(*m_api)));
    }
  }
  set_timeouts(m_fd.get(), connect_timeout);
  m_api->err_clear_error();
  if (const int rc = m_api->connect(m_ssl.get()); rc != 1) {
    const int e = errno;
    const int kind = m_api->get_error(m_ssl.get(), rc);
    const long verify = m_api->get_verify_result(m_ssl.get());
    if (verify != X509_V_OK) {
      throw Error(verify_failure(*m_api, verify, endpoint, m_address));
    }
    if ((kind == SSL_ERROR_SYSCALL || kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE) &&
        (e == EAGAIN || e == EWOULDBLOCK)) {
      // The socket's receive timeout (the connect timeout) ran out mid-handshake: a plaintext server
      // waiting for a command, or a loaded one.
      throw Error(fmt::format("the TLS handshake with Redis at {} got no answer within {}; either the server does "
                              "not speak TLS on this port (use its TLS port, or redis:// only if it is on a trusted "
                              "network) or it is overloaded (retry, or raise state.redis_connect_timeout)",
                              m_address, format_duration(connect_timeout)));
    }
    const std::string text = ssl_error_text(*m_api);
    if (text.find("wrong version number") != std::string::npos || text.find("packet length") != std::string::npos ||
        text.find("record layer failure") != std::string::npos || text == "unknown TLS error") {
      throw Error(fmt::format("the TLS handshake with Redis at {} failed ({}); the server does not speak TLS on this "
                              "port: use its TLS port, or redis:// only if it is on a trusted network",
                              m_address, text == "unknown TLS error" ? "the server closed the connection" : text));
    }
    throw Error(fmt::format("the TLS handshake with Redis at {} failed: {}; check the server's TLS settings "
                            "(TLS 1.2 or later, and a client certificate if it requires one)",
                            m_address, text));
  }
  set_timeouts(m_fd.get(), command_timeout);
}

std::string RedisStream::write_all(std::string_view data)
{
  while (!data.empty()) {
    std::size_t done = 0;
    if (m_ssl) {
      m_api->err_clear_error();
      const int n = m_api->write(m_ssl.get(), data.data(), static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30)));
      if (n <= 0) {
        const int e = errno;
        const int kind = m_api->get_error(m_ssl.get(), n);
        const bool socket_level = kind == SSL_ERROR_SYSCALL || kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE;
        if (socket_level && e == EINTR) {
          continue;  // a signal (SIGINT is checked by the caller between commands), as for plain sockets
        }
        if (socket_level && (e == EAGAIN || e == EWOULDBLOCK)) {
          return fmt::format("no progress writing within {} (command timeout)", format_duration(m_command_timeout));
        }
        return kind == SSL_ERROR_SYSCALL ? std::string(std::strerror(e)) : ssl_error_text(*m_api);
      }
      done = static_cast<std::size_t>(n);
    } else {
      const ssize_t n = ::send(m_fd.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          return fmt::format("no progress writing within {} (command timeout)", format_duration(m_command_timeout));
        }
        return std::strerror(errno);
      }
      done = static_cast<std::size_t>(n);
    }
    data.remove_prefix(done);
  }
  return {};
}

std::size_t RedisStream::read_some(char* buffer, std::size_t size, std::string& error)
{
  const std::string timed_out = fmt::format("no reply within {} (command timeout)", format_duration(m_command_timeout));
  for (;;) {
    if (m_ssl) {
      m_api->err_clear_error();
      const int n = m_api->read(m_ssl.get(), buffer, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
      if (n > 0) {
        return static_cast<std::size_t>(n);
      }
      const int e = errno;
      const int kind = m_api->get_error(m_ssl.get(), n);
      const bool socket_level = kind == SSL_ERROR_SYSCALL || kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE;
      if (socket_level && e == EINTR) {
        continue;  // a signal, as for plain sockets: the caller checks for SIGINT between commands
      }
      if (kind == SSL_ERROR_ZERO_RETURN || (kind == SSL_ERROR_SYSCALL && e == 0)) {
        error = "the server closed the connection";
      } else if (socket_level && (e == EAGAIN || e == EWOULDBLOCK)) {
        error = timed_out;
      } else if (kind == SSL_ERROR_SYSCALL) {
        error = std::strerror(e);
      } else {
        error = ssl_error_text(*m_api);
      }
      return 0;
    }
    const ssize_t n = ::recv(m_fd.get(), buffer, size, 0);
    if (n > 0) {
      return static_cast<std::size_t>(n);
    }
    if (n == 0) {
      error = "the server closed the connection";
      return 0;
    }
    if (errno == EINTR) {
      continue;
    }
    error = errno == EAGAIN || errno == EWOULDBLOCK ? timed_out : std::string(std::strerror(errno));
    return 0;
  }
}

}  // namespace scalectl::state
