// Scheduler: the reactor. One thread blocks in epoll_wait, accepts connections, and turns each
// readiness event into a Job on the queue that the worker pool drains (or, for `inline`
// listeners, serves the connection itself). Workers do the reads, handler calls and writes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "ConnectionSlot.hpp"
#include "EpollWrapper.hpp"
#include "chronos/Fd.hpp"
#include "chronos/Job.hpp"
#include "chronos/MPMCQueue.hpp"
#include "chronos/Runtime.hpp"
#include "chronos/WorkerPool.hpp"

namespace spdlog {
class logger;
}

namespace chronos {

// One listener as configured now. A reload that changes a listener builds a new ListenerState
// (moving the socket over when the address is unchanged); connections keep the one they were
// accepted under alive until they close.
struct ListenerState : std::enable_shared_from_this<ListenerState> {
  std::uint64_t id = 0;  // names the socket in epoll; kept while the socket is kept
  ListenerConfig config;
  Fd fd;
  std::uint16_t port = 0;
  std::shared_ptr<HandlerInstance> handler;
  // Connections open now; shared by every generation of the same-named listener.
  std::shared_ptr<std::atomic<std::size_t>> open = std::make_shared<std::atomic<std::size_t>>(0);
  bool accept_pending = false;       // an accept edge is waiting (reactor paused or backing off)
  std::int64_t paused_until_ms = 0;  // accept back-off after EMFILE without a spare fd
};

class Scheduler {
 public:
  using HandlerLookup = std::function<std::shared_ptr<HandlerInstance>(const std::string&)>;

  Scheduler(const RuntimeConfig& config, std::shared_ptr<spdlog::logger> log);
  ~Scheduler();

  // Creates every listening socket, each served by the handler `lookup` names. Throws.
  void bind(const HandlerLookup& lookup);
  bool bound() const noexcept { return bound_; }
  std::uint16_t port(std::string_view listener) const;

  // Makes `listeners` the live set (before run(), or on the reactor thread while running):
  // a listener whose address is unchanged keeps its socket, so no connection attempt is lost;
  // new addresses are bound first, and if any bind fails (or a handler is missing) it throws
  // and nothing changes. Removed sockets are closed. Open connections keep the handler and
  // listener they started with; those whose handler was replaced are closed after their
  // listener's drain_timeout_ms, if set.
  void reconfigure(const std::vector<ListenerConfig>& listeners, const HandlerLookup& lookup);

  // Calls `on_readable` on the reactor thread whenever `fd` becomes readable (edge-triggered:
  // drain it). Register before run().
  void watch(int fd, std::function<void()> on_readable);

  void run();            // the reactor loop, then the clean stop; call once
  void stop() noexcept;  // any thread, even a signal handler: one eventfd write
  RuntimeStats stats() const noexcept;

  MPMCQueue<Job>& queue() noexcept { return queue_; }
  WorkerPool* pool() noexcept { return pool_ ? &*pool_ : nullptr; }

  // Queues a job for `handle` as the reactor would (tests use it to replay a stale handle).
  bool submit_connection_job(std::uint64_t handle) {
    return pool_ && pool_->submit(job_for(handle));
  }

 private:
  struct Timer {
    std::int64_t deadline_ms;
    std::uint64_t handle;
    bool drain;  // a reload's drain deadline, not an idle check
    bool operator>(const Timer& other) const { return deadline_ms > other.deadline_ms; }
  };
  struct Watch {
    int fd;
    std::function<void()> on_readable;
  };

  // reactor thread
  void handle_event(const epoll_event& event);
  ListenerState* listener_by_id(std::uint64_t id) noexcept;
  void schedule_drains(const std::vector<std::shared_ptr<ListenerState>>& retired);
  void accept_all(ListenerState& listener);
  enum class Shed { one, backlog_empty, failed };
  Shed shed_one(ListenerState& listener);
  void open_connection(ListenerState& listener, int fd);
  void notify(ConnectionSlot& c, std::uint32_t events);
  void flush_jobs();
  void resume_accepting();
  void handle_timers();
  void arm_timer();
  void shutdown();
  Job job_for(std::uint64_t handle) { return Job{&Scheduler::connection_job, this, handle, 0}; }

  // the connection's owner (a worker, or the reactor for inline listeners)
  static void connection_job(void* self, std::uint64_t handle, std::uint64_t);
  void serve(ConnectionSlot& c);
  enum class Outcome { idle, closed, yielded };
  Outcome handle_events(ConnectionSlot& c, std::uint32_t events);
  bool read_and_deliver(ConnectionSlot& c, std::size_t& budget);
  bool deliver(ConnectionSlot& c);
  bool flush(ConnectionSlot& c);
  void close_connection(ConnectionSlot& c, bool call_on_close);
  bool yield(ConnectionSlot& c);

  RuntimeConfig config_;
  std::shared_ptr<spdlog::logger> log_;
  MPMCQueue<Job> queue_;
  std::optional<WorkerPool> pool_;
  EpollWrapper epoll_;
  Fd stop_fd_;   // eventfd: stop() and "last connection closed while stopping"
  Fd timer_fd_;  // timerfd: idle timeouts and accept back-off
  Fd spare_fd_;  // held open so EMFILE can be answered by accept-and-close
  ConnectionTable table_;
  std::vector<std::shared_ptr<ListenerState>> listeners_;
  std::vector<Watch> watches_;
  std::uint64_t next_listener_id_ = 0;
  bool bound_ = false;

  // reactor thread only
  std::vector<Job> batch_;                     // jobs from this epoll_wait round
  std::vector<Job> pending_;                   // jobs that did not fit in the queue, oldest first
  std::vector<std::uint64_t> inline_ready_;    // inline connections that yielded
  std::vector<std::uint64_t> inline_serving_;  // the ones being served again this round
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  bool paused_ = false;    // the queue is full: accept nothing until it drains
  bool coalesce_ = false;  // we share a CPU with the workers: see WorkerPool::wait_for_idle_worker
  bool running_ = false;

  std::atomic<bool> stopping_{false};
  // Relaxed counters: statistics, and open_ for the stop condition (checked with the eventfd).
  std::atomic<std::uint64_t> open_{0}, accepted_{0}, refused_{0}, closed_{0}, submitted_{0},
      queue_full_{0}, stale_{0}, idle_closed_{0}, oversized_{0}, accept_errors_{0}, drained_{0};
};

}  // namespace chronos
