#include "chronos/WorkerPool.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <ctime>
#include <exception>
#include <system_error>

#include <spdlog/spdlog.h>

namespace chronos {
namespace {

// Pop attempts an idle worker makes before it goes to sleep: a few microseconds, enough to
// catch the next job of a busy stream without a futex round trip.
constexpr int kSpinRounds = 256;

// Set once by each worker as it starts; a plain thread_local: only its own thread reads it.
thread_local std::size_t t_worker_index = WorkerPool::kNotAWorker;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

std::uint32_t* futex_word(std::atomic<std::uint32_t>& word) noexcept {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  return reinterpret_cast<std::uint32_t*>(&word);
}

// Sleeps while `word` still holds `expected`, at most `timeout` (null: no limit); returns at
// once if it does not hold it (no lost wake-up).
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                const timespec* timeout = nullptr) noexcept {
  syscall(SYS_futex, futex_word(word), FUTEX_WAIT_PRIVATE, expected, timeout, nullptr, 0);
}

timespec to_timespec(std::chrono::microseconds duration) noexcept {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(duration);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(duration - seconds);
  return {static_cast<time_t>(seconds.count()), static_cast<long>(nanos.count())};
}

// The waker's half of a Dekker pair whose waiter raised `flag`, then fenced, then re-checked its
// condition: after our fence, either the waiter's re-check sees what we changed before calling
// this, or we see the flag. True (and the flag lowered) if the waiter must be signalled.
bool take_request(std::atomic<bool>& flag) noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // Relaxed: the signal itself (eventfd, futex word) carries the ordering; the flag only saves
  // syscalls, and the exchange makes one waker out of many.
  return flag.load(std::memory_order_relaxed) && flag.exchange(false, std::memory_order_relaxed);
}

void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
  syscall(SYS_futex, futex_word(word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

}  // namespace

std::size_t WorkerPool::current_worker() noexcept { return t_worker_index; }

std::size_t WorkerPool::cpu_count() noexcept {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

WorkerPool::WorkerPool(MPMCQueue<Job>& queue, std::size_t threads,
                       std::shared_ptr<spdlog::logger> log,
                       std::function<void(std::size_t)> on_start)
    : queue_(queue),
      log_(log ? std::move(log) : spdlog::default_logger()),
      room_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!room_fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
  // On one CPU a spinning worker only delays the thread that would give it work.
  spin_rounds_ = cpu_count() > 1 ? kSpinRounds : 1;
  if (threads == 0) threads = cpu_count();
  thread_count_ = threads;
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this, i, on_start] {
      if (on_start) on_start(i);
      worker_loop(i);
    });
}

WorkerPool::~WorkerPool() {
  // Release: a worker that sees stopping_ also sees everything queued before it.
  stopping_.store(true, std::memory_order_release);
  // Release: pairs with the epoch acquire in sleep_until_work; a sleeper that read the old
  // epoch is woken by the futex, one that reads the new one sees stopping_.
  wake_epoch_.fetch_add(1, std::memory_order_release);
  futex_wake(wake_epoch_, INT_MAX);
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Jobs are only refused after stopping_, so nothing is queued now unless a foreign thread
  // raced the destructor; run such stragglers here rather than lose them silently.
  Job batch[kBatch];
  while (std::size_t n = queue_.pop_batch(batch, kBatch)) run_batch(batch, n);
}

std::size_t WorkerPool::submit_batch(const Job* jobs, std::size_t count) {
  // Relaxed: a racing stop is resolved by the destructor's final drain, not by this check.
  if (stopping_.load(std::memory_order_relaxed)) return 0;
  const std::size_t pushed = queue_.push_batch(jobs, count);
  if (pushed == 0) return 0;
  // Seq_cst fence, paired with the one in sleep_until_work (Dekker): either we see the worker's
  // sleepers_ increment, or that worker's last pop sees our items. Never neither.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const std::uint32_t asleep = sleepers_.load(std::memory_order_relaxed);
  if (asleep > 0) wake(static_cast<std::uint32_t>(std::min<std::size_t>(asleep, pushed)));
  return pushed;
}

