#include "net/curl_loader.hpp"

#include <fmt/format.h>

#include <scalectl/error.hpp>

#include "util/dyn_library.hpp"

namespace scalectl::net {

namespace {

std::string load_failure(const char* soname, const std::string& reason)
{
  return fmt::format("cannot load {} ({}); install the libcurl4 package", soname, reason);
}

}  // namespace

std::expected<CurlApi, std::string> open_curl(const char* soname)
{
  auto library = util::DynLibrary::open(soname);
  if (!library) {
    return std::unexpected(load_failure(soname, library.error()));
  }
  CurlApi api;
  const bool all = library->resolve("curl_global_init", api.global_init) &&
                   library->resolve("curl_easy_init", api.easy_init) &&
                   library->resolve("curl_easy_reset", api.easy_reset) &&
                   library->resolve("curl_easy_setopt", api.easy_setopt) &&
                   library->resolve("curl_easy_perform", api.easy_perform) &&
                   library->resolve("curl_easy_getinfo", api.easy_getinfo) &&
                   library->resolve("curl_easy_cleanup", api.easy_cleanup) &&
                   library->resolve("curl_easy_strerror", api.easy_strerror) &&
                   library->resolve("curl_slist_append", api.slist_append) &&
                   library->resolve("curl_slist_free_all", api.slist_free_all);
  if (!all) {
    return std::unexpected(load_failure(soname, util::DynLibrary::last_error()));
  }
  // Kept from here on: libcurl and its TLS backend keep process-wide state, and after a partial
  // global init unloading it is not safe either.
  library->keep();
  const CURLcode init = api.global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) {
    return std::unexpected(load_failure(soname, fmt::format("curl_global_init failed: {}", api.easy_strerror(init))));
  }
  return api;
}

const CurlApi& curl_api()
{
  // Loaded once and never unloaded.
  static const std::expected<CurlApi, std::string> loaded = open_curl(k_libcurl_soname);
  if (!loaded) {
    throw Error(ExitCode::failure, loaded.error());
  }
  return *loaded;
}

}  // namespace scalectl::net
