#pragma once
// Helpers for the config tests: hermetic load options and error capture.

#include <functional>
#include <map>
#include <string>

#include <doctest/doctest.h>

#include <scalectl/config/config.hpp>
#include <scalectl/error.hpp>

#include "scratch_dir.hpp"

namespace scalectl::test {

// Returns options that read only files under `dir` (system file dir/etc/scalectl/config.toml,
// home dir/home) and only the variables in `env`.
inline config::LoadOptions hermetic_options(const ScratchDir& dir, std::map<std::string, std::string> env = {})
{
  config::LoadOptions options;
  options.environment = std::move(env);
  options.system_file = dir.path() / "etc" / "scalectl" / "config.toml";
  options.home = dir.path() / "home";
  return options;
}

// Runs `action`, checks that it throws scalectl::Error with exit code `code`, and returns the
// message ("" when it did not throw).
inline std::string error_of(const std::function<void()>& action, ExitCode code = ExitCode::usage)
{
  try {
    action();
  } catch (const Error& error) {
    CHECK(to_int(error.code()) == to_int(code));
    return error.what();
  }
  FAIL_CHECK("expected scalectl::Error, nothing was thrown");
  return {};
}

}  // namespace scalectl::test
