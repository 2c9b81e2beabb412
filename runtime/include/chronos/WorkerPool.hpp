// A fixed set of worker threads that drain one MPMCQueue<Job> in batches.
//
// Idle workers spin briefly, then sleep on a futex. A submitter pays a wake-up syscall only when
// some worker sleeps, so a busy pool costs no syscall per job.
//
// Destruction: the pool stops accepting work (submit returns false from then on), the workers run
// every job that was already queued, then they are joined. No thread outlives the pool.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
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
  // Jobs popped per pop_batch call; large enough to amortise the head CAS, small enough that one
  // worker does not hoard the queue while another sits idle.
  static constexpr std::size_t kBatch = 32;

  // Starts `threads` workers (0 = the number of CPUs) consuming `queue`, which must outlive us.
  // Failed jobs are reported through `log` (default: spdlog's default logger).
  WorkerPool(MPMCQueue<Job>& queue, std::size_t threads = 0,
             std::shared_ptr<spdlog::logger> log = nullptr);
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

  MPMCQueue<Job>& queue() noexcept { return queue_; }
  std::size_t size() const noexcept { return threads_.size(); }

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

 private:
  void worker_loop();
  void run_batch(const Job* jobs, std::size_t count) noexcept;
  std::size_t sleep_until_work(Job* batch) noexcept;
  void wake(std::uint32_t count) noexcept;
  void signal_room() noexcept;

  MPMCQueue<Job>& queue_;
  std::shared_ptr<spdlog::logger> log_;
  int spin_rounds_ = 1;  // empty pops before sleeping
  alignas(kCacheLine) std::atomic<std::uint32_t> sleepers_{0};
  std::atomic<std::uint32_t> wake_epoch_{0};  // the futex word sleepers wait on
  std::atomic<bool> stopping_{false};
  std::atomic<bool> room_wanted_{false};
  Fd room_fd_;
  alignas(kCacheLine) std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::vector<std::jthread> threads_;
};

}  // namespace chronos
