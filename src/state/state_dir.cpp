#include "state/state_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include <scalectl/error.hpp>

#include "state/fd_io.hpp"

namespace scalectl::state {

namespace {

std::string octal_mode(mode_t mode)
{
  return fmt::format("{:04o}", mode & 07777);
}

}  // namespace

std::string network_filesystem_name(std::int64_t f_type)
{
  switch (static_cast<std::uint32_t>(f_type)) {
    case 0x6969U:
      return "NFS";
    case 0x517BU:
      return "SMB";
    case 0xFF534D42U:
      return "CIFS";
    case 0xFE534D42U:
      return "SMB2";
    default:
      return {};
  }
}

UniqueFd open_state_dir(const std::filesystem::path& dir)
{
  if (dir.empty()) {
    throw usage_error("the state directory is not set; set state.dir or use state.backend = \"redis\"");
  }
  std::error_code ignored;
  if (dir.has_parent_path()) {
    std::filesystem::create_directories(dir.parent_path(), ignored);  // a failure shows at mkdir below
  }
  const bool created = ::mkdir(dir.c_str(), 0700) == 0;
  if (!created && errno != EEXIST) {
    throw Error(fmt::format("cannot create the state directory {}: {}; create it with `mkdir -m 700 {}` or set "
                            "state.dir",
                            dir.string(), errno_text(), dir.string()));
  }
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    const int open_errno = errno;
    struct stat link{};
    if (open_errno == ELOOP || (::lstat(dir.c_str(), &link) == 0 && S_ISLNK(link.st_mode))) {
      throw usage_error(fmt::format("the state directory {} is a symbolic link; set state.dir to the real directory",
                                    dir.string()));
    }
    errno = open_errno;
    if (errno == ENOTDIR) {
      throw usage_error(fmt::format("the state directory {} is not a directory; set state.dir to a directory",
                                    dir.string()));
    }
    throw Error(fmt::format("cannot open the state directory {}: {}; check its permissions", dir.string(),
                            errno_text()));
  }
  if (created) {
    ::fchmod(fd.get(), 0700);  // exact mode whatever the umask
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) {
    throw Error(fmt::format("cannot stat the state directory {}: {}", dir.string(), errno_text()));
  }
  if (st.st_uid != ::geteuid()) {
    throw usage_error(fmt::format("the state directory {} is owned by uid {}, not by you (uid {}); use a directory "
                                  "you own (state.dir) or fix it with `chown`",
                                  dir.string(), st.st_uid, ::geteuid()));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    throw usage_error(fmt::format("the state directory {} is writable by other users (mode {}); run `chmod 700 {}`",
                                  dir.string(), octal_mode(st.st_mode), dir.string()));
  }
  struct statfs fs{};
  if (::fstatfs(fd.get(), &fs) == 0) {
    const auto name = network_filesystem_name(static_cast<std::int64_t>(fs.f_type));
    if (!name.empty()) {
      throw usage_error(fmt::format("the state directory {} is on {}, where flock is not reliable; use a local path "
                                    "for state.dir or state.backend = \"redis\"",
                                    dir.string(), name));
    }
  }
  return fd;
}

UniqueFd open_subdir(int dir_fd, const char* name, const std::filesystem::path& display)
{
  if (::mkdirat(dir_fd, name, 0700) != 0 && errno != EEXIST) {
    throw Error(fmt::format("cannot create {}: {}; check the permissions of the state directory", display.string(),
                            errno_text()));
  }
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    throw Error(fmt::format("cannot open {}: {}; it must be a directory, not a symbolic link", display.string(),
                            errno_text()));
  }
  return fd;
}

}  // namespace scalectl::state
