#pragma once
// Captures the scalectl::Error a call throws, for checking its exit code and message.

#include <string>
#include <utility>

#include <scalectl/error.hpp>

namespace scalectl::test {

// Returns the exit code and message of the Error thrown by fn(), or {-1, ""} if none was thrown.
template <class Fn>
std::pair<int, std::string> error_of(Fn&& fn)
{
  try {
    fn();
  } catch (const Error& e) {
    return {to_int(e.code()), e.what()};
  }
  return {-1, ""};
}

}  // namespace scalectl::test
