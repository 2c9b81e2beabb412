// A fixed set of worker threads that drain one MPMCQueue<Job> in batches.
//
// Idle workers spin briefly, then sleep on a futex. A submitter pays a wake-up syscall only when
// some worker sleeps, so a busy pool costs no syscall per job.
//
// Destruction: the pool stops accepting work (submit returns false from then on), the workers run
// every job that was already queued, then they are joined. No thread outlives the pool.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "chronos/Fd.hpp"
#include "chronos/Job.hpp"
#include "chronos/MPMCQueue.hpp"

namespace spdlog {
class logger;
}

namespace chronos {

class WorkerPool {
 public:
  // The most jobs one worker takes per pop: enough to amortise the head CAS. A worker takes at
  // most its fair share of what is queued (queued / workers, rounded up), so jobs queued behind
  // one that blocks are not hoarded while another worker sits idle.
  static constexpr std::size_t kBatch = 32;

  // Starts `threads` workers (0 = the number of CPUs) consuming `queue`, which must outlive us.
  // Failed jobs are reported through `log` (default: spdlog's default logger). Each worker
  // thread calls `on_start(its index)` first, if given (e.g. to pin itself to a CPU).
  WorkerPool(MPMCQueue<Job>& queue, std::size_t threads = 0,
             std::shared_ptr<spdlog::logger> log = nullptr,
             std::function<void(std::size_t)> on_start = nullptr);
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues one job; false when the queue is full or the pool is stopping (nothing was queued).
  bool submit(const Job& job) { return submit_batch(&job, 1) == 1; }

  // Queues jobs in order; returns how many were queued (the rest did not fit). One claim on the
  // queue and at most one wake-up syscall for the whole batch.
  std::size_t submit_batch(const Job* jobs, std::size_t count);

  // Backpressure. After a submit fell short, a producer calls want_room(), then retries once;
  // if the queue is still full it waits for room_fd() (an eventfd) to become readable: a worker
  // signals it after the next pop. The producer reads the eventfd to re-arm it.
  void want_room() noexcept;
  int room_fd() const noexcept { return room_fd_.get(); }

  // Coalescing, for the one producer that shares CPUs with the workers (the reactor). If jobs
  // are waiting or every worker is busy, blocks until a worker runs out of work or `timeout`
  // passes; otherwise returns at once. A producer that waits here instead of in epoll_wait is
  // not woken for each event while the workers are still busy with its last batch, so events
  // pile up into the next batch rather than each preempting a worker for one job. Costs a
  // worker one futex wake per batch, and only while the producer waits.
  void wait_for_idle_worker(std::chrono::microseconds timeout) noexcept;

  MPMCQueue<Job>& queue() noexcept { return queue_; }
  std::size_t size() const noexcept { return thread_count_; }

  // Jobs that ended by throwing; each was logged and its worker went on.
  std::uint64_t failed_jobs() const noexcept { return failed_.load(std::memory_order_relaxed); }
  // Jobs that have returned (or thrown).
  std::uint64_t completed_jobs() const noexcept {
    return completed_.load(std::memory_order_relaxed);
  }
  // Workers currently asleep on the futex.
  std::uint32_t sleeping() const noexcept { return sleepers_.load(std::memory_order_relaxed); }

  // The number of CPUs this process may run on (at least 1).
  static std::size_t cpu_count() noexcept;

  // The calling thread's index among its pool's workers (0 to size() - 1), or kNotAWorker on
  // any other thread. For per-worker records that only their worker writes.
  static constexpr std::size_t kNotAWorker = static_cast<std::size_t>(-1);
  static std::size_t current_worker() noexcept;

 private:
  void worker_loop(std::size_t index);
  std::size_t pop_share(Job* batch) noexcept;
  void run_batch(const Job* jobs, std::size_t count) noexcept;
  std::size_t sleep_until_work(Job* batch) noexcept;
  void wake(std::uint32_t count) noexcept;
  void signal_room() noexcept;
  void went_busy() noexcept;
  void went_idle() noexcept;
  bool all_busy() const noexcept;

  MPMCQueue<Job>& queue_;
  std::shared_ptr<spdlog::logger> log_;
  std::size_t thread_count_ = 0;  // fixed before the first worker starts
  int spin_rounds_ = 1;           // empty pops before sleeping
  alignas(kCacheLine) std::atomic<std::uint32_t> sleepers_{0};
  std::atomic<std::uint32_t> wake_epoch_{0};  // the futex word sleepers wait on
  std::atomic<bool> stopping_{false};
  std::atomic<bool> room_wanted_{false};
  Fd room_fd_;
  // Coalescing: workers that popped work and have not yet found the queue empty since; the
  // producer waits on idle_epoch_, which a worker going idle bumps when idle_wanted_ is set.
  alignas(kCacheLine) std::atomic<std::uint32_t> busy_{0};
  std::atomic<std::uint32_t> idle_epoch_{0};
  std::atomic<bool> idle_wanted_{false};
  alignas(kCacheLine) std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::vector<std::jthread> threads_;
};

}  // namespace chronos
