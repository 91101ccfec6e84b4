#pragma once
// OpenSSL (libssl.so.3 and libcrypto.so.3), loaded with dlopen() when a rediss:// URL is first
// used, as src/net/curl_loader.cpp does for libcurl. Only <openssl/*.h> types are used at build
// time, so the scalectl binary has no DT_NEEDED entry for OpenSSL and commands that never open a
// TLS connection to Redis (`--version`, the file backend, redis://) do not pay for loading it.

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <expected>
#include <string>

namespace scalectl::state {

// The OpenSSL entry points RedisStream calls, resolved with dlsym(). Types come from the real prototypes.
struct SslApi {
  // libcrypto
  decltype(&::ERR_get_error) err_get_error = nullptr;
  decltype(&::ERR_error_string_n) err_error_string_n = nullptr;
  decltype(&::ERR_clear_error) err_clear_error = nullptr;
  decltype(&::X509_verify_cert_error_string) x509_verify_cert_error_string = nullptr;
  decltype(&::X509_VERIFY_PARAM_set1_ip_asc) x509_verify_param_set1_ip_asc = nullptr;
  // libssl
  decltype(&::TLS_client_method) tls_client_method = nullptr;
  decltype(&::SSL_CTX_new) ctx_new = nullptr;
  decltype(&::SSL_CTX_free) ctx_free = nullptr;
  decltype(&::SSL_CTX_ctrl) ctx_ctrl = nullptr;
  decltype(&::SSL_CTX_set_verify) ctx_set_verify = nullptr;
  decltype(&::SSL_CTX_load_verify_locations) ctx_load_verify_locations = nullptr;
  decltype(&::SSL_CTX_set_default_verify_paths) ctx_set_default_verify_paths = nullptr;
  decltype(&::SSL_CTX_use_certificate_chain_file) ctx_use_certificate_chain_file = nullptr;
  decltype(&::SSL_CTX_use_PrivateKey_file) ctx_use_private_key_file = nullptr;
  decltype(&::SSL_CTX_check_private_key) ctx_check_private_key = nullptr;
  decltype(&::SSL_new) ssl_new = nullptr;
  decltype(&::SSL_free) ssl_free = nullptr;
  decltype(&::SSL_set_fd) set_fd = nullptr;
  decltype(&::SSL_get0_param) get0_param = nullptr;
  decltype(&::SSL_ctrl) ctrl = nullptr;
  decltype(&::SSL_set1_host) set1_host = nullptr;
  decltype(&::SSL_connect) connect = nullptr;
  decltype(&::SSL_get_error) get_error = nullptr;
  decltype(&::SSL_get_verify_result) get_verify_result = nullptr;
  decltype(&::SSL_write) write = nullptr;
  decltype(&::SSL_read) read = nullptr;
};

// The shared objects loaded: OpenSSL 3 of Debian's libssl3 package.
inline constexpr const char* k_libssl_soname = "libssl.so.3";
inline constexpr const char* k_libcrypto_soname = "libcrypto.so.3";

// Opens `crypto_soname` and `ssl_soname` and resolves every SslApi symbol; on failure returns a
// one-line message that names the library, the reason and the package to install.
std::expected<SslApi, std::string> open_ssl(const char* ssl_soname, const char* crypto_soname);

// Returns the process-wide OpenSSL, opening it on the first call (thread-safe, never unloaded);
// throws Error(failure) with open_ssl()'s message if it cannot be loaded.
const SslApi& ssl_api();

// Deleters for the OpenSSL handles, through ssl_api().
struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const noexcept;
};
struct SslFree {
  void operator()(SSL* ssl) const noexcept;
};

}  // namespace scalectl::state
