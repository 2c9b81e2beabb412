// ActiveJobs: a listener's `max_active`, the cap on its pool connections that hold a job
// (queued or running), so that handlers that loop or block on one listener cannot take every
// worker away from the others.
//
// A connection holds a job from the reactor's notify() that turned kOwned on (ConnectionSlot.hpp)
// until its owner gives ownership back or closes it; a yield keeps it. The count of such jobs is
// started - finished: `started` is the reactor's own plain counter, `finished` is folded from one
// counter per handler thread, each written only by its thread. So the hot path writes no shared
// line: the reactor bumps its counter and compares it with the finished total it last folded,
// and folds (reads every thread's line) only when that says the cap is reached.
//
// A connection whose listener is at its cap stays owned, by the reactor: its events pile up in
// its scheduling word as they do while a job runs, so no edge is lost, and it waits in FIFO order
// until a job of that listener finishes. The reactor then raises `wanted_` and looks again; a
// finishing owner that sees `wanted_` rings the doorbell (one eventfd write), and the reactor
// queues the waiting connections in the room there is: a syscall only while something waits.
//
// One per listener name, shared by the listener's generations across reloads and never freed
// while the scheduler lives (an owner may still count into it after its connection closed).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "chronos/MPMCQueue.hpp"
#include "reactor/Counters.hpp"

namespace chronos {

class ActiveJobs {
 public:
  static constexpr std::size_t kNoCap = static_cast<std::size_t>(-1);

  // `threads`: how many threads may finish jobs (the workers, plus one index for the reactor).
  ActiveJobs(std::string listener, std::size_t threads, Doorbell& doorbell);

  // ---- The reactor thread's.
  const std::string& listener() const noexcept { return listener_; }
  void set_cap(std::size_t cap) noexcept { cap_ = cap; }
  // Counts a job about to be queued, if the cap leaves room (always, with `force`).
  bool try_start(bool force = false) noexcept;
  // The connection `handle` is owned by the reactor and waits for room.
  void wait(std::uint64_t handle) { waiting_.push_back(handle); }
  bool has_waiting() const noexcept { return !waiting_.empty(); }
  // Hands the waiting connections that now fit (all of them, with `force`) to `start`, oldest
  // first; asks for the doorbell when some still wait.
  template <class Start>
  void admit(Start&& start, bool force = false) {
    while (!waiting_.empty() && (try_start(force) || room_after_asking())) {
      start(waiting_.front());
      waiting_.pop_front();
    }
  }

  // ---- The thread at `thread` that owned one of this listener's jobs, when the job finishes.
  void finish(std::size_t thread) noexcept;

 private:
  struct alignas(kCacheLine) Finished {
    std::atomic<std::uint64_t> count{0};
  };
  std::uint64_t fold() const noexcept;
  bool room_after_asking() noexcept;

  // Shared with the owners: one line each, and the request flag, read by every finish().
  std::unique_ptr<Finished[]> finished_;
  std::size_t threads_;
  Doorbell& doorbell_;
  alignas(kCacheLine) std::atomic<bool> wanted_{false};
  // The reactor's alone.
  alignas(kCacheLine) std::uint64_t started_ = 0;
  std::uint64_t finished_seen_ = 0;  // fold() as last read: never more than the true total
  std::size_t cap_ = kNoCap;
  std::deque<std::uint64_t> waiting_;
  std::string listener_;
};

// Every listener name's ActiveJobs, made on first use and kept (reactor thread only).
class ActiveJobsRegistry {
 public:
  explicit ActiveJobsRegistry(std::size_t threads) : threads_(threads) {}
  ActiveJobs& of(const std::string& listener);
  const std::vector<std::unique_ptr<ActiveJobs>>& all() const noexcept { return all_; }
  int doorbell_fd() const noexcept { return doorbell_.fd(); }
  void drain_doorbell() noexcept { doorbell_.drain(); }

 private:
  std::size_t threads_;
  Doorbell doorbell_;
  std::vector<std::unique_ptr<ActiveJobs>> all_;
};

}  // namespace chronos
