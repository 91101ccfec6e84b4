#pragma once
// Shared helpers for the libFuzzer targets: an invariant check that aborts (so libFuzzer records
// the input as a crash), and a memfd so file readers see a real regular file.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace scalectl::fuzz {

// Aborts with `what` when `ok` is false: a broken invariant is a finding, like a crash.
inline void require(bool ok, const char* what)
{
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

// A regular in-memory file holding `data`; path() names it for code that opens paths.
class MemFile {
 public:
  explicit MemFile(std::string_view data) : m_fd(::memfd_create("fuzz", MFD_CLOEXEC))
  {
    require(m_fd >= 0, "memfd_create");
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::write(m_fd, data.data() + done, data.size() - done);
      require(n > 0, "write memfd");
      done += static_cast<std::size_t>(n);
    }
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  ~MemFile() { ::close(m_fd); }
  std::string path() const { return "/proc/self/fd/" + std::to_string(m_fd); }

 private:
  int m_fd;
};

inline std::string_view as_text(const std::uint8_t* data, std::size_t size)
{
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace scalectl::fuzz
