// RestartBackoff: how long the supervisor waits before restarting a server that died. The first
// crash restarts at once (a plugin that crashed on one request should cost one connection set,
// not an outage); repeated quick crashes (a crash loop) double the wait up to kMaxDelay, so a
// server that cannot stay up does not burn a CPU. A server that served kStable resets the count.
#pragma once

#include <algorithm>
#include <chrono>

namespace chronos {

class RestartBackoff {
 public:
  using ms = std::chrono::milliseconds;
  static constexpr ms kStable{10000};
  static constexpr ms kFirstDelay{100};
  static constexpr ms kMaxDelay{5000};

  // A server died after serving `served` (0 if it never got to serve): the wait before the next.
  ms after_crash(ms served) {
    if (served >= kStable) crashes_ = 0;
    ++crashes_;
    if (crashes_ == 1) return ms{0};
    const int doublings = std::min(crashes_ - 2, 16);
    return std::min(kFirstDelay * (1 << doublings), kMaxDelay);
  }
  int crashes() const noexcept { return crashes_; }  // in a row, the last one included

 private:
  int crashes_ = 0;
};

}  // namespace chronos
