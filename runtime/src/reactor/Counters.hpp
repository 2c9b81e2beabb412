// Counters and StopSignal: the little state both thread roles of the reactor share.
//
// The reactor thread and the connections' owners (workers, or the reactor for inline listeners)
// both count events and both may have to wake the reactor; everything else each role touches
// belongs to it alone (Scheduler: the reactor's; ConnectionIo: the owner's).
#pragma once

#include <atomic>
#include <cstdint>

#include "chronos/Fd.hpp"
#include "chronos/Runtime.hpp"

namespace chronos {

// Relaxed counters: statistics, folded by snapshot(). `open` also feeds the stop condition,
// which StopSignal's eventfd (not this counter's ordering) makes reliable. None is written per
// request: they count connections, batches and failures.
struct Counters {
  std::atomic<std::uint64_t> open{0}, accepted{0}, refused{0}, closed{0}, submitted{0},
      queue_full{0}, stale{0}, idle_closed{0}, oversized{0}, accept_errors{0}, drained{0},
      slow_handlers{0};

  static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  RuntimeStats snapshot() const noexcept;
};

// An eventfd that any thread rings and the reactor drains.
class Doorbell {
 public:
  Doorbell();  // throws std::system_error
  int fd() const noexcept { return fd_.get(); }
  void ring() noexcept;   // any thread: one eventfd write
  void drain() noexcept;  // reactor thread

 private:
  Fd fd_;
};

// stop() from any thread (even a signal handler), and "the last connection closed while
// stopping" from that connection's owner, both wake every reactor through one eventfd. It is in
// every reactor's epoll set and nobody reads it: a reactor that drained it would leave the
// others an edge that epoll, re-checking readiness, no longer reports. Every write is a new
// edge for each of them, and the counter (2^64 - 1) never fills.
class StopSignal {
 public:
  int fd() const noexcept { return bell_.fd(); }

  // Any thread. Release, paired with requested()'s acquire: the reactor can also leave its loop
  // by seeing the flag without reading the eventfd, and what the stopping thread did before
  // must then still happen before the shutdown.
  void request() noexcept {
    stopping_.store(true, std::memory_order_release);
    wake();
  }
  bool requested() const noexcept { return stopping_.load(std::memory_order_acquire); }
  // Relaxed peek for the owners' "was that the last connection?" check: a stale false only
  // means the reactor's own wait (bounded) notices instead.
  bool requested_relaxed() const noexcept { return stopping_.load(std::memory_order_relaxed); }

  void wake() noexcept { bell_.ring(); }

 private:
  Doorbell bell_;  // throws std::system_error when made
  std::atomic<bool> stopping_{false};
};

}  // namespace chronos
