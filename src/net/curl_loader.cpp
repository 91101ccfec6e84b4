#include "net/curl_loader.hpp"

#include <dlfcn.h>

#include <fmt/format.h>

#include <scalectl/error.hpp>

namespace scalectl::net {

namespace {

std::string dl_error_text()
{
  const char* text = ::dlerror();
  return text != nullptr ? text : "unknown dynamic loader error";
}

std::string load_failure(const char* soname, const std::string& reason)
{
  return fmt::format("cannot load {} ({}); install the libcurl4 package", soname, reason);
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

std::expected<CurlApi, std::string> open_curl(const char* soname)
{
  void* library = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    return std::unexpected(load_failure(soname, dl_error_text()));
  }
  CurlApi api;
  const bool all = resolve(library, "curl_global_init", api.global_init) &&
                   resolve(library, "curl_easy_init", api.easy_init) &&
                   resolve(library, "curl_easy_reset", api.easy_reset) &&
                   resolve(library, "curl_easy_setopt", api.easy_setopt) &&
                   resolve(library, "curl_easy_perform", api.easy_perform) &&
                   resolve(library, "curl_easy_getinfo", api.easy_getinfo) &&
                   resolve(library, "curl_easy_cleanup", api.easy_cleanup) &&
                   resolve(library, "curl_easy_strerror", api.easy_strerror) &&
                   resolve(library, "curl_slist_append", api.slist_append) &&
                   resolve(library, "curl_slist_free_all", api.slist_free_all);
  if (!all) {
    std::string reason = dl_error_text();
    ::dlclose(library);
    return std::unexpected(load_failure(soname, reason));
  }
  const CURLcode init = api.global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) {
    // The library stays mapped: after a partial global init, unloading it is not safe.
    return std::unexpected(load_failure(soname, fmt::format("curl_global_init failed: {}", api.easy_strerror(init))));
  }
  return api;
}

const CurlApi& curl_api()
{
  // Loaded once and never dlclose()d: libcurl and its TLS backend keep process-wide state.
  static const std::expected<CurlApi, std::string> loaded = open_curl(k_libcurl_soname);
  if (!loaded) {
    throw Error(ExitCode::failure, loaded.error());
  }
  return *loaded;
}

}  // namespace scalectl::net
