#include <doctest/doctest.h>

#include <string>

#include "state/ssl_loader.hpp"

using namespace scalectl::state;

TEST_SUITE("state.ssl_loader")
{
  TEST_CASE("OpenSSL 3 loads with every entry point resolved")
  {
    const auto api = open_ssl(k_libssl_soname, k_libcrypto_soname);
    REQUIRE_MESSAGE(api.has_value(), api.error());
    CHECK_UNARY(bool(api->err_get_error));
    CHECK_UNARY(bool(api->x509_verify_param_set1_ip_asc));
    CHECK_UNARY(bool(api->ctx_new));
    CHECK_UNARY(bool(api->connect));
    CHECK_UNARY(bool(api->read));
    CHECK_UNARY(bool(api->write));
    CHECK_UNARY(bool(ssl_api().ctx_free));
  }

  TEST_CASE("a missing library is one message naming it and the package")
  {
    const auto no_ssl = open_ssl("libssl-missing.so.99", k_libcrypto_soname);
    REQUIRE_FALSE(no_ssl.has_value());
    CHECK(no_ssl.error().find("libssl-missing.so.99") != std::string::npos);
    CHECK(no_ssl.error().find("install the libssl3 package") != std::string::npos);
    CHECK(no_ssl.error().find('\n') == std::string::npos);
    const auto no_crypto = open_ssl(k_libssl_soname, "libcrypto-missing.so.99");
    REQUIRE_FALSE(no_crypto.has_value());
    CHECK(no_crypto.error().find("libcrypto-missing.so.99") != std::string::npos);
    // A library without the symbols (libc) is refused as well.
    const auto wrong = open_ssl("libc.so.6", k_libcrypto_soname);
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().find("libc.so.6") != std::string::npos);
  }
}
