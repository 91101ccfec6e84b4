#include "state/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/error.hpp>
#include <scalectl/interrupt.hpp>

#include "state/fd_io.hpp"
#include "state/lease_json.hpp"

namespace scalectl::state {

namespace {

constexpr int k_open_attempts = 3;
constexpr int k_holder_read_attempts = 20;

// Returns true if `fd` is still the file that `name` in `dir_fd` refers to.
bool same_file(int fd, int dir_fd, const std::string& name)
{
  struct stat by_fd{};
  struct stat by_name{};
  if (::fstat(fd, &by_fd) != 0 || ::fstatat(dir_fd, name.c_str(), &by_name, AT_SYMLINK_NOFOLLOW) != 0) {
    return false;
  }
  return by_fd.st_dev == by_name.st_dev && by_fd.st_ino == by_name.st_ino;
}

// Returns 0 if the non-blocking flock was taken, EWOULDBLOCK if it is held elsewhere, else errno.
int try_flock(int fd, int operation)
{
  for (;;) {
    if (::flock(fd, operation | LOCK_NB) == 0) {
      return 0;
    }
    if (errno != EINTR) {
      return errno == EAGAIN ? EWOULDBLOCK : errno;
    }
  }
}

}  // namespace

FlockGuard lock_file_exclusive(int dir_fd, const std::string& name, const std::string& display,
                               std::chrono::milliseconds timeout)
{
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) {
    throw Error(fmt::format("cannot open lock file {}: {}; check the permissions of the state directory", display,
                            errno_text()));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    const int rc = try_flock(fd.get(), LOCK_EX);
    if (rc == 0) {
      return FlockGuard(std::move(fd));
    }
    if (rc != EWOULDBLOCK) {
      throw Error(fmt::format("cannot lock {}: {}; check the filesystem", display, std::strerror(rc)));
    }
    throw_if_interrupted("waiting for the state file lock");
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Error(fmt::format("{} stayed locked by another process for {}s; check for a hung scalectl "
                              "(fuser {}) and rerun",
                              display, std::chrono::duration_cast<std::chrono::seconds>(timeout).count(), display));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20'000));
  }
}

void flock_blocking(int fd, int operation, const std::string& display)
{
  while (::flock(fd, operation) != 0) {
    if (errno != EINTR) {
      throw Error(fmt::format("cannot lock {}: {}; check the filesystem", display, errno_text()));
    }
    throw_if_interrupted("waiting for a file lock");
  }
}

FileOperationLock::FileOperationLock(UniqueFd fd, int locks_dir_fd, std::string file_name)
    : m_fd(std::move(fd)), m_locks_dir_fd(::fcntl(locks_dir_fd, F_DUPFD_CLOEXEC, 0)), m_file_name(std::move(file_name))
{
}

bool FileOperationLock::still_held()
{
  return m_locks_dir_fd.get() >= 0 && same_file(m_fd.get(), m_locks_dir_fd.get(), m_file_name);
}

std::unique_ptr<OperationLock> try_lock_operation(int locks_dir_fd, const std::string& file_name, const LockOwner& me,
                                                  const std::string& display)
{
  for (int attempt = 0; attempt < k_open_attempts; ++attempt) {
    UniqueFd fd(::openat(locks_dir_fd, file_name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) {
      throw Error(fmt::format("cannot open lock file {}: {}; check the permissions of the state directory",
                              display, errno_text()));
    }
    const int rc = try_flock(fd.get(), LOCK_EX);
    if (rc == EWOULDBLOCK) {
      return nullptr;
    }
    if (rc != 0) {
      throw Error(fmt::format("cannot lock {}: {}; check the filesystem", display, std::strerror(rc)));
    }
    if (!same_file(fd.get(), locks_dir_fd, file_name)) {
      continue;  // deleted or replaced behind our back: lock the file that is there now
    }
    const std::string text = owner_to_json(me).dump() + "\n";
    if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), text.data(), text.size(), 0) < 0) {
      throw Error(fmt::format("cannot record the lock holder in {}: {}; check free space", display, errno_text()));
    }
    sync_fd(fd.get(), display);
    return std::make_unique<FileOperationLock>(std::move(fd), locks_dir_fd, file_name);
  }
  return nullptr;
}

std::optional<LockOwner> probe_operation_lock(int locks_dir_fd, const std::string& file_name,
                                              const std::string& display)
{
  UniqueFd fd(::openat(locks_dir_fd, file_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    throw Error(fmt::format("cannot open lock file {}: {}; check the permissions of the state directory", display,
                            errno_text()));
  }
  const int rc = try_flock(fd.get(), LOCK_SH);
  if (rc == 0) {
    ::flock(fd.get(), LOCK_UN);
    return std::nullopt;
  }
  if (rc != EWOULDBLOCK) {
    throw Error(fmt::format("cannot probe lock {}: {}; check the filesystem", display, std::strerror(rc)));
  }
  // Held. The holder writes its details right after taking the lock; give it a moment.
  for (int attempt = 0; attempt < k_holder_read_attempts; ++attempt) {
    const auto value = nlohmann::json::parse(read_all(fd.get(), display, std::size_t{64} << 10), nullptr, false);
    if (!value.is_discarded()) {
      if (auto owner = owner_from_json(value)) {
        return *owner;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return LockOwner{};
}

}  // namespace scalectl::state
