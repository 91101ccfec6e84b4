#include <scalectl/ops/result.hpp>

namespace scalectl::ops {

std::string to_string(Result result)
{
  switch (result) {
  case Result::changed:
    return "changed";
  case Result::noop:
    return "noop";
  case Result::dry_run:
    return "dry_run";
  case Result::submitted:
    return "submitted";
  case Result::powered_on:
    return "powered_on";
  }
  return "unknown";
}

std::string event_result(Result result)
{
  switch (result) {
  case Result::changed:
  case Result::powered_on:
    return "ok";
  case Result::noop:
  case Result::dry_run:
  case Result::submitted:
    return to_string(result);
  }
  return "unknown";
}

}  // namespace scalectl::ops
