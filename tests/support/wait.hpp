// Waiting on a condition with a deadline: the tests' replacement for sleep-and-hope.
#pragma once

#include <chrono>
#include <thread>

namespace chronos::test {

// Polls `condition` until it holds or `timeout` passes; returns its last value.
template <class Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

}  // namespace chronos::test
