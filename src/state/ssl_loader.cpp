#include "state/ssl_loader.hpp"

#include <dlfcn.h>

#include <fmt/format.h>

#include <scalectl/error.hpp>

namespace scalectl::state {

namespace {

std::string dl_error_text()
{
  const char* text = ::dlerror();
  return text != nullptr ? text : "unknown dynamic loader error";
}

std::string load_failure(const char* soname, const std::string& reason)
{
  return fmt::format("cannot load {} ({}), which rediss:// needs; install the libssl3 package", soname, reason);
}

// Resolves `name` into `slot`; returns false (and leaves dlerror() set) when it is missing.
template <typename Fn>
bool resolve(void* library, const char* name, Fn& slot)
{
  ::dlerror();
  void* symbol = ::dlsym(library, name);
  if (symbol == nullptr) {
    return false;
  }
  slot = reinterpret_cast<Fn>(symbol);
  return true;
}

}  // namespace

std::expected<SslApi, std::string> open_ssl(const char* ssl_soname, const char* crypto_soname)
{
  // Never dlclose()d once both are resolved: OpenSSL keeps process-wide state and atexit handlers.
  void* crypto = ::dlopen(crypto_soname, RTLD_NOW | RTLD_LOCAL);
  if (crypto == nullptr) {
    return std::unexpected(load_failure(crypto_soname, dl_error_text()));
  }
  SslApi api;
  const bool crypto_ok = resolve(crypto, "ERR_get_error", api.err_get_error) &&
                         resolve(crypto, "ERR_error_string_n", api.err_error_string_n) &&
                         resolve(crypto, "ERR_clear_error", api.err_clear_error) &&
                         resolve(crypto, "X509_verify_cert_error_string", api.x509_verify_cert_error_string) &&
                         resolve(crypto, "X509_VERIFY_PARAM_set1_ip_asc", api.x509_verify_param_set1_ip_asc);
  if (!crypto_ok) {
    std::string reason = dl_error_text();
    ::dlclose(crypto);
    return std::unexpected(load_failure(crypto_soname, reason));
  }
  void* ssl = ::dlopen(ssl_soname, RTLD_NOW | RTLD_LOCAL);
  if (ssl == nullptr) {
    return std::unexpected(load_failure(ssl_soname, dl_error_text()));
  }
  const bool ssl_ok = resolve(ssl, "TLS_client_method", api.tls_client_method) &&
                      resolve(ssl, "SSL_CTX_new", api.ctx_new) && resolve(ssl, "SSL_CTX_free", api.ctx_free) &&
                      resolve(ssl, "SSL_CTX_ctrl", api.ctx_ctrl) &&
                      resolve(ssl, "SSL_CTX_set_verify", api.ctx_set_verify) &&
                      resolve(ssl, "SSL_CTX_load_verify_locations", api.ctx_load_verify_locations) &&
                      resolve(ssl, "SSL_CTX_set_default_verify_paths", api.ctx_set_default_verify_paths) &&
                      resolve(ssl, "SSL_CTX_use_certificate_chain_file", api.ctx_use_certificate_chain_file) &&
                      resolve(ssl, "SSL_CTX_use_PrivateKey_file", api.ctx_use_private_key_file) &&
                      resolve(ssl, "SSL_CTX_check_private_key", api.ctx_check_private_key) &&
                      resolve(ssl, "SSL_new", api.ssl_new) && resolve(ssl, "SSL_free", api.ssl_free) &&
                      resolve(ssl, "SSL_set_fd", api.set_fd) && resolve(ssl, "SSL_get0_param", api.get0_param) &&
                      resolve(ssl, "SSL_ctrl", api.ctrl) && resolve(ssl, "SSL_set1_host", api.set1_host) &&
                      resolve(ssl, "SSL_connect", api.connect) && resolve(ssl, "SSL_get_error", api.get_error) &&
                      resolve(ssl, "SSL_get_verify_result", api.get_verify_result) &&
                      resolve(ssl, "SSL_write", api.write) && resolve(ssl, "SSL_read", api.read);
  if (!ssl_ok) {
    std::string reason = dl_error_text();
    ::dlclose(ssl);
    return std::unexpected(load_failure(ssl_soname, reason));
  }
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
