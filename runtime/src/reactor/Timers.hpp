// Timers: the reactor's one deadline structure — idle timeouts, reload drains and accept
// back-offs — behind one timerfd armed for the earliest deadline.
//
// A deadline names what it is about (a connection handle or a listener's watcher id), never
// holds a pointer: by the time it is due its subject may be gone, and the caller checks.
// An idle timeout is one entry per connection, re-queued at its new deadline when the
// connection was active meanwhile: one check per timeout, never a scan of all connections.
//
// Reactor thread only.
#pragma once

#include <time.h>

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "chronos/Fd.hpp"

namespace chronos {

// Monotonic milliseconds from the coarse clock (a vDSO read; timeouts need no finer). Inline:
// every read of a connection stamps its activity with it.
inline std::int64_t now_ms() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

class Timers {
 public:
  enum class Kind : std::uint8_t { idle, drain, accept_backoff };
  struct Deadline {
    std::int64_t at_ms;
    Kind kind;
    std::uint64_t subject;  // connection handle (idle, drain) or listener id (accept_backoff)
    bool operator>(const Deadline& other) const noexcept { return at_ms > other.at_ms; }
  };

  Timers();  // creates the timerfd; throws std::system_error

  int fd() const noexcept { return fd_.get(); }
  bool empty() const noexcept { return heap_.empty(); }

  void add(const Deadline& deadline);  // re-arms the timerfd if it is the earliest

  // On the timerfd's event: hands every due deadline to `on_due` (which may add() new ones),
  // then arms the timerfd for the next.
  void expire(const std::function<void(const Deadline&)>& on_due);

 private:
  // A Deadline as the heap holds it: 16 bytes, not 24 (the kind rides in the low bits of the
  // time, which keeps the order), since an idle timeout is an entry per open connection.
  struct Entry {
    std::int64_t key;  // at_ms << 2 | kind
    std::uint64_t subject;
    bool operator>(const Entry& other) const noexcept { return key > other.key; }
  };
  static_assert(sizeof(Entry) == 16);
  static_assert(static_cast<int>(Kind::accept_backoff) < 4, "a Kind takes two bits of Entry::key");

  void arm(std::int64_t at_ms) noexcept;  // 0 = disarm

  Fd fd_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  std::int64_t armed_ms_ = 0;  // what the timerfd is set for; 0 = disarmed
};

}  // namespace chronos
