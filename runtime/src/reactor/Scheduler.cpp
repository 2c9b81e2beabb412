#include "reactor/Scheduler.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <spdlog/spdlog.h>

#include "Assert.hpp"

namespace chronos {
namespace ev = conn_event;
namespace {

constexpr int kMaxEvents = 256;
// The longest the reactor defers its epoll_wait while every worker is busy: bounds what a
// plugin that blocks costs accepts, timers and inline listeners.
constexpr std::chrono::microseconds kCoalesceLimit{200};

void drain_eventfd(int fd) noexcept {
  std::uint64_t value;
  [[maybe_unused]] const auto ignored = ::read(fd, &value, sizeof(value));
}

}  // namespace

// ---- Counters, Doorbell and StopSignal (Counters.hpp): small enough to live with their one user.

RuntimeStats Counters::snapshot() const noexcept {
  auto get = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  RuntimeStats s;
  s.accepted = get(accepted);
  s.refused = get(refused);
  s.closed = get(closed);
  s.open = get(open);
  s.jobs_submitted = get(submitted);
  s.queue_full = get(queue_full);
  s.stale_jobs = get(stale);
  s.idle_closed = get(idle_closed);
  s.oversized_closed = get(oversized);
  s.accept_errors = get(accept_errors);
  s.drained = get(drained);
  s.slow_handlers = get(slow_handlers);
  return s;
}

Doorbell::Doorbell() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
}

void Doorbell::ring() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto ignored = ::write(fd_.get(), &one, sizeof(one));
}

void Doorbell::drain() noexcept { drain_eventfd(fd_.get()); }

void StopSignal::drain() noexcept {
  bell_.drain();
  // Relaxed: the eventfd read already ordered us after the writer's request().
  stopping_.store(true, std::memory_order_relaxed);
}

// ---- The scheduler

Scheduler::Scheduler(const RuntimeConfig& config, std::shared_ptr<spdlog::logger> log)
    : config_(config),
      log_(std::move(log)),
      queue_(config.queue_capacity),
      workers_(config.workers ? config.workers : WorkerPool::cpu_count()),
      on_acceptable_([this](ListenerState& listener) { accept_all(listener); }),
      spare_fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {
  batch_.reserve(kMaxEvents);
  watchers_.add(
      stop_.fd(), [this] { stop_.drain(); }, Watchers::During::shutdown);
  watchers_.add(timers_.fd(), [this] { timers_.expire([this](auto& due) { on_timer(due); }); });
  watchers_.add(mailbox_.fd(), [this] { mailbox_.run_posted(); });
  // A job of a listener at its cap finished: queue what now fits (flushed after this round).
  watchers_.add(active_.doorbell_fd(), [this] {
    active_.drain_doorbell();
    admit_waiting(false);
  });
}

Scheduler::~Scheduler() = default;

void Scheduler::watch(int fd, std::function<void()> on_readable) {
  watchers_.add(fd, std::move(on_readable));
}

void Scheduler::run() {
  if (running_) throw std::logic_error("Scheduler::run called twice");
  start();
  epoll_event events[kMaxEvents];
  while (!stop_.requested()) {
    if (coalesce_ && pending_.empty() && inline_ready_.empty())
      pool_->wait_for_idle_worker(kCoalesceLimit);
    // Inline connections that yielded are waiting: poll, do not block.
    const int n = epoll_.wait(events, kMaxEvents, inline_ready_.empty() ? -1 : 0);
    if (n < 0) {
      log_->error("epoll_wait: {}", std::strerror(-n));
      break;
    }
    serve_round(events, n);
  }
  shutdown();
}

void Scheduler::start() {
  running_ = true;
  pool_.emplace(queue_, workers_, log_);
  // The watchdog's slots and the max_active lines are indexed by worker: one each, + the reactor.
  CHRONOS_ASSERT(pool_->size() == workers_);
  io_.use_pool(*pool_);
  watchdog_.start();
  // With a CPU of its own the reactor costs the workers nothing by waking for each event; when
  // it shares one, each wake-up preempts a worker, so it lets events pile up instead.
  coalesce_ = pool_->size() + 1 > WorkerPool::cpu_count();
  // Room in the queue again: flush_jobs() retries after this round.
  const int room_fd = pool_->room_fd();
  room_watch_ = Watchers::Registration(
      watchers_, watchers_.add(
                     room_fd, [room_fd] { drain_eventfd(room_fd); }, Watchers::During::shutdown));
  for (const auto& l : listeners_.all())
    log_->info("listening on {} ({}, {} mode)", l->config.address, l->config.name,
               l->config.execution == Execution::inline_ ? "inline" : "pool");
}

