#include "state/ssl_loader.hpp"

#include <fmt/format.h>

#include <scalectl/error.hpp>

#include "util/dyn_library.hpp"

namespace scalectl::state {

namespace {

std::string load_failure(const char* soname, const std::string& reason)
{
  return fmt::format("cannot load {} ({}), which rediss:// needs; install the libssl3 package", soname, reason);
}

}  // namespace

std::expected<SslApi, std::string> open_ssl(const char* ssl_soname, const char* crypto_soname)
{
  // Never dlclose()d once resolved: OpenSSL keeps process-wide state and atexit handlers.
  auto crypto = util::DynLibrary::open(crypto_soname);
  if (!crypto) {
    return std::unexpected(load_failure(crypto_soname, crypto.error()));
  }
  SslApi api;
  const bool crypto_ok = crypto->resolve("ERR_get_error", api.err_get_error) &&
                         crypto->resolve("ERR_error_string_n", api.err_error_string_n) &&
                         crypto->resolve("ERR_clear_error", api.err_clear_error) &&
                         crypto->resolve("X509_verify_cert_error_string", api.x509_verify_cert_error_string) &&
                         crypto->resolve("X509_VERIFY_PARAM_set1_ip_asc", api.x509_verify_param_set1_ip_asc);
  if (!crypto_ok) {
    return std::unexpected(load_failure(crypto_soname, util::DynLibrary::last_error()));
  }
  crypto->keep();
  auto ssl = util::DynLibrary::open(ssl_soname);
  if (!ssl) {
    return std::unexpected(load_failure(ssl_soname, ssl.error()));
  }
  const bool ssl_ok = ssl->resolve("TLS_client_method", api.tls_client_method) &&
                      ssl->resolve("SSL_CTX_new", api.ctx_new) && ssl->resolve("SSL_CTX_free", api.ctx_free) &&
                      ssl->resolve("SSL_CTX_ctrl", api.ctx_ctrl) &&
                      ssl->resolve("SSL_CTX_set_verify", api.ctx_set_verify) &&
                      ssl->resolve("SSL_CTX_load_verify_locations", api.ctx_load_verify_locations) &&
                      ssl->resolve("SSL_CTX_set_default_verify_paths", api.ctx_set_default_verify_paths) &&
                      ssl->resolve("SSL_CTX_use_certificate_chain_file", api.ctx_use_certificate_chain_file) &&
                      ssl->resolve("SSL_CTX_use_PrivateKey_file", api.ctx_use_private_key_file) &&
                      ssl->resolve("SSL_CTX_check_private_key", api.ctx_check_private_key) &&
                      ssl->resolve("SSL_new", api.ssl_new) && ssl->resolve("SSL_free", api.ssl_free) &&
                      ssl->resolve("SSL_set_fd", api.set_fd) && ssl->resolve("SSL_get0_param", api.get0_param) &&
                      ssl->resolve("SSL_ctrl", api.ctrl) && ssl->resolve("SSL_set1_host", api.set1_host) &&
                      ssl->resolve("SSL_connect", api.connect) && ssl->resolve("SSL_get_error", api.get_error) &&
                      ssl->resolve("SSL_get_verify_result", api.get_verify_result) &&
                      ssl->resolve("SSL_write", api.write) && ssl->resolve("SSL_read", api.read);
  if (!ssl_ok) {
    return std::unexpected(load_failure(ssl_soname, util::DynLibrary::last_error()));
  }
  ssl->keep();
  return api;
}

const SslApi& ssl_api()
{
  static const std::expected<SslApi, std::string> loaded = open_ssl(k_libssl_soname, k_libcrypto_soname);
  if (!loaded) {
    throw Error(ExitCode::failure, loaded.error());
  }
  return *loaded;
}

void SslCtxFree::operator()(SSL_CTX* ctx) const noexcept
{
  ssl_api().ctx_free(ctx);
}

void SslFree::operator()(SSL* ssl) const noexcept
{
  ssl_api().ssl_free(ssl);
}

}  // namespace scalectl::state
