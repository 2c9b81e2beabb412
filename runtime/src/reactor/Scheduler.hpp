// Scheduler: the reactor. One thread blocks in epoll_wait, accepts connections, and turns each
// readiness event into a Job on the queue that the worker pool drains (or, for `inline`
// listeners, serves the connection itself through ConnectionIo).
//
// Its parts, one file each:
//   Scheduler.cpp   the loop, event dispatch, the job batch, stop and shutdown
//   Accept.cpp      accepting: the EMFILE spare descriptor, accept pauses and back-off
//   Reload.cpp      listener reconfiguration, drains of replaced plugins, what a due timer does
//   Watchers        the reactor's own descriptors, each with its callback
//   Mailbox         tasks posted to the reactor from other threads
//   Timers          one deadline structure for idle timeouts, drains and back-offs
//   ListenerSet     the listeners as configured now
//   ActiveJobs      each listener's max_active: jobs counted, connections waiting for room
//   Watchdog        its own thread, naming handlers that run past slow_handler_ms
//   ConnectionIo    what a connection's owner runs (another thread role: see its header)
// Everything here but stop(), stats() and the test hooks is the reactor thread's (or runs
// before run()).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ConnectionSlot.hpp"
#include "EpollWrapper.hpp"
#include "chronos/Fd.hpp"
#include "chronos/Job.hpp"
#include "chronos/MPMCQueue.hpp"
#include "chronos/Runtime.hpp"
#include "chronos/WorkerPool.hpp"
#include "reactor/ActiveJobs.hpp"
#include "reactor/ConnectionIo.hpp"
#include "reactor/Counters.hpp"
#include "reactor/ListenerSet.hpp"
#include "reactor/Mailbox.hpp"
#include "reactor/Timers.hpp"
#include "reactor/Watchdog.hpp"
#include "reactor/Watchers.hpp"

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

  // Makes `listeners` the live set (before run(), or on the reactor thread while running):
  // a listener whose address is unchanged keeps its socket, so no connection attempt is lost;
  // new addresses are bound first, and if any bind fails (or a plugin is missing) it throws
  // and nothing changes. Removed sockets are closed. Open connections keep the plugin and
  // listener they started with; those whose plugin was replaced are closed after their
  // listener's drain_timeout_ms, if set.
  void reconfigure(const std::vector<ListenerConfig>& listeners, const PluginLookup& lookup);

  // Calls `on_readable` on the reactor thread whenever `fd` becomes readable (edge-triggered:
  // drain it). Throws std::system_error if epoll refuses the descriptor.
  void watch(int fd, std::function<void()> on_readable);

  // Runs `task` on the reactor thread soon (any thread); dropped unrun once the loop has ended.
  void post(Mailbox::Task task) { mailbox_.post(std::move(task)); }

  void run();             // the loop, then the clean stop; once
  void stop() noexcept {  // any thread, even a signal handler; cuts a drain short
    drain_.store(false, std::memory_order_relaxed);
    stop_.request();
  }
  void drain() noexcept {  // any thread: Runtime::drain
    drain_.store(true, std::memory_order_relaxed);
    stop_.request();
  }
  RuntimeStats stats() const noexcept { return counters_.snapshot(); }  // any thread

  // Test hooks (tests/support/runtime_test_hooks.hpp).
  MPMCQueue<Job>& test_queue() noexcept { return queue_; }
  WorkerPool* test_pool() noexcept { return pool_ ? &*pool_ : nullptr; }
  // Queues a job for `handle` as the reactor would (to replay a stale handle).
  bool test_submit_job(std::uint64_t handle) { return pool_ && pool_->submit(io_.job_for(handle)); }

 private:
  // Scheduler.cpp
  void start();
  void serve_round(epoll_event* events, int n);
  // On every event's path and defined in Scheduler.cpp only, so inlined there (measured: each
  // call costs about 10 instructions per echo message).
  [[gnu::always_inline]] inline void dispatch(const epoll_event& event);
  void notify(ConnectionSlot& c, std::uint32_t events);
  [[gnu::always_inline]] inline void serve_inline(ConnectionSlot& c);
  void admit(ActiveJobs& active, bool force);
  void admit_waiting(bool force);
  void flush_jobs();
  void shutdown();
  void serve_until_closed(std::int64_t deadline);
  void close_all_connections();
  void log_busy_connections(const ListenerSet::Listeners& serving, std::size_t left) const;
  // Accept.cpp
  void accept_all(ListenerState& listener);
  bool accept_paused(const ListenerState& listener) const;
  bool on_accept_error(ListenerState& listener, int error);
  enum class Shed { one, backlog_empty, failed };
  Shed shed_one(ListenerState& listener);
  void open_connection(ListenerState& listener, int fd);
  bool register_connection(ConnectionSlot& c, const ListenerState& listener);
  void resume_accepting();
  // Reload.cpp
  void schedule_drains(const ListenerSet::Listeners& retired);
  void apply_caps();
  const HandlerNames* names_for(const ListenerConfig& listener);
  void on_timer(const Timers::Deadline& due);

  RuntimeConfig config_;
  std::shared_ptr<spdlog::logger> log_;
  MPMCQueue<Job> queue_;
  std::optional<WorkerPool> pool_;
  // Declared before what registers with them (listeners, connection slots that hold listeners),
  // so they are destroyed after it.
  EpollWrapper epoll_;
  Watchers watchers_{epoll_};
  Timers timers_;

  // Shared with the connections' owners (ConnectionIo) — and stop_ with stop()'s callers.
  Counters counters_;
  StopSignal stop_;
  Mailbox mailbox_;                 // and with Runtime::post's callers
  std::atomic<bool> drain_{false};  // the stop lets open connections end first
  ConnectionTable table_;  // slots: allocated here, released by whichever owner closes them
  // Indexed by handler thread: each worker, then the reactor (Watchdog::thread_index).
  std::size_t workers_;
  // Interned by the reactor (apply_caps), read by the watchdog through the handlers' slots:
  // declared before it, so they outlive its thread.
  std::deque<HandlerNames> names_;
  Watchdog watchdog_{workers_ + 1, config_.slow_handler_ms, *log_, counters_};
  ActiveJobsRegistry active_{workers_ + 1};  // the reactor's, but for the owners' finish()
  ConnectionIo io_{table_, counters_, stop_, *log_, watchdog_};

  // The reactor thread's alone.
  ListenerSet listeners_;
  ListenerSet::OnAcceptable on_acceptable_;
  Watchers::Registration room_watch_;  // the pool's room eventfd, while the pool lives
  Fd spare_fd_;                        // held open so EMFILE can be answered by accept-and-close
  std::vector<Job> batch_;             // jobs from this epoll_wait round
  std::vector<Job> pending_;           // jobs that did not fit in the queue, oldest first
  std::vector<std::uint64_t> inline_ready_;    // inline connections that yielded
  std::vector<std::uint64_t> inline_serving_;  // the ones being served again this round
  bool bound_ = false;
  bool paused_ = false;    // the queue is full: accept nothing until it drains
  bool coalesce_ = false;  // we share a CPU with the workers: see WorkerPool::wait_for_idle_worker
  bool running_ = false;
  bool shutting_down_ = false;
};

}  // namespace chronos
