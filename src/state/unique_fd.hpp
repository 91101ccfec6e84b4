#pragma once
// An owned POSIX file descriptor.

#include <unistd.h>

#include <utility>

namespace scalectl::state {

// Owns a file descriptor and closes it on destruction; -1 means none.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : m_fd(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept
  {
    if (this != &other) {
      reset(std::exchange(other.m_fd, -1));
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  // Returns the descriptor, or -1.
  int get() const noexcept { return m_fd; }
  // Returns true when a descriptor is held.
  explicit operator bool() const noexcept { return m_fd >= 0; }
  // Gives up ownership and returns the descriptor.
  int release() noexcept { return std::exchange(m_fd, -1); }
  // Closes the held descriptor (if any) and takes `fd`.
  void reset(int fd = -1) noexcept
  {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = fd;
  }

 private:
  int m_fd = -1;
};

}  // namespace scalectl::state
