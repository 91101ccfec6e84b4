#pragma once
// An operation lock in Redis: SET key value NX PX ttl, where the value (owner JSON plus a random
// token) identifies this holder. A thread extends it every ttl/3 while it is held, and both the
// extension and the release compare the value first, so a process never extends or frees a lock
// that expired and was taken by someone else.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include <scalectl/state/store.hpp>

#include "state/redis_connection.hpp"

namespace scalectl::state {

class RedisOperationLock final : public OperationLock {
 public:
  // Takes over a lock already set to `value` under `key` and starts renewing it.
  RedisOperationLock(std::shared_ptr<RedisSession> session, std::string key, std::string value,
                     std::chrono::milliseconds ttl);
  // Stops renewing and deletes the key if it still holds our value.
  ~RedisOperationLock() override;

  // Extends the lock now; returns false if it is no longer ours or Redis cannot confirm it.
  bool still_held() override;

 private:
  // Returns 1 if extended, 0 if not ours; throws Error(failure) if Redis cannot be reached.
  long long extend();
  void renew_loop(std::stop_token stop);

  std::shared_ptr<RedisSession> m_session;
  std::string m_key;
  std::string m_value;
  std::chrono::milliseconds m_ttl;
  std::atomic<bool> m_lost{false};
  std::mutex m_mutex;
  std::condition_variable_any m_wake;
  std::jthread m_renewer;  // last: started once everything above exists
};

}  // namespace scalectl::state
