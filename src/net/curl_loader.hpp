#pragma once
// libcurl, loaded with dlopen() on first use. Only <curl/curl.h> types are used at build time, so the
// scalectl binary has no DT_NEEDED entry for libcurl and commands without HTTP never load it.

#include <expected>
#include <string>

#include <curl/curl.h>

namespace scalectl::net {

// The libcurl entry points scalectl calls, resolved with dlsym(). Types come from the real prototypes.
struct CurlApi {
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_reset) easy_reset = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
};

// The shared object the transport loads: the ABI-4 libcurl of the libcurl4 package.
inline constexpr const char* k_libcurl_soname = "libcurl.so.4";

// Opens `soname`, resolves every CurlApi symbol and runs curl_global_init; on failure returns a
// one-line message that names the library, the reason and the package to install.
std::expected<CurlApi, std::string> open_curl(const char* soname);

// Returns the process-wide libcurl, opening it on the first call (thread-safe, never unloaded);
// throws Error(failure) with open_curl()'s message if it cannot be loaded.
const CurlApi& curl_api();

}  // namespace scalectl::net