void Scheduler::serve_round(epoll_event* events, int n) {
  for (int i = 0; i < n; ++i) dispatch(events[i]);
  flush_jobs();
  // Inline connections that yielded are served again after everyone else had a turn.
  inline_serving_.swap(inline_ready_);
  for (std::uint64_t h : inline_serving_)
    if (ConnectionSlot* c = table_.find(h)) serve_inline(*c);
  inline_serving_.clear();  // keeps its capacity: no allocation per round
}

// An event is a watcher's (its callback runs) or a connection's (its owner gets the bits).
void Scheduler::dispatch(const epoll_event& event) {
  const std::uint64_t token = event.data.u64;
  if (Watchers::is_watcher(token)) {
    watchers_.dispatch(token, shutting_down_);
    return;
  }
  if (shutting_down_) return;  // moot: every connection already has a close queued
  ConnectionSlot* c = table_.find(token);
  if (!c) return;  // an event for a connection that closed and whose slot was reused
  std::uint32_t bits = 0;
  if (event.events & EPOLLIN) bits |= ev::kRead;
  if (event.events & EPOLLOUT) bits |= ev::kWrite;
  if (event.events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) bits |= ev::kRead | ev::kHangup;
  notify(*c, bits);
}

// Hands `events` to the connection's owner, making one if there is none (the state machine
// of ConnectionSlot.hpp): one atomic RMW per event, no syscall.
void Scheduler::notify(ConnectionSlot& c, std::uint32_t events) {
  // Acq_rel: acquire the previous owner's writes (it released kOwned), and release our bits to
  // the owner that takes them with its exchange.
  const std::uint32_t old = c.state.fetch_or(events | ev::kOwned, std::memory_order_acq_rel);
  if (old & (ev::kOwned | ev::kClosed)) return;  // the owner will see the bits, or nobody is
  if (c.inline_mode) {
    serve_inline(c);
    return;
  }
  ActiveJobs& active = *c.active;
  // A stop closes everything: no cap then. Otherwise first come, first served.
  if (!active.has_waiting() && active.try_start(shutting_down_)) {
    batch_.push_back(io_.job_for(c.handle()));
    return;
  }
  active.wait(c.handle());        // owned by us now: its events pile up in `state` meanwhile
  admit(active, shutting_down_);  // asks for the doorbell if it must wait
}

// Queues the waiting connections that fit under their listener's cap now (all, with `force`).
void Scheduler::admit(ActiveJobs& active, bool force) {
  active.admit([this](std::uint64_t h) { batch_.push_back(io_.job_for(h)); }, force);
}

void Scheduler::admit_waiting(bool force) {
  for (const auto& active : active_.all())
    if (active->has_waiting()) admit(*active, force);
}

// The reactor as the owner of an inline connection; one that yielded waits for the next round.
void Scheduler::serve_inline(ConnectionSlot& c) {
  CHRONOS_ASSERT(c.inline_mode);
  if (io_.serve(c, watchdog_.reactor_slot()) == ConnectionIo::Served::yielded)
    inline_ready_.push_back(c.handle());
}

void Scheduler::flush_jobs() {
  if (batch_.empty() && pending_.empty()) return;
  // Jobs left over from a full queue go first, so no connection is starved.
  pending_.insert(pending_.end(), batch_.begin(), batch_.end());
  batch_.clear();
  std::size_t done = pool_->submit_batch(pending_.data(), pending_.size());
  if (done < pending_.size()) {
    Counters::add(counters_.queue_full);
    pool_->want_room();  // then one retry: a worker may have popped in between
    done += pool_->submit_batch(pending_.data() + done, pending_.size() - done);
  }
  Counters::add(counters_.submitted, done);
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));
  const bool was_paused = paused_;
  paused_ = !pending_.empty();  // wait for the room eventfd; accept nothing meanwhile
  if (was_paused && !paused_) resume_accepting();
}

