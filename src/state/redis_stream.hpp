#pragma once
// The byte stream under a Redis connection: a TCP or unix socket, optionally wrapped in TLS.
//
// Why not hiredis' own connection: Debian 12's hiredis 0.14 has no TLS support, and hiredis'
// TLS add-on (libhiredis_ssl, >= 1.0) is not packaged there. So scalectl owns the socket and the
// OpenSSL session, and keeps hiredis for the protocol only (redisFormatCommandArgv, redisReader).
// The OpenSSL handles live in unique_ptrs with their free functions; they never leave this file pair.
// OpenSSL itself is loaded with dlopen() at the first rediss:// connection (state/ssl_loader.hpp).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "state/redis_url.hpp"
#include "state/ssl_loader.hpp"
#include "state/unique_fd.hpp"

namespace scalectl::state {

// One connected stream. Not thread-safe.
class RedisStream {
 public:
  // Connects to `endpoint` (TCP or unix; TLS for rediss://, with certificate and host-name
  // verification always on) within `connect_timeout`; throws Error(failure) with one line saying
  // what failed and what to check.
  RedisStream(const RedisEndpoint& endpoint, std::chrono::milliseconds connect_timeout,
              std::chrono::milliseconds command_timeout);

  // Writes all of `data`; returns "" on success, else what went wrong (the stream is then unusable).
  std::string write_all(std::string_view data);

  // Reads at most `size` bytes into `buffer`; returns the count (> 0), or 0 with `error` set on
  // EOF, timeout or failure.
  std::size_t read_some(char* buffer, std::size_t size, std::string& error);

 private:
  UniqueFd m_fd;
  const SslApi* m_api = nullptr;  // loaded for rediss:// only
  std::unique_ptr<SSL_CTX, SslCtxFree> m_ctx;
  std::unique_ptr<SSL, SslFree> m_ssl;
  std::string m_address;
  std::chrono::milliseconds m_command_timeout;
};

}  // namespace scalectl::state
