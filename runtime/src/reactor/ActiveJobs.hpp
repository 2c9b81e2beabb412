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
// The two thread roles are two types: JobsFinished is all a connection's owner may touch (its
// thread's count, the request flag, the doorbell); ActiveJobs, which holds it, is the reactor's.
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

#include "Assert.hpp"
#include "chronos/MPMCQueue.hpp"
#include "reactor/Counters.hpp"

namespace chronos {

// The owners' side of a listener's count: one finished-jobs line per handler thread, each
// written only by its thread, and the reactor's request to be told when one finishes.
class JobsFinished {
 public:
  // `threads`: how many threads may finish jobs (the workers, plus one index for the reactor).
  JobsFinished(std::size_t threads, Doorbell& doorbell);

  // ---- The owner thread `thread` (Watchdog::thread_index), as one of the listener's jobs ends
  // (ownership given back, or the connection closed).
  void finish(std::size_t thread) noexcept;

 private:
  friend class ActiveJobs;  // the reactor's side
  std::uint64_t fold() const noexcept;
  void ask() noexcept;

  struct alignas(kCacheLine) Line {
    std::atomic<std::uint64_t> count{0};
  };
  std::unique_ptr<Line[]> lines_;
  std::size_t threads_;
  Doorbell& doorbell_;
  alignas(kCacheLine) std::atomic<bool> wanted_{false};  // written only while something waits
};

// The reactor thread's: a listener's jobs started, its cap, and its connections waiting for room.
class ActiveJobs {
 public:
  static constexpr std::size_t kNoCap = static_cast<std::size_t>(-1);

  ActiveJobs(std::string listener, std::size_t threads, Doorbell& doorbell)
      : finished_(threads, doorbell), listener_(std::move(listener)) {}

  JobsFinished& finished() noexcept { return finished_; }  // for the connections' owners
  const std::string& listener() const noexcept { return listener_; }
  void set_cap(std::size_t cap) noexcept {
    CHRONOS_ASSERT(cap >= 1);
    cap_ = cap;
  }
  // Counts a job about to be queued, if the cap leaves room (always, with `force`).
  bool try_start(bool force = false) noexcept {
    // finished_seen_ only lags the true total, so this overestimates what is active: room here
    // is room indeed, and only a full look needs the fold.
    if (!force && started_ - finished_seen_ >= cap_ && !room_after_fold()) return false;
    ++started_;
    return true;
  }
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

 private:
  bool room_after_fold() noexcept;
  bool room_after_asking() noexcept;

  JobsFinished finished_;  // shared with the owners
  alignas(kCacheLine) std::uint64_t started_ = 0;
  std::uint64_t finished_seen_ = 0;  // finished_.fold() as last read: never above the true total
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
