#include "http_server/module_loader.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <expected>
#include <system_error>

#include <fmt/format.h>

#include <scalectl/error.hpp>

#include "util/dyn_library.hpp"

#ifndef SCALECTL_HTTP_MODULE_RELDIR
#define SCALECTL_HTTP_MODULE_RELDIR "../lib/scalectl"
#endif

namespace scalectl::http_server {

namespace {

constexpr std::size_t k_max_override_length = 4096;

// The directory of the running executable ("" when /proc/self/exe cannot be read).
std::filesystem::path executable_dir()
{
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

std::optional<std::string> override_from_env()
{
  // secure_getenv: a set-id process ignores the variable, as the dynamic loader does LD_PRELOAD.
  const char* value = ::secure_getenv(k_module_env);
  if (value == nullptr || value[0] == '\0') {
    return std::nullopt;
  }
  const std::string text(value);
  if (text.size() > k_max_override_length) {
    throw Error(ExitCode::usage, fmt::format("{} is longer than {} characters; give the path of scalectl-http.so",
                                             k_module_env, k_max_override_length));
  }
  return text;
}

std::string fix_text()
{
  return fmt::format("reinstall scalectl (the module ships in lib/scalectl/), or set {} to the path of {}",
                     k_module_env, k_module_file_name);
}

std::expected<ModuleCreateFn, std::string> open_module()
{
  const auto candidates = module_candidates(executable_dir(), override_from_env());
  std::string tried;
  for (const auto& path : candidates) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      tried += tried.empty() ? path.string() : ", " + path.string();
      continue;
    }
    auto module = util::DynLibrary::open(path.c_str());
    if (!module) {
      return std::unexpected(fmt::format("cannot load the HTTP module {} ({}); {}", path.string(), module.error(),
                                         fix_text()));
    }
    ModuleAbiFn abi = nullptr;
    ModuleCreateFn create = nullptr;
    if (!module->resolve(k_module_abi_symbol, abi) || !module->resolve(k_module_create_symbol, create)) {
      return std::unexpected(fmt::format("{} is not a scalectl HTTP module (no {}); {}", path.string(),
                                         k_module_create_symbol, fix_text()));
    }
    if (const int found = abi(); found != k_module_abi_version) {
      return std::unexpected(fmt::format("the HTTP module {} has interface version {}, this scalectl needs {}; {}",
                                         path.string(), found, k_module_abi_version, fix_text()));
    }
    // Never unloaded from here on: its servers and threads live until the process ends.
    module->keep();
    return create;
  }
  return std::unexpected(
    fmt::format("--listen needs the HTTP module {}, which is not there (looked for {}); {}", k_module_file_name,
                tried.empty() ? std::string("nothing") : tried, fix_text()));
}

}  // namespace

std::vector<std::filesystem::path> module_candidates(const std::filesystem::path& exe_dir,
                                                     const std::optional<std::string>& override_path)
{
  if (override_path) {
    return {std::filesystem::path(*override_path)};
  }
  if (exe_dir.empty()) {
    return {};
  }
  return {exe_dir / k_module_file_name,
          (exe_dir / SCALECTL_HTTP_MODULE_RELDIR / k_module_file_name).lexically_normal()};
}

ModuleCreateFn http_module()
{
  static const std::expected<ModuleCreateFn, std::string> loaded = open_module();
  if (!loaded) {
    throw Error(ExitCode::failure, loaded.error());
  }
  return *loaded;
}

}  // namespace scalectl::http_server
