#include "reactor/Watchdog.hpp"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "chronos/WorkerPool.hpp"
#include "reactor/Counters.hpp"
#include "reactor/Timers.hpp"

namespace chronos {

std::optional<HandlerSlot::Snapshot> HandlerSlot::read() const noexcept {
  // Acquire: the data of the job whose even seq_ we read is visible.
  const std::uint64_t before = seq_.load(std::memory_order_acquire);
  if (before & 1) return std::nullopt;  // being written: look next time
  const Snapshot s{before, handle_.load(std::memory_order_relaxed),
                   names_.load(std::memory_order_relaxed)};
  // Acquire fence: the data loads above happen before the second read of seq_, so a change of
  // job under them shows as a changed seq_.
  std::atomic_thread_fence(std::memory_order_acquire);
  if (seq_.load(std::memory_order_relaxed) != before || s.handle == 0) return std::nullopt;
  return s;
}

namespace {
thread_local std::size_t t_reactor_index = 0;
}  // namespace

void Watchdog::enter_reactor(std::size_t reactor) noexcept { t_reactor_index = reactor; }
std::size_t Watchdog::current_reactor() noexcept { return t_reactor_index; }

Watchdog::Watchdog(std::size_t workers, std::size_t reactors, std::uint32_t threshold_ms,
                   spdlog::logger& log, Counters& counters)
    : slots_(std::make_unique<HandlerSlot[]>(workers + reactors)),
      workers_(workers),
      threads_(workers + reactors),
      threshold_ms_(threshold_ms),
      log_(log),
      counters_(counters),
      seen_(threads_) {}

void Watchdog::start() {
  if (threshold_ms_ == 0 || thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void Watchdog::stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Watchdog::loop() {
  const auto period =
      std::chrono::milliseconds(std::clamp<std::uint32_t>(threshold_ms_ / 4, 1, 250));
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
    lock.unlock();
    scan(now_ms());
    lock.lock();
  }
}

void Watchdog::scan(std::int64_t now) {
  for (std::size_t i = 0; i < threads_; ++i) {
    const std::optional<HandlerSlot::Snapshot> job = slots_[i].read();
    Seen& seen = seen_[i];
    if (!job) continue;  // idle (or mid-write): a job seen before has ended, or is seen again
    if (job->job != seen.job) {
      seen = {job->job, now, false};
      continue;
    }
    const std::int64_t running = now - seen.since_ms;
    if (seen.reported || running < threshold_ms_) continue;
    seen.reported = true;
    Counters::add(counters_.slow_handlers);
    log_.warn("slow handler: listener {}, plugin {}, connection {:#x}, running for {} ms",
              job->names ? job->names->listener : "?", job->names ? job->names->plugin : "?",
              job->handle, running);
  }
}

}  // namespace chronos
