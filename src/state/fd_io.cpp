#include "state/fd_io.hpp"

#include <sys/stat.h>
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

std::string read_all(int fd, const std::string& display, std::size_t max_bytes)
{
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    throw Error(fmt::format("cannot stat {}: {}; check its permissions", display, errno_text()));
  }
  if (!S_ISREG(info.st_mode)) {
    throw Error(fmt::format("{} is not a regular file; move it aside (scalectl only reads regular files there)",
                            display));
  }
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
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      throw Error(fmt::format("{} is larger than {} MiB; inspect it and move it aside", display, max_bytes >> 20));
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
