// The load generator: N connections to 127.0.0.1:PORT, each with exactly one message in flight
// (send, wait for the whole echo, check every byte, record the latency, send the next), all
// driven by one epoll thread on non-blocking sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace echo_bench {

struct LoadOptions {
  std::uint16_t port = 0;
  std::size_t connections = 50;
  std::size_t message_bytes = 64;
  double warmup_seconds = 1.0;  // traffic before the measured window (not counted)
  double seconds = 10.0;        // the measured window
  bool busy_poll = false;       // epoll_wait never sleeps (timeout 0): no wake-ups of the generator
};

struct LoadResult {
  std::uint64_t messages = 0;  // echoes completed inside the window
  double seconds = 0;          // the window's real length
  double p50_us = 0, p99_us = 0, max_us = 0;
  double generator_cpu_seconds = 0;  // this process's CPU time inside the window
  std::uint64_t mismatches = 0;      // echoes whose bytes differed from what was sent
};

// `window(true)` is called as the measured window opens and `window(false)` as it closes (to
// sample the server's CPU time). `cancelled` is polled (at least every 100 ms); when it returns
// true the run throws. Throws on any connection error or when no echo arrives for 5 s.
LoadResult run_load(const LoadOptions& options, const std::function<void(bool)>& window,
                    const std::function<bool()>& cancelled);

}  // namespace echo_bench
