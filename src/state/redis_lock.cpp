#include "state/redis_lock.hpp"

#include <scalectl/error.hpp>

namespace scalectl::state {

RedisOperationLock::RedisOperationLock(std::shared_ptr<RedisSession> session, std::string key, std::string value,
                                       std::chrono::milliseconds ttl)
    : m_session(std::move(session)),
      m_key(std::move(key)),
      m_value(std::move(value)),
      m_ttl(ttl),
      m_renewer([this](std::stop_token stop) { renew_loop(std::move(stop)); })
{
}

RedisOperationLock::~RedisOperationLock()
{
  m_renewer.request_stop();
  if (m_renewer.joinable()) {
    m_renewer.join();
  }
  if (m_lost) {
    return;
  }
  try {
    const std::string_view keys[] = {m_key};
    const std::string_view args[] = {m_value};
    m_session->with([&](RedisConnection& connection) {
      return connection.eval(lock_release_script(), keys, args, "releasing a lock");
    });
  } catch (const std::exception&) {
    // The key expires on its own after the TTL; nothing better to do in a destructor.
  }
}

long long RedisOperationLock::extend()
{
  const std::string ttl = std::to_string(m_ttl.count());
  const std::string_view keys[] = {m_key};
  const std::string_view args[] = {m_value, ttl};
  const auto reply = m_session->with([&](RedisConnection& connection) {
    return connection.eval(lock_renew_script(), keys, args, "extending a lock");
  });
  const long long result = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
  if (result == 0) {
    m_lost = true;
  }
  return result;
}

bool RedisOperationLock::still_held()
{
  if (m_lost) {
    return false;
  }
  try {
    return extend() == 1;
  } catch (const Error&) {
    return false;
  }
}

void RedisOperationLock::renew_loop(std::stop_token stop)
{
  const auto interval = std::max(m_ttl / 3, std::chrono::milliseconds(1));
  std::unique_lock lock(m_mutex);
  while (!m_lost) {
    m_wake.wait_for(lock, stop, interval, [] { return false; });
    if (stop.stop_requested()) {
      return;
    }
    lock.unlock();
    try {
      extend();
    } catch (const std::exception&) {
      // Redis unreachable for now: retry at the next tick; still_held() reports the loss.
    }
    lock.lock();
  }
}

}  // namespace scalectl::state
