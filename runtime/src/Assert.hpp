// CHRONOS_ASSERT: an invariant the code relies on, checked where it is relied on.
//
// On in debug builds and in the sanitizer builds (CHRONOS_CHECKS, set by CMake with
// CHRONOS_SANITIZE), where a broken invariant should stop the run at its cause; compiled out of
// release builds, where the hot paths that state them run per event.
#pragma once

#include <cstdio>
#include <cstdlib>

#if defined(CHRONOS_CHECKS) || !defined(NDEBUG)
#define CHRONOS_ASSERT(condition) \
  ((condition) ? static_cast<void>(0) : ::chronos::assertion_failed(#condition, __FILE__, __LINE__))
#else
#define CHRONOS_ASSERT(condition) static_cast<void>(0)
#endif

namespace chronos {

[[noreturn]] inline void assertion_failed(const char* condition, const char* file,
                                          int line) noexcept {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, condition);
  std::abort();
}

}  // namespace chronos
