// Linked into the sanitizer build only (SCALECTL_SANITIZE, CMakeLists.txt). Tests run scalectl
// with a trimmed environment, and some preload libfaketime (expired certificates, DST), which
// puts it ahead of the ASan runtime; ASan would refuse to start. The runtime reads these
// defaults before the environment's ASAN_OPTIONS, which still override them.

extern "C" const char* __asan_default_options();

extern "C" const char* __asan_default_options()
{
  return "verify_asan_link_order=0";
}
