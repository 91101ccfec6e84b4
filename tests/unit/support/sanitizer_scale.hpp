#pragma once
// Sizes for the race and soak cases of the unit suite. Under AddressSanitizer (the build-asan tree
// that CI also runs, issue 12) every allocation, fork and round trip costs several times more, so
// those cases use the smaller size there. The release build keeps the full size: that is the run
// that proves the property (no lost update, exactly N grants); the sanitizer run proves the same
// code paths are free of memory errors and undefined behaviour.

namespace scalectl::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool k_sanitized = true;
#else
inline constexpr bool k_sanitized = false;
#endif

// `full` in a release build, `sanitized` under AddressSanitizer.
constexpr int scaled(int full, int sanitized)
{
  return k_sanitized ? sanitized : full;
}

}  // namespace scalectl::test
