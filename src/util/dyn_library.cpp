#include "util/dyn_library.hpp"

#include <dlfcn.h>

namespace scalectl::util {

std::expected<DynLibrary, std::string> DynLibrary::open(const char* path)
{
  void* handle = ::dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return std::unexpected(last_error());
  }
  return DynLibrary(handle);
}

DynLibrary::DynLibrary(DynLibrary&& other) noexcept : m_handle(other.m_handle), m_kept(other.m_kept)
{
  other.m_handle = nullptr;
}

DynLibrary::~DynLibrary()
{
  if (m_handle != nullptr && !m_kept) {
    ::dlclose(m_handle);
  }
}

void* DynLibrary::find(const char* name) const noexcept
{
  ::dlerror();  // clear a stale error so last_error() describes this lookup
  return ::dlsym(m_handle, name);
}

std::string DynLibrary::last_error()
{
  const char* text = ::dlerror();
  return text != nullptr ? text : "unknown dynamic loader error";
}

}  // namespace scalectl::util
