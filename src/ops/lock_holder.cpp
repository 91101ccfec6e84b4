#include <scalectl/ops/lock_holder.hpp>

#include <chrono>

#include <fmt/format.h>

#include <scalectl/clock.hpp>

namespace scalectl::ops {

namespace {

std::string since_text(const state::LockOwner& holder)
{
  return format_rfc3339(SystemTime(std::chrono::milliseconds(holder.since_ms)));
}

}  // namespace

nlohmann::json lock_holder_json(const std::optional<state::LockOwner>& holder)
{
  if (!holder) {
    return nullptr;
  }
  return {{"pid", holder->pid},
          {"host", holder->host},
          {"user", holder->user},
          {"command", holder->command},
          {"since", since_text(*holder)}};
}

std::string lock_holder_text(const nlohmann::json& holder)
{
  if (!holder.is_object()) {
    return "free";
  }
  const auto user = holder.value("user", "");
  return fmt::format("held by pid {} on {} by {} ({}) since {}", holder.value("pid", 0L), holder.value("host", ""),
                     user.empty() ? "unknown user" : user, holder.value("command", ""), holder.value("since", ""));
}

}  // namespace scalectl::ops
