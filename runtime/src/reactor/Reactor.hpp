// Reactor: one event loop on one thread. It blocks in epoll_wait, accepts connections on every
// listener, and turns each readiness event into a Job on the shared queue that the worker pool
// drains (or, for `inline` listeners, serves the connection itself through ConnectionIo).
//
// A scheduler runs `reactors:` of them (Scheduler.hpp). Each has its own epoll set, timers,
// mailbox, connection table and accept state, and touches no other reactor's: a connection
// stays with the reactor that accepted it (its handle says which, ConnectionTable), so
// everything about it that is not its owner's is that reactor's alone, reachable without a lock
// from the handle. That is the seam for what later capabilities keep per reactor. What the
// reactors share is in Reactor::Shared, each piece with its own thread rules.
//
// Its parts, one file each:
//   Reactor.cpp     the loop, event dispatch, the job batch, the stop
//   Accept.cpp      accepting: balancing, the EMFILE spare descriptor, pauses and back-off
//   Reload.cpp      taking a new listener set, drains of replaced plugins, what a due timer does
//   Watchers        the reactor's own descriptors, each with its callback
//   Mailbox         tasks posted to the reactor from other threads
//   Timers          one deadline structure for idle timeouts, drains and back-offs
//   ActiveJobs      each listener's max_active: jobs counted, connections waiting for room
//   ConnectionIo    what a connection's owner runs (another thread role: see its header)
// Everything here but post(), load() and the constructor is the reactor's own thread's (or
// runs before the threads start, or after they were joined).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "ConnectionSlot.hpp"
#include "EpollWrapper.hpp"
#include "chronos/Fd.hpp"
#include "chronos/Job.hpp"
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

class Reactor {
 public:
  // What the reactors share: the scheduler's, made before them and outliving them.
  struct Shared {
    const RuntimeConfig& config;
    spdlog::logger& log;
    Counters& counters;  // relaxed counters, any thread
    StopSignal& stop;    // its eventfd is in every reactor's set, never read: see Counters.hpp
    ConnectionTables& tables;
    ConnectionIo& io;
    Watchdog& watchdog;
    const std::atomic<bool>& drain;  // the stop lets open connections end first
    std::size_t workers;
    std::vector<std::unique_ptr<Reactor>>& all;  // every reactor, for hand-offs; fixed
    WorkerPool* pool = nullptr;                  // set before any reactor thread starts
  };

  Reactor(std::uint32_t index, Shared& shared);
  ~Reactor();

  std::uint32_t index() const noexcept { return index_; }

  // Calls `on_readable` on this reactor's thread whenever `fd` becomes readable (edge-triggered:
  // drain it). Throws std::system_error if epoll refuses the descriptor.
  void watch(int fd, std::function<void()> on_readable);

  // Runs `task` on this reactor's thread soon (any thread); dropped unrun once the loop ended.
  void post(Mailbox::Task task) { mailbox_.post(std::move(task)); }

  // Takes `live` as the listener set (this reactor's thread, or before the threads start):
  // registers new sockets, lets go of removed ones, sets each listener's max_active share, and
  // schedules the drains of this reactor's connections accepted under `retired` listeners.
  void adopt(const ListenerSet::Listeners& live, const ListenerSet::Listeners& retired);

  void prepare_to_run();  // before any reactor thread starts (needs Shared::pool)
  void run();             // the loop, until stop is requested
  // This reactor's part of a clean stop, right after run(); every reactor runs it at once.
  void shutdown();

  // After every reactor's run() returned and the pool was joined: closes what is still open.
  void close_remaining();
  // Names (up to `budget`, which it lowers) this reactor's connections still open at a stuck stop.
  void log_busy(const ListenerSet::Listeners& serving, std::size_t& budget) const;

  // How many connections this reactor holds or has been handed (any thread; a balancing hint).
  std::uint32_t load() const noexcept {
    return table_.live() + incoming_.load(std::memory_order_relaxed);
  }

 private:
  // One listening socket as this reactor sees it: its registration and accept state. Boxed, so
  // the callback's reference survives the vector growing.
  struct Acceptor {
    std::shared_ptr<ListenerState> listener;  // what it accepts for now
    std::shared_ptr<const Fd> socket;         // holds it open while registered here
    Watchers::Registration watch;
    ActiveJobs* active = nullptr;      // this reactor's count for the listener's name
    bool accept_pending = false;       // an accept edge is waiting (paused or backing off)
    std::int64_t paused_until_ms = 0;  // accept back-off after EMFILE without a spare fd
  };

  // Reactor.cpp
  void serve_round(epoll_event* events, int n);
  // On every event's path and defined in Reactor.cpp only, so inlined there (measured: each
  // call costs about 10 instructions per echo message).
  [[gnu::always_inline]] inline void dispatch(const epoll_event& event);
  void notify(ConnectionSlot& c, std::uint32_t events);
  [[gnu::always_inline]] inline void serve_inline(ConnectionSlot& c);
  void admit(ActiveJobs& active, bool force);
  void admit_waiting(bool force);
  void flush_jobs();
  void serve_until_closed(std::int64_t deadline);
  // Accept.cpp
  void accept_all(Acceptor& acceptor);
  bool accept_paused(const Acceptor& acceptor) const;
  bool on_accept_error(Acceptor& acceptor, int error);
  enum class Shed { one, backlog_empty, failed };
  Shed shed_one(Acceptor& acceptor);
  Reactor* balance_target() const noexcept;
  void hand_off(Reactor& target, const Acceptor& acceptor, int fd);
  void open_connection(ListenerState& listener, ActiveJobs& active, int fd);
  bool register_connection(ConnectionSlot& c, const ListenerState& listener);
  void resume_accepting();
  ActiveJobs* active_for(const ListenerState& listener) noexcept;
  // Reload.cpp
  void apply_caps();
  void schedule_drains(const ListenerSet::Listeners& retired);
  void on_timer(const Timers::Deadline& due);

  const std::uint32_t index_;
  Shared& shared_;
  ConnectionTable& table_;  // this reactor's slots; released by whichever owner closes them
  // Declared before what registers with them (acceptors, connection slots that hold
  // listeners), so they are destroyed after it.
  EpollWrapper epoll_;
  Watchers watchers_{epoll_};
  Timers timers_;
  Mailbox mailbox_;  // shared with the threads that post
  // Connections handed to us and not yet opened (written by the reactor that hands one off).
  alignas(kCacheLine) std::atomic<std::uint32_t> incoming_{0};
  // Indexed by handler thread (Watchdog::thread_index); rung by owners that finish a job.
  alignas(kCacheLine) ActiveJobsRegistry active_;

  // This reactor's thread's alone.
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  ListenerSet::Listeners live_;        // the listener set as this reactor took it last
  Watchers::Registration room_watch_;  // the pool's room eventfd, while the pool lives
  Fd spare_fd_;                        // held open so EMFILE can be answered by accept-and-close
  std::vector<Job> batch_;             // jobs from this epoll_wait round
  std::vector<Job> pending_;           // jobs that did not fit in the queue, oldest first
  std::vector<std::uint64_t> inline_ready_;    // inline connections that yielded
  std::vector<std::uint64_t> inline_serving_;  // the ones being served again this round
  bool paused_ = false;                        // the queue is full: accept nothing until it drains
  bool coalesce_ = false;  // we share a CPU with the workers: see WorkerPool::wait_for_idle_worker
  bool running_ = false;
  bool shutting_down_ = false;
};

}  // namespace chronos