void WorkerPool::want_room() noexcept {
  room_wanted_.store(true, std::memory_order_relaxed);
  // Seq_cst fence, paired with the one in signal_room (Dekker): either the producer's retry
  // sees the slot a worker freed, or that worker sees room_wanted_ and signals.
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

void WorkerPool::signal_room() noexcept {
  if (take_request(room_wanted_)) {
    const std::uint64_t one = 1;
    // Never read (every reactor watches it, see Reactor::prepare_to_run): each write is an
    // edge, and the counter (2^64 - 1) does not fill.
    [[maybe_unused]] const auto ignored = ::write(room_fd_.get(), &one, sizeof(one));
  }
}

bool WorkerPool::all_busy() const noexcept {
  // Relaxed: a heuristic read; the fences in wait_for_idle_worker/went_idle make the decision
  // to sleep safe, not these loads.
  return queue_.size_approx() > 0 || busy_.load(std::memory_order_relaxed) >= thread_count_;
}

void WorkerPool::wait_for_idle_worker(std::chrono::microseconds timeout) noexcept {
  if (!all_busy()) return;
  // Read the epoch before announcing ourselves: a worker that goes idle after this read bumps
  // it, so the futex wait below returns at once instead of missing that wake.
  const std::uint32_t epoch = idle_epoch_.load(std::memory_order_relaxed);
  idle_wanted_.store(true, std::memory_order_relaxed);
  // Seq_cst fence, paired with the one in went_idle (Dekker): either the check below sees the
  // worker's busy_ decrement, or that worker sees idle_wanted_ and wakes us.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (all_busy()) {
    const timespec limit = to_timespec(timeout);
    futex_wait(idle_epoch_, epoch, &limit);
  }
  idle_wanted_.store(false, std::memory_order_relaxed);
}

void WorkerPool::went_busy() noexcept {
  // Relaxed: a count for the coalescing heuristic; went_idle's fence orders the decrement.
  busy_.fetch_add(1, std::memory_order_relaxed);
}

void WorkerPool::went_idle() noexcept {
  busy_.fetch_sub(1, std::memory_order_relaxed);
  if (take_request(idle_wanted_)) {
    idle_epoch_.fetch_add(1, std::memory_order_relaxed);
    futex_wake(idle_epoch_, 1);
  }
}

void WorkerPool::wake(std::uint32_t count) noexcept {
  // Release: a sleeper that acquires the new epoch also sees the items pushed before it.
  wake_epoch_.fetch_add(1, std::memory_order_release);
  futex_wake(wake_epoch_, static_cast<int>(count));
}

std::size_t WorkerPool::sleep_until_work(Job* batch) noexcept {
  // Relaxed increment, then the fence below publishes it before our last look at the queue.
  sleepers_.fetch_add(1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // Acquire: read the epoch before the last look, so any later wake changes it and the futex
  // wait below returns at once instead of missing that wake.
  const std::uint32_t epoch = wake_epoch_.load(std::memory_order_acquire);
  std::size_t n = pop_share(batch);
  if (n == 0 && !stopping_.load(std::memory_order_acquire)) futex_wait(wake_epoch_, epoch);
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
  return n;
}

std::size_t WorkerPool::pop_share(Job* batch) noexcept {
  std::size_t share = kBatch;
  if (thread_count_ > 1) {
    const std::size_t queued = queue_.size_approx();
    share = std::clamp<std::size_t>((queued + thread_count_ - 1) / thread_count_, 1, kBatch);
  }
  return queue_.pop_batch(batch, share);
}

void WorkerPool::worker_loop(std::size_t index) {
  t_worker_index = index;
  Job batch[kBatch];
  int idle_rounds = 0;
  bool busy = false;
  for (;;) {
    std::size_t n = pop_share(batch);
    if (n == 0 && busy) {
      busy = false;
      went_idle();
    }
    if (n == 0 && ++idle_rounds < spin_rounds_) {
      cpu_relax();
      continue;
    }
    if (n == 0) {
      idle_rounds = 0;
      n = sleep_until_work(batch);
      // Acquire: pairs with the destructor's release; stop only once the queue is empty.
      if (n == 0 && stopping_.load(std::memory_order_acquire)) {
        n = pop_share(batch);
        if (n == 0) return;
      }
      if (n == 0) continue;
    }
    idle_rounds = 0;
    if (!busy) {
      busy = true;
      went_busy();
    }
    signal_room();  // the pop freed n slots
    run_batch(batch, n);
  }
}

void WorkerPool::run_batch(const Job* jobs, std::size_t count) noexcept {
  std::uint64_t failed = 0;
  for (std::size_t i = 0; i < count; ++i) {
    try {
      jobs[i]();
    } catch (const std::exception& e) {
      ++failed;
      log_->error("worker: job threw: {}", e.what());
    } catch (...) {
      ++failed;
      log_->error("worker: job threw a non-standard exception");
    }
  }
  // Relaxed: statistics; nobody orders other memory by these counters.
  if (failed) failed_.fetch_add(failed, std::memory_order_relaxed);
  completed_.fetch_add(count, std::memory_order_relaxed);
}

}  // namespace chronos
