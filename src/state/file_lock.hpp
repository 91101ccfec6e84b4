#pragma once
// flock(2)-based locks for the file backend. Lock files are never deleted: deleting one while
// another process waits on it would let two processes "hold" the same lock. flock locks belong
// to the open file description, so a second open() in the same process conflicts too.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <scalectl/state/store.hpp>

#include "state/unique_fd.hpp"

namespace scalectl::state {

// An exclusive or shared flock on an open file; released when destroyed.
class FlockGuard {
 public:
  FlockGuard() = default;
  explicit FlockGuard(UniqueFd fd) : m_fd(std::move(fd)) {}
  // Returns the locked descriptor.
  int fd() const noexcept { return m_fd.get(); }

 private:
  UniqueFd m_fd;
};

// Takes an exclusive flock on `name` inside `dir_fd` (created 0600 if missing), polling until
// `timeout`; throws Error(failure) naming `display` on timeout and Interrupted on a signal.
FlockGuard lock_file_exclusive(int dir_fd, const std::string& name, const std::string& display,
                               std::chrono::milliseconds timeout);

// Blocks until `fd` holds a flock of `operation` (LOCK_EX or LOCK_SH); throws Interrupted
// on SIGINT/SIGTERM and Error(failure) naming `display` on any other error.
void flock_blocking(int fd, int operation, const std::string& display);

// An operation lock held through flock on locks/<resource>.lock.
class FileOperationLock final : public OperationLock {
 public:
  FileOperationLock(UniqueFd fd, int locks_dir_fd, std::string file_name);
  // Returns false if the lock file was deleted or replaced, so another process may hold a new one.
  bool still_held() override;

 private:
  UniqueFd m_fd;
  UniqueFd m_locks_dir_fd;  // a duplicate, so the lock may outlive the store
  std::string m_file_name;
};

// Tries once to take the lock file `file_name` in `locks_dir_fd` and records `me` in it;
// returns nullptr if another open file description holds it.
std::unique_ptr<OperationLock> try_lock_operation(int locks_dir_fd, const std::string& file_name, const LockOwner& me,
                                                  const std::string& display);

// Returns the recorded holder of `file_name` if its flock is held right now, else nullopt.
std::optional<LockOwner> probe_operation_lock(int locks_dir_fd, const std::string& file_name,
                                              const std::string& display);

}  // namespace scalectl::state
