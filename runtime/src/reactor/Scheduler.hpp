// Scheduler: the reactors (`reactors:` event loops, Reactor.hpp) and what they share — the
// worker pool and its queue, the listener set, the counters, the stop, the watchdog.
//
// One queue and one pool serve every reactor. A reactor submits a whole epoll round's jobs with
// one batch push (one CAS on the queue's tail for the batch), and workers pop in batches, so
// the queue's shared lines are written once per batch, not per job; per-reactor queues would
// need work stealing to keep every worker busy when one reactor's connections are the busy
// ones. The reactors themselves share no line on the hot path: each has its own connection
// table, timers and max_active counts.
//
// Reactor 0 runs on the thread that calls run(); the others on threads of their own, started
// by run() and joined before it returns. Reactor 0 is also where the embedder's descriptors
// (watch), posted tasks (post) and reloads (reconfigure) run.
//
// Its parts:
//   Scheduler.cpp   start, the reactor threads, the stop, listener reconfiguration
//   Reactor         one event loop: see its header for its parts
//   ListenerSet     the listeners as configured now
//   Watchdog        its own thread, naming handlers that run past slow_handler_ms
//   ConnectionIo    what a connection's owner runs (another thread role: see its header)
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ConnectionSlot.hpp"
#include "chronos/Job.hpp"
#include "chronos/MPMCQueue.hpp"
#include "chronos/Runtime.hpp"
#include "chronos/WorkerPool.hpp"
#include "reactor/ConnectionIo.hpp"
#include "reactor/Counters.hpp"
#include "reactor/ListenerSet.hpp"
#include "reactor/Reactor.hpp"
#include "reactor/Watchdog.hpp"

namespace spdlog {
class logger;
}

namespace chronos {

class Scheduler {
 public:
  using PluginLookup = ListenerSet::PluginLookup;

  Scheduler(const RuntimeConfig& config, std::shared_ptr<spdlog::logger> log);
  ~Scheduler();

  // Creates every listening socket, each served by the plugin `lookup` names. Throws.
  void bind(const PluginLookup& lookup);
  bool bound() const noexcept { return bound_; }
  std::uint16_t port(std::string_view listener) const { return listeners_.port(listener); }

  // Makes `listeners` the live set (before run(), or on reactor 0's thread while running):
  // a listener whose address is unchanged keeps its socket, so no connection attempt is lost;
  // new addresses are bound first, and if any bind fails (or a plugin is missing) it throws
  // and nothing changes. Removed sockets are closed once every reactor let go of them. Open
  // connections keep the plugin and listener they started with; those whose plugin was
  // replaced are closed after their listener's drain_timeout_ms, if set.
  void reconfigure(const std::vector<ListenerConfig>& listeners, const PluginLookup& lookup);

  // Calls `on_readable` on reactor 0's thread whenever `fd` becomes readable (edge-triggered:
  // drain it). Throws std::system_error if epoll refuses the descriptor.
  void watch(int fd, std::function<void()> on_readable) {
    reactors_[0]->watch(fd, std::move(on_readable));
  }

  // Runs `task` on reactor 0's thread soon (any thread); dropped unrun once the loop has ended.
  void post(Mailbox::Task task) { reactors_[0]->post(std::move(task)); }

  void run();             // the loops, then the clean stop; once
  void stop() noexcept {  // any thread, even a signal handler; cuts a drain short
    drain_.store(false, std::memory_order_relaxed);
    stop_.request();
  }
  void drain() noexcept {  // any thread: Runtime::drain
    drain_.store(true, std::memory_order_relaxed);
    stop_.request();
  }
  RuntimeStats stats() const noexcept { return counters_.snapshot(); }  // any thread
  std::size_t reactors() const noexcept { return reactors_.size(); }

  // Test hooks (tests/support/runtime_test_hooks.hpp).
  MPMCQueue<Job>& test_queue() noexcept { return queue_; }
  WorkerPool* test_pool() noexcept { return pool_ ? &*pool_ : nullptr; }
  // Queues a job for `handle` as the reactor would (to replay a stale handle).
  bool test_submit_job(std::uint64_t handle) { return pool_ && pool_->submit(io_.job_for(handle)); }
  // Each reactor's open connections (any thread; relaxed counts).
  std::vector<std::uint32_t> test_reactor_loads() const {
    std::vector<std::uint32_t> loads;
    for (const auto& r : reactors_) loads.push_back(r->load());
    return loads;
  }

 private:
  void start_reactor_threads();
  void pin(std::size_t thread) const;  // cpu_affinity: thread i (reactors, then workers)
  void finish_stop(const ListenerSet::Listeners& serving);
  const HandlerNames* names_for(const ListenerConfig& listener);

  RuntimeConfig config_;
  std::shared_ptr<spdlog::logger> log_;
  MPMCQueue<Job> queue_;
  std::optional<WorkerPool> pool_;

  // Shared with the reactors and the connections' owners — and stop_ with stop()'s callers.
  Counters counters_;
  StopSignal stop_;
  std::atomic<bool> drain_{false};  // the stop lets open connections end first
  std::size_t workers_;
  ConnectionTables tables_;  // one per reactor
  // Interned by reconfigure, read by the watchdog through the handlers' slots: declared before
  // it, so they outlive its thread.
  std::deque<HandlerNames> names_;
  Watchdog watchdog_;
  ConnectionIo io_{tables_, counters_, stop_, *log_, watchdog_};
  std::vector<std::unique_ptr<Reactor>> reactors_;
  Reactor::Shared shared_{config_, *log_,     counters_, stop_,    tables_,
                          io_,     watchdog_, drain_,    workers_, reactors_};

  // Reactor 0's thread's (or before run()).
  ListenerSet listeners_;
  std::vector<std::thread> threads_;  // reactors 1..N-1
  bool bound_ = false;
  bool running_ = false;
};

}  // namespace chronos
