#pragma once
// The file backend: one JSON state file changed under flock with atomic renames, one lock file
// per operation lock and one JSON-lines file per log, all inside a private state directory.
//
//   <dir>/state.json         {"version":1, "records":{key: value}, "pools":{pool: {"workers":{id: lease}}}}
//   <dir>/state.lock         flock'ed around every read-modify-write of state.json; never deleted
//   <dir>/locks/<res>.lock   one per operation lock; holds the holder's JSON; never deleted
//   <dir>/logs/<name>.jsonl  append-only, one JSON entry per line

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/state/store.hpp>

#include "state/unique_fd.hpp"

namespace scalectl::state {

// Returns the state document `text` read from `path`; throws Error(failure) naming `path` if it is
// not JSON, has the wrong shape, or a format version that is not an integer or is too new.
nlohmann::json parse_state_document(std::string_view text, const std::string& path);

class FileStore final : public Store {
 public:
  // Opens the state directory `dir`, creating it with mode 0700; throws Error(usage) if it is a
  // symlink, owned by another user, writable by group or others, or on a network filesystem.
  FileStore(const std::filesystem::path& dir, Clock& clock);

  std::string describe() const override;

  std::unique_ptr<OperationLock> lock(std::string_view resource, const LockOwner& me,
                                      std::chrono::milliseconds wait) override;
  std::optional<LockOwner> lock_holder(std::string_view resource) override;

  std::optional<nlohmann::json> get(std::string_view key) override;
  nlohmann::json update(std::string_view key,
                        const std::function<nlohmann::json(const std::optional<nlohmann::json>&)>& fn) override;

  void append(std::string_view name, const nlohmann::json& entry) override;
  std::vector<nlohmann::json> read_log(std::string_view name, std::int64_t since_ms) override;

  AllocateResult allocate(const AllocateRequest& request) override;
  RenewResult renew(std::string_view pool, std::string_view id, std::chrono::milliseconds ttl) override;
  RenewResult persist(std::string_view pool, std::string_view id) override;
  ReleaseResult release(std::string_view pool, std::string_view id) override;
  std::vector<Lease> purge(std::string_view pool) override;
  PoolSnapshot snapshot(std::string_view pool) override;
  bool leave_queue(std::string_view pool, std::string_view id) override;

 private:
  // Returns the parsed state file ({} when missing); throws Error(failure) if it is corrupt.
  nlohmann::json read_state() const;
  // Atomically replaces the state file with `doc`; the caller holds state.lock.
  void write_state(const nlohmann::json& doc);
  // Removes temp files left by writers that died; the caller holds state.lock.
  void remove_stale_temps();
  // Runs fn(doc) under state.lock and writes the document back if fn changed it.
  template <class Fn>
  auto modify(Fn&& fn);
  // Renews lease `id` of `pool` for `ttl` (zero: no expiry) under state.lock; names checked by the caller.
  RenewResult renew_lease(std::string_view pool, std::string_view id, std::chrono::milliseconds ttl);
  std::string state_path() const;
  std::int64_t now_ms() const;

  std::filesystem::path m_dir;
  Clock& m_clock;
  UniqueFd m_dir_fd;
  UniqueFd m_locks_fd;
  UniqueFd m_logs_fd;
};

}  // namespace scalectl::state
