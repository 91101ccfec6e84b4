#include "state/store_common.hpp"
#include <scalectl/core/numeric.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/duration.hpp>
#include <scalectl/interrupt.hpp>

#include "state/unique_fd.hpp"
#include "util/sha1.hpp"

namespace scalectl::state {

namespace {

constexpr std::size_t k_max_name_bytes = 200;
constexpr std::size_t k_max_file_component = 200;  // plus ".lock" / ".jsonl" stays under NAME_MAX (255)
constexpr std::chrono::milliseconds k_lock_poll{100};
// A wait of zero still retries briefly, so a concurrent lock_holder() probe (which takes the
// file lock for an instant) is not mistaken for a holder.
constexpr std::chrono::milliseconds k_min_lock_wait{50};

bool is_plain_file_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

}  // namespace

void check_name(std::string_view what, std::string_view name)
{
  if (name.empty()) {
    throw usage_error(fmt::format("{} must not be empty", what));
  }
  if (name.size() > k_max_name_bytes) {
    throw usage_error(fmt::format("{} is {} bytes long; use at most {}", what, name.size(), k_max_name_bytes));
  }
  for (const char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      throw usage_error(fmt::format("{} contains a control character; use printable characters only", what));
    }
  }
}

std::string file_component(std::string_view name)
{
  std::string out;
  out.reserve(name.size());
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (is_plain_file_char(c) && !(i == 0 && c == '.')) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  if (out.size() > k_max_file_component) {
    // Escaping can triple a name; keep file names under NAME_MAX with a digest of the full name.
    out = fmt::format("{}~{}", std::string_view(out).substr(0, k_max_file_component - 41), util::sha1_hex(name));
  }
  return out;
}

LockOwner complete_owner(const LockOwner& me)
{
  LockOwner owner = me;
  if (owner.pid == 0) {
    owner.pid = static_cast<long>(::getpid());
  }
  if (owner.host.empty()) {
    char host[HOST_NAME_MAX + 1] = {};
    if (::gethostname(host, sizeof host - 1) == 0) {
      owner.host = host;
    }
  }
  return owner;
}

std::int64_t unix_ms(SystemTime t)
{
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Error lock_held_error(std::string_view resource, const std::optional<LockOwner>& holder, SystemTime now)
{
  constexpr std::string_view k_advice = "rerun later or pass --wait-lock DURATION";
  if (!holder || (holder->pid == 0 && holder->host.empty())) {
    return Error(ExitCode::lock_held,
                 fmt::format("{} is locked by another scalectl (holder not known yet); {}", resource, k_advice));
  }
  std::string text = fmt::format("{} is locked by pid {} on host {}", resource, holder->pid,
                                 holder->host.empty() ? "?" : holder->host);
  if (!holder->command.empty()) {
    text += fmt::format(" ({})", holder->command);
  }
  if (holder->since_ms > 0) {
    const SystemTime since{std::chrono::milliseconds(holder->since_ms)};
    const auto ago = std::chrono::duration_cast<std::chrono::seconds>(now - since);
    const std::string ago_text =
        ago.count() <= 0 ? "0s" : format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(ago));
    text += fmt::format(", since {} ({} ago)", format_rfc3339(since), ago_text);
  }
  text += fmt::format("; {}", k_advice);
  return Error(ExitCode::lock_held, text);
}

std::unique_ptr<OperationLock> wait_for_lock(std::string_view resource, std::chrono::milliseconds wait, Clock& clock,
                                             const std::function<std::unique_ptr<OperationLock>()>& try_once,
                                             const std::function<std::optional<LockOwner>()>& holder)
{
  const auto deadline = clock.monotonic() + std::max(wait, k_min_lock_wait);
  for (;;) {
    throw_if_interrupted("waiting for a lock");
    if (auto lock = try_once()) {
      return lock;
    }
    const auto left = deadline - clock.monotonic();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      break;
    }
    const auto poll = wait < k_min_lock_wait ? std::chrono::milliseconds(10) : k_lock_poll;
    clock.sleep_for(std::min(poll, std::chrono::duration_cast<std::chrono::milliseconds>(left) +
                                       std::chrono::milliseconds(1)));
  }
  auto owner = holder();
  if (!owner) {
    // Freed between the last attempt and the probe: one more try before giving up.
    if (auto lock = try_once()) {
      return lock;
    }
  }
  throw lock_held_error(resource, owner, clock.now());
}

std::int64_t log_entry_time(const nlohmann::json& entry)
{
  if (!entry.is_object()) {
    return 0;
  }
  const auto it = entry.find("time_ms");
  if (it == entry.end() || !it->is_number()) {
    return 0;
  }
  if (it->is_number_float()) {
    return core::clamp_to_int64(it->get<double>(), -core::k_max_amount, core::k_max_amount);
  }
  return it->get<std::int64_t>();
}

std::string random_token()
{
  UniqueFd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
  unsigned char bytes[16];
  std::size_t got = 0;
  while (fd && got < sizeof bytes) {
    const ssize_t n = ::read(fd.get(), bytes + got, sizeof bytes - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  if (got != sizeof bytes) {
    throw Error(fmt::format("cannot read /dev/urandom for a lock token: {}; check that /dev is mounted",
                            std::strerror(errno)));
  }
  std::string hex;
  for (const unsigned char b : bytes) {
    hex += fmt::format("{:02x}", b);
  }
  return hex;
}

void check_ttl(std::chrono::milliseconds ttl)
{
  if (ttl <= std::chrono::milliseconds::zero()) {
    throw usage_error(fmt::format("lease TTL must be positive, got {}", format_duration(ttl)));
  }
}

void check_allocate_request(const AllocateRequest& request)
{
  check_name("pool name", request.pool);
  check_name("lease id", request.lease.id);
  const auto need = request.lease.resources;
  if (need.millicores < 0 || need.mib < 0) {
    throw usage_error(fmt::format("lease {} asks for negative resources ({} vCPU, {} GB); use amounts >= 0",
                                  request.lease.id, core::format_vcpus(need.millicores), core::format_gb(need.mib)));
  }
  if (request.ttl) {
    check_ttl(*request.ttl);
  }
  if (request.priority < 1 || request.priority > 10) {
    throw usage_error(fmt::format("lease {} has priority {}; use 1 to 10", request.lease.id, request.priority));
  }
  if (request.queue_ttl && (request.queue_ttl->count() <= 0 || *request.queue_ttl > std::chrono::hours(24))) {
    throw usage_error(fmt::format("the waiter heartbeat TTL of {} must be from 1ms to 24h", request.lease.id));
  }
}

core::FitResult fit_against(core::Resources usable, core::Resources allocated, core::Resources need,
                            bool already_held)
{
  if (already_held) {
    return core::check_fit(usable, allocated - need, need);
  }
  return core::check_fit(usable, allocated, need);
}

}  // namespace scalectl::state
