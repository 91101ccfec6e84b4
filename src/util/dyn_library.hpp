#pragma once
// A shared object opened with dlopen() and resolved symbol by symbol: the one loader behind
// libcurl (net/curl_loader), OpenSSL (state/ssl_loader) and the HTTP module
// (http_server/module_loader). Closed when dropped, unless kept for the life of the process.

#include <expected>
#include <string>

namespace scalectl::util {

class DynLibrary {
 public:
  // Opens `path` with RTLD_NOW | RTLD_LOCAL; returns the dynamic loader's message on failure.
  static std::expected<DynLibrary, std::string> open(const char* path);

  DynLibrary(DynLibrary&& other) noexcept;
  DynLibrary& operator=(DynLibrary&&) = delete;
  DynLibrary(const DynLibrary&) = delete;
  DynLibrary& operator=(const DynLibrary&) = delete;
  ~DynLibrary();

  // Resolves `name` into `slot` (a function pointer); returns false when the symbol is missing,
  // and last_error() then says why.
  template <typename Fn>
  bool resolve(const char* name, Fn& slot)
  {
    void* symbol = find(name);
    if (symbol == nullptr) {
      return false;
    }
    slot = reinterpret_cast<Fn>(symbol);
    return true;
  }

  // Keeps the library mapped until the process ends: for libraries with process-wide state
  // (libcurl, OpenSSL, a module whose threads outlive the call).
  void keep() noexcept { m_kept = true; }

  // Returns the dynamic loader's last error, or a generic text when it has none.
  static std::string last_error();

 private:
  explicit DynLibrary(void* handle) noexcept : m_handle(handle) {}
  void* find(const char* name) const noexcept;

  void* m_handle = nullptr;
  bool m_kept = false;
};

}  // namespace scalectl::util
