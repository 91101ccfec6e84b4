#include "state/fd_io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include <scalectl/error.hpp>

namespace scalectl::state {

std::string errno_text()
{
  return std::strerror(errno);
}

void write_all(int fd, std::string_view data, const std::string& display)
{
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Error(fmt::format("cannot write {}: {}; check free space and permissions", display, errno_text()));
    }
    done += static_cast<std::size_t>(n);
  }
}

std::string read_all(int fd, const std::string& display)
{
  std::string out;
  char buffer[65536];
  off_t offset = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Error(fmt::format("cannot read {}: {}; check its permissions", display, errno_text()));
    }
    if (n == 0) {
      return out;
    }
    out.append(buffer, static_cast<std::size_t>(n));
    offset += n;
  }
}

void sync_fd(int fd, const std::string& display)
{
  if (::fsync(fd) != 0) {
    throw Error(fmt::format("cannot flush {} to disk: {}; check the filesystem", display, errno_text()));
  }
}

}  // namespace scalectl::state
