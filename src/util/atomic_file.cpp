#include <scalectl/atomic_file.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <fmt/format.h>

#include <scalectl/error.hpp>

namespace scalectl {

namespace {

Error file_error(const char* what, const std::filesystem::path& path)
{
  return Error(fmt::format("cannot {} {}: {}; check that the directory exists and is writable", what, path.string(),
                           std::strerror(errno)));
}

}  // namespace

void replace_file(const std::filesystem::path& path, std::string_view text, mode_t mode)
{
  // Never rename over a device, FIFO, socket, directory or symlink: as root that would replace
  // /dev/full or a link's target with a regular file.
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode)) {
    const char* kind = S_ISLNK(existing.st_mode)    ? "a symbolic link"
                       : S_ISCHR(existing.st_mode)  ? "a character device"
                       : S_ISBLK(existing.st_mode)  ? "a block device"
                       : S_ISFIFO(existing.st_mode) ? "a FIFO"
                       : S_ISDIR(existing.st_mode)  ? "a directory"
                       : S_ISSOCK(existing.st_mode) ? "a socket"
                                                    : "not a regular file";
    throw Error(ExitCode::usage, fmt::format("refusing to write {}: it is {}, not a regular file; pick a path that "
                                             "does not exist or is a regular file",
                                             path.string(), kind));
  }
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string temp = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    throw file_error("create a temporary file next to", path);
  }
  bool open = true;
  try {
    if (::fchmod(fd, mode) != 0) {
      throw file_error("set the mode of", temp);
    }
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        throw file_error("write", temp);
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
      throw file_error("sync", temp);
    }
    open = false;
    if (::close(fd) != 0) {
      throw file_error("write", temp);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      throw file_error("rename a temporary file onto", path);
    }
  } catch (...) {
    if (open) {
      ::close(fd);
    }
    ::unlink(temp.c_str());
    throw;
  }
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace scalectl