// Clean stop: stop accepting, ask every connection to close once its in-flight work is done,
// wait for that (at most shutdown_timeout_ms), then join the workers and close what is left.
void Scheduler::shutdown() {
  // Kept alive past close_all so that a stuck connection can still be named by its listener.
  const ListenerSet::Listeners serving = listeners_.all();
  listeners_.close_all();
  if (drain_.load(std::memory_order_relaxed))
    serve_until_closed(now_ms() + config_.shutdown_timeout_ms);
  shutting_down_ = true;
  for (std::uint32_t i = 0; i < table_.used(); ++i) {
    ConnectionSlot& c = table_.at(i);
    if (!(c.state.load(std::memory_order_relaxed) & ev::kClosed)) notify(c, ev::kClose);
  }
  admit_waiting(true);  // those waiting for room got their kClose bit too
  const std::int64_t deadline = now_ms() + config_.shutdown_timeout_ms;
  epoll_event events[kMaxEvents];
  for (;;) {
    flush_jobs();
    if (counters_.open.load(std::memory_order_relaxed) == 0) break;
    const std::int64_t left = deadline - now_ms();
    if (left <= 0) break;
    const int n =
        epoll_.wait(events, kMaxEvents, static_cast<int>(std::min<std::int64_t>(left, 1000)));
    for (int i = 0; i < n; ++i) dispatch(events[i]);
  }
  if (const auto left = counters_.open.load(std::memory_order_relaxed)) {
    log_busy_connections(serving, left);
    // The program exits here (a handler that never returns must not keep it alive); an embedder
    // that sets no callback waits for its handlers, as the pool can only join returned workers.
    if (config_.on_stuck_stop) config_.on_stuck_stop(left);
  }
  room_watch_.reset();
  pool_.reset();  // runs what is queued (the close requests), then joins every worker
  watchdog_.stop();
  close_all_connections();
  log_->info("stopped: {} connection(s) served",
             counters_.accepted.load(std::memory_order_relaxed));
}

// A drain's first part: nothing is accepted any more (the listeners are closed), but the open
// connections and every watcher (signals, timers, posted tasks) are served as usual, until each
// connection has closed by itself (the last one wakes the stop signal), `deadline` passes, or
// stop() turns the drain into a plain stop.
void Scheduler::serve_until_closed(std::int64_t deadline) {
  epoll_event events[kMaxEvents];
  while (drain_.load(std::memory_order_relaxed)) {
    flush_jobs();
    if (counters_.open.load(std::memory_order_relaxed) == 0) break;
    const std::int64_t left = deadline - now_ms();
    if (left <= 0) break;
    const int wait_ms =
        inline_ready_.empty() ? static_cast<int>(std::min<std::int64_t>(left, 1000)) : 0;
    const int n = epoll_.wait(events, kMaxEvents, wait_ms);
    serve_round(events, std::max(n, 0));
  }
}

// Names (at most kMaxNamed of) the connections still open after shutdown_timeout_ms: their
// handlers have not returned. Only identities are compared, never the owner's pointers.
void Scheduler::log_busy_connections(const ListenerSet::Listeners& serving,
                                     std::size_t left) const {
  constexpr std::size_t kMaxNamed = 20;
  log_->warn("stop: {} connection(s) still busy in their handlers after {} ms", left,
             config_.shutdown_timeout_ms);
  std::size_t named = 0;
  for (std::uint32_t i = 0; i < table_.used() && named < kMaxNamed; ++i) {
    const ConnectionSlot& c = table_.at(i);
    if (c.state.load(std::memory_order_relaxed) & ev::kClosed) continue;
    std::string listener = "(a listener replaced by a reload)", plugin = "?";
    for (const auto& l : serving) {
      if (l.get() != c.listener_id) continue;
      listener = l->config.name;
      plugin = l->plugin.get() == c.plugin_id ? l->config.plugin : plugin;
    }
    log_->warn("stop: still busy: listener {}, plugin {}, connection {:#x}", listener, plugin,
               c.handle());
    ++named;
  }
}

// After the workers are joined: what is still open is the reactor's to close.
void Scheduler::close_all_connections() {
  for (std::uint32_t i = 0; i < table_.used(); ++i) {
    ConnectionSlot& c = table_.at(i);
    if (!(c.state.load(std::memory_order_relaxed) & ev::kClosed)) io_.close(c, true);
  }
}

}  // namespace chronos
