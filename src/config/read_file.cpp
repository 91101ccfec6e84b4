#include "read_file.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <scalectl/error.hpp>

namespace scalectl::config::detail {

namespace {

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd()
  {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  int get() const { return m_fd; }

 private:
  int m_fd;
};

[[noreturn]] void fail(const std::filesystem::path& path, std::string_view what, int error)
{
  throw usage_error(fmt::format("cannot read {} {}: {}", what, path.string(), std::strerror(error)));
}

}  // namespace

std::optional<FileText> read_regular_file(const std::filesystem::path& path, std::string_view what,
                                          std::size_t max_bytes)
{
  // O_NONBLOCK: opening a FIFO named by mistake must not hang; regular files ignore it.
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return std::nullopt;
    }
    fail(path, what, errno);
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    fail(path, what, errno);
  }
  if (!S_ISREG(info.st_mode)) {
    throw usage_error(fmt::format("{} {} is not a regular file; point it at a file", what, path.string()));
  }
  const auto too_big = [&] {
    return usage_error(fmt::format("{} {} is larger than {} bytes; point it at the right file", what, path.string(),
                                   max_bytes));
  };
  if (static_cast<std::uintmax_t>(info.st_size) > max_bytes) {
    throw too_big();
  }
  FileText file;
  file.mode = static_cast<unsigned>(info.st_mode) & 07777U;
  file.text.reserve(static_cast<std::size_t>(info.st_size));
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail(path, what, errno);
    }
    if (n == 0) {
      break;
    }
    file.text.append(buffer, static_cast<std::size_t>(n));
    if (file.text.size() > max_bytes) {
      throw too_big();  // it grew while being read
    }
  }
  return file;
}

std::string mode_text(unsigned mode)
{
  return fmt::format("{:04o}", mode & 07777U);
}

}  // namespace scalectl::config::detail
