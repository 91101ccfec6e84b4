#pragma once
// Droplet operations: resolve, status, and the resize driver that walks the pure state machine
// of core/resize.hpp against the real API, under the per-droplet operation lock.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <scalectl/core/cost.hpp>
#include <scalectl/digitalocean/client.hpp>
#include <scalectl/error.hpp>
#include <scalectl/ops/droplet_record.hpp>
#include <scalectl/ops/result.hpp>
#include <scalectl/state/store.hpp>

namespace scalectl {
class Clock;
class Reporter;
class ProcessRunner;
namespace net {
class Transport;
}
}  // namespace scalectl

namespace scalectl::ops {

// The adapters a droplet operation uses. All are owned by the caller.
struct DropletDeps {
  digitalocean::Api& api;
  std::function<state::Store&()> store;  // opened only when asked for (status works without it)
  Clock& clock;
  Reporter& reporter;
  ProcessRunner& processes;
  state::LockOwner owner;
};

// How to tell whether scalectl runs on the droplet it would power off.
struct SelfCheckOptions {
  std::string dmi_path = "/sys/class/dmi/id/sys_vendor";
  std::string metadata_url = "http://169.254.169.254/metadata/v1/id";
  std::chrono::milliseconds metadata_timeout{2'000};
};

// Returns this machine's droplet id when it runs on DigitalOcean, nullopt when it does not.
// Off DigitalOcean (DMI vendor is not "DigitalOcean") it sends no network traffic at all.
// Throws Error(refused) when on DigitalOcean but the metadata service gives no usable id.
std::optional<std::int64_t> detect_own_droplet(const SelfCheckOptions& options);

// Returns the droplet id for `spec`: digits are an id, anything else a unique droplet name.
std::int64_t resolve_droplet(digitalocean::Api& api, const std::string& spec);

struct ResizeOptions {
  std::string direction = "resize";  // "up", "down" or "resize": used in messages and records
  std::string target_size;
  bool resize_disk = false;
  bool dry_run = false;
  bool no_wait = false;
  bool force = false;       // skip the busy guards of `down`
  bool allow_self = false;  // allow resizing the droplet scalectl runs on
  bool check_busy = false;  // run busy_check and the lease guard (for `down`)
  std::string busy_check;   // shell command: exit 0 means "busy, do not scale down"
  std::string after_hook;   // shell command run after a successful resize
  std::string capacity_pool;  // live leases in this pool make `down` refuse ("" = no check)
  SelfCheckOptions self_check;
  std::chrono::milliseconds wait_lock{0};
  std::chrono::milliseconds shutdown_timeout{120'000};
  std::chrono::milliseconds action_timeout{600'000};
  std::chrono::milliseconds total_timeout{1'800'000};
  std::chrono::milliseconds poll_min{500};   // polling interval for the first 5 s of a wait
  std::chrono::milliseconds poll_max{2'000}; // slowest poll, reached after 2 minutes
};

// What a resize did; printed as text or as the stable JSON object of `droplet up -o json`.
struct ResizeReport {
  std::int64_t droplet_id = 0;
  std::string droplet_name;
  std::string direction;
  Result result = Result::noop;  // changed (resized), noop, powered_on, submitted, dry_run
  std::string from_size;
  std::string to_size;
  std::string status;  // droplet status at the end
  std::int64_t memory_before_mb = 0;
  std::int64_t memory_after_mb = 0;
  bool resize_disk = false;
  std::vector<digitalocean::Action> actions;  // submitted by this run
  std::vector<std::string> planned;           // dry run: the actions it would submit
  std::chrono::milliseconds duration{0};
  int api_requests = 0;
  digitalocean::Droplet droplet_after;  // the droplet as last observed (size, memory, vCPUs, price)

  nlohmann::json to_json() const;
};

// Resizes the droplet to options.target_size and leaves it active. Idempotent: at the target
// and active it does nothing; an in-progress action is waited for, not repeated. Throws
// Error(refused) for a guard, Error(lock_held) when another run holds the lock,
// Error(timeout) past total_timeout and Interrupted on a signal, each saying the
// droplet's state and how to resume.
ResizeReport resize_droplet(DropletDeps& deps, std::int64_t droplet_id, const ResizeOptions& options);

// The resize driver's failure when the API refused the target size: it answered the resize with
// HTTP `status` and error id `api_id` twice from an off, unlocked droplet (power was restored).
class ResizeRefused : public Error {
 public:
  ResizeRefused(long status, std::string api_id, std::string size, const std::string& message)
      : Error(ExitCode::failure, message), m_status(status), m_api_id(std::move(api_id)), m_size(std::move(size))
  {
  }
  long status() const noexcept { return m_status; }
  const std::string& api_id() const noexcept { return m_api_id; }
  const std::string& size() const noexcept { return m_size; }
  // Returns the same refusal with `message` as its text.
  ResizeRefused with_message(const std::string& message) const { return {m_status, m_api_id, m_size, message}; }

 private:
  long m_status;
  std::string m_api_id;
  std::string m_size;
};

// Returns true when `e` says the API refused a size as unprocessable (a fallback size may fit),
// decided by the answer's status and error id, never by the message text.
bool size_refused(const std::exception& e) noexcept;

// What `droplet status` shows: the droplet, its running action, scalectl's record and lock.
struct DropletStatusReport {
  digitalocean::Droplet droplet;
  std::optional<digitalocean::Action> in_progress;  // the running action while the droplet is locked
  std::optional<DropletOperation> last_operation;
  std::optional<DiskResized> disk_resized;
  nlohmann::json lock;      // the lock holder (ops/lock_holder.hpp), or null
  std::string state_error;  // "" unless scalectl's state could not be read

  nlohmann::json to_json() const;
};

// Returns the status of the droplet `spec` (id or unique name). A state store that cannot be read
// is reported in state_error, not thrown.
DropletStatusReport droplet_status(DropletDeps& deps, const std::string& spec);

// Returns the droplet id for `spec` as resolve_droplet does, with the usage message of the CLI.
std::int64_t selected_droplet(digitalocean::Api& api, const std::optional<std::string>& spec);

// What `droplet cost` needs: which droplet, the window and the size it is compared with.
struct DropletCostOptions {
  std::string droplet;  // id or unique name
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  std::string baseline_size;  // [droplet] up_size: the cost of staying there all the time
};

// The droplet and its cost over the window, from the `droplet-resizes` log and GET /v2/sizes.
struct DropletCostReport {
  digitalocean::Droplet droplet;
  core::CostReport cost;
};

// Returns the cost of the droplet over the window (see core::compute_cost).
DropletCostReport droplet_cost(DropletDeps& deps, const DropletCostOptions& options);

// The state-store key of a droplet's record ("droplet-<id>").
std::string droplet_record_key(std::int64_t droplet_id);
// The lock resource name of a droplet ("droplet-<id>").
std::string droplet_lock_resource(std::int64_t droplet_id);

}  // namespace scalectl::ops
