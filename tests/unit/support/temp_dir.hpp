#pragma once
// A scratch directory for one test: removed afterwards, kept (and named on stderr) if the test
// is unwinding from a failed REQUIRE.

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace scalectl::test {

class TempDir {
 public:
  // Creates <base>/<tag>-XXXXXX; `base` defaults to the system temp directory.
  explicit TempDir(const std::string& tag = "scalectl", std::filesystem::path base = {})
  {
    if (base.empty()) {
      base = std::filesystem::temp_directory_path();
    }
    std::string pattern = (base / (tag + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed for " + pattern);
    }
    m_path = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir()
  {
    if (std::uncaught_exceptions() > 0) {
      std::fprintf(stderr, "keeping scratch directory %s of the failed test\n", m_path.c_str());
      return;
    }
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }

  // Returns a RAM-backed base directory (/dev/shm) when there is one, for tests that write
  // thousands of fsync'ed files and check logic rather than durability; else the temp directory.
  static std::filesystem::path memory_base()
  {
    const std::filesystem::path shm = "/dev/shm";
    std::error_code error;
    if (std::filesystem::is_directory(shm, error) && ::access(shm.c_str(), W_OK) == 0) {
      return shm;
    }
    return std::filesystem::temp_directory_path();
  }

  // Returns the directory.
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

}  // namespace scalectl::test
