#pragma once
// Finds and loads scalectl-http.so, the HTTP module of `autoscale run --listen`, the way
// net/curl_loader loads libcurl: on first use, once per process, never unloaded.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "http_server/module_abi.hpp"

namespace scalectl::http_server {

// The environment variable that names the module file, overriding the search (tests, odd layouts).
inline constexpr const char* k_module_env = "SCALECTL_HTTP_MODULE";

// Returns where to look for the module, in order: `override_path` alone when given; otherwise
// beside the executable in `exe_dir` (a build tree), then `exe_dir`/../lib/scalectl (installed).
std::vector<std::filesystem::path> module_candidates(const std::filesystem::path& exe_dir,
                                                     const std::optional<std::string>& override_path);

// Returns the module's factory, loading it on the first call. Throws Error(failure) with one
// line naming the paths tried, the loader's reason and the fix, when it is missing or unusable.
ModuleCreateFn http_module();

}  // namespace scalectl::http_server
