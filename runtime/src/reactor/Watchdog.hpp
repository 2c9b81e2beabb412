// Watchdog: names handlers that run longer than slow_handler_ms — once per job, with their
// listener, plugin and connection — and counts them (RuntimeStats::slow_handlers).
//
// Every thread that runs handlers has a HandlerSlot that only it writes: each worker, and the
// reactor (inline listeners, and the pool's last drain at stop). A job start costs its thread
// a few relaxed stores to its own line and no clock read: the watchdog's thread wakes every
// quarter of the threshold (at most 250 ms), reads every slot, and stamps a job with the time
// it first saw it. A job still there `threshold` later is reported: what it reports is a lower
// bound, and a job is seen at most one period late. The watchdog is a thread of its own, not a
// reactor timer, because an inline handler that loops holds the reactor itself.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "Assert.hpp"
#include "chronos/MPMCQueue.hpp"
#include "chronos/WorkerPool.hpp"

namespace spdlog {
class logger;
}

namespace chronos {

struct Counters;

// What a handler is reported by: interned by the reactor, never freed while the scheduler lives.
struct HandlerNames {
  std::string listener, plugin;
};

// One thread's current job: a seqlock with one writer (its thread) and one reader (the watchdog).
class alignas(kCacheLine) HandlerSlot {
 public:
  // The owning thread, around each serve of a connection.
  void begin(std::uint64_t handle, const HandlerNames* names) noexcept {
    // The writer side of a seqlock: odd, a release fence, the data, even again with release. A
    // reader that saw any of this job's data sees seq_ changed, and takes nothing half-written.
    // On x86 all of it is plain stores to a line only this thread writes.
    seq_.store(++written_, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    handle_.store(handle, std::memory_order_relaxed);
    names_.store(names, std::memory_order_relaxed);
    seq_.store(++written_, std::memory_order_release);
  }
  // Relaxed: it only tells the reader "idle", and a reader that sees it late merely takes the
  // job for still running until its next scan; the next begin() changes seq_ anyway.
  void end() noexcept { handle_.store(0, std::memory_order_relaxed); }

  struct Snapshot {
    std::uint64_t job;  // changes with every begin()
    std::uint64_t handle;
    const HandlerNames* names;
  };
  // The watchdog: the job running now, if any and if it read one whole.
  std::optional<Snapshot> read() const noexcept;

 private:
  std::atomic<std::uint64_t> seq_{0};  // odd while begin() writes
  std::atomic<std::uint64_t> handle_{0};
  std::atomic<const HandlerNames*> names_{nullptr};
  std::uint64_t written_ = 0;  // the writer's copy of seq_
};

class Watchdog {
 public:
  // A slot for each of `workers` workers and `reactors` reactors; threshold 0 disables the scan
  // (the slots are still written).
  Watchdog(std::size_t workers, std::size_t reactors, std::uint32_t threshold_ms,
           spdlog::logger& log, Counters& counters);
  ~Watchdog() { stop(); }

  // The calling thread's index among the `threads`: worker i's is i, reactor r's is
  // workers + r (see enter_reactor); any other thread counts as reactor 0. ActiveJobs counts
  // per thread by the same index.
  std::size_t thread_index() const noexcept {
    const std::size_t worker = WorkerPool::current_worker();
    return worker < workers_ ? worker : workers_ + current_reactor();
  }
  HandlerSlot& slot(std::size_t thread) noexcept {
    CHRONOS_ASSERT(thread < threads_);
    return slots_[thread];
  }
  HandlerSlot& reactor_slot(std::size_t reactor) noexcept { return slot(workers_ + reactor); }
  // Marks the calling thread as reactor `reactor` for thread_index() (once, as its loop starts).
  static void enter_reactor(std::size_t reactor) noexcept;
  static std::size_t current_reactor() noexcept;
  void start();          // its thread, unless disabled
  void stop() noexcept;  // joins it

 private:
  struct Seen {
    std::uint64_t job = 0;
    std::int64_t since_ms = 0;
    bool reported = false;
  };
  void loop();
  void scan(std::int64_t now);

  std::unique_ptr<HandlerSlot[]> slots_;
  std::size_t workers_;
  std::size_t threads_;  // workers_ + the reactors
  std::uint32_t threshold_ms_;
  spdlog::logger& log_;
  Counters& counters_;
  std::vector<Seen> seen_;  // the watchdog thread's
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // under mutex_
  std::thread thread_;
};

}  // namespace chronos
