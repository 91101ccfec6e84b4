#pragma once
// Scratch directories for tests that need real files.

#include <filesystem>
#include <string_view>

namespace scalectl::test {

// A fresh directory under $TMPDIR (or /tmp). It is removed when the object goes out of scope,
// unless a check failed while it existed: then it is kept and its path printed to stderr.
class ScratchDir {
 public:
  ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();

  // Returns the directory's path.
  const std::filesystem::path& path() const { return m_path; }

  // Writes `text` to `relative` under the directory (creating parent directories), sets its
  // permission bits to `mode` and returns the full path.
  std::filesystem::path write(const std::filesystem::path& relative, std::string_view text,
                              std::filesystem::perms mode = std::filesystem::perms(0644)) const;

 private:
  std::filesystem::path m_path;
  long m_failures_at_start;
};

}  // namespace scalectl::test
