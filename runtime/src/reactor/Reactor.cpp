#include "reactor/Reactor.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "Assert.hpp"

namespace chronos {
namespace ev = conn_event;
namespace {

constexpr int kMaxEvents = 256;
// The longest the reactor defers its epoll_wait while every worker is busy: bounds what a
// plugin that blocks costs accepts, timers and inline listeners.
constexpr std::chrono::microseconds kCoalesceLimit{200};

}  // namespace

Reactor::Reactor(std::uint32_t index, Shared& shared)
    : index_(index),
      shared_(shared),
      table_(shared.tables.of(index)),
      active_(shared.workers + shared.tables.size()),
      spare_fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {
  batch_.reserve(kMaxEvents);
  // The stop eventfd is every reactor's: none reads it, or another reactor's epoll_wait would
  // find it empty and report nothing (epoll re-checks readiness before it reports an edge).
  // Each write is a fresh edge for every reactor, and the counter cannot overflow in practice.
  watchers_.add(
      shared_.stop.fd(), [] {}, Watchers::During::shutdown);
  watchers_.add(timers_.fd(), [this] { timers_.expire([this](auto& due) { on_timer(due); }); });
  watchers_.add(mailbox_.fd(), [this] { mailbox_.run_posted(); });
  // A job of a listener at its cap finished: queue what now fits (flushed after this round).
  watchers_.add(active_.doorbell_fd(), [this] {
    active_.drain_doorbell();
    admit_waiting(false);
  });
}

Reactor::~Reactor() = default;

void Reactor::watch(int fd, std::function<void()> on_readable) {
  watchers_.add(fd, std::move(on_readable));
}

void Reactor::prepare_to_run() {
  CHRONOS_ASSERT(shared_.pool && !running_);
  running_ = true;
  // With a CPU of its own a reactor costs the workers nothing by waking for each event; when it
  // shares one, each wake-up preempts a worker, so it lets events pile up instead.
  coalesce_ = shared_.pool->size() + shared_.all.size() > WorkerPool::cpu_count();
  // Room in the queue again: flush_jobs() retries after this round. Shared by every reactor,
  // so never read, as the stop eventfd.
  room_watch_ = Watchers::Registration(
      watchers_, watchers_.add(
                     shared_.pool->room_fd(), [] {}, Watchers::During::shutdown));
}

void Reactor::run() {
  CHRONOS_ASSERT(running_);
  Watchdog::enter_reactor(index_);
  epoll_event events[kMaxEvents];
  while (!shared_.stop.requested()) {
    if (coalesce_ && pending_.empty() && inline_ready_.empty())
      shared_.pool->wait_for_idle_worker(kCoalesceLimit);
    // Inline connections that yielded are waiting: poll, do not block.
    const int n = epoll_.wait(events, kMaxEvents, inline_ready_.empty() ? -1 : 0);
    if (n < 0) {
      shared_.log.error("epoll_wait: {}", std::strerror(-n));
      shared_.stop.request();  // the other reactors cannot serve alone what we accepted
      break;
    }
    serve_round(events, n);
  }
}

void Reactor::serve_round(epoll_event* events, int n) {
  for (int i = 0; i < n; ++i) dispatch(events[i]);
  flush_jobs();
  // Inline connections that yielded are served again after everyone else had a turn.
  inline_serving_.swap(inline_ready_);
  for (std::uint64_t h : inline_serving_)
    if (ConnectionSlot* c = table_.find(h)) serve_inline(*c);
  inline_serving_.clear();  // keeps its capacity: no allocation per round
}

// An event is a watcher's (its callback runs) or a connection's (its owner gets the bits).
void Reactor::dispatch(const epoll_event& event) {
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
void Reactor::notify(ConnectionSlot& c, std::uint32_t events) {
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
    batch_.push_back(shared_.io.job_for(c.handle()));
    return;
  }
  active.wait(c.handle());        // owned by us now: its events pile up in `state` meanwhile
  admit(active, shutting_down_);  // asks for the doorbell if it must wait
}

// Queues the waiting connections that fit under their listener's cap now (all, with `force`).
void Reactor::admit(ActiveJobs& active, bool force) {
  active.admit([this](std::uint64_t h) { batch_.push_back(shared_.io.job_for(h)); }, force);
}

void Reactor::admit_waiting(bool force) {
  for (const auto& active : active_.all())
    if (active->has_waiting()) admit(*active, force);
}

// The reactor as the owner of an inline connection; one that yielded waits for the next round.
void Reactor::serve_inline(ConnectionSlot& c) {
  CHRONOS_ASSERT(c.inline_mode);
  if (shared_.io.serve(c, shared_.watchdog.reactor_slot(index_)) == ConnectionIo::Served::yielded)
    inline_ready_.push_back(c.handle());
}

void Reactor::flush_jobs() {
  if (batch_.empty() && pending_.empty()) return;
  // Jobs left over from a full queue go first, so no connection is starved.
  pending_.insert(pending_.end(), batch_.begin(), batch_.end());
  batch_.clear();
  WorkerPool& pool = *shared_.pool;
  std::size_t done = pool.submit_batch(pending_.data(), pending_.size());
  if (done < pending_.size()) {
    Counters::add(shared_.counters.queue_full);
    pool.want_room();  // then one retry: a worker may have popped in between
    done += pool.submit_batch(pending_.data() + done, pending_.size() - done);
  }
  Counters::add(shared_.counters.submitted, done);
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));
  const bool was_paused = paused_;
  paused_ = !pending_.empty();  // wait for the room eventfd; accept nothing meanwhile
  if (was_paused && !paused_) resume_accepting();
}

// This reactor's part of a clean stop (every reactor runs it at once): stop accepting, ask each
// of its connections to close once its in-flight work is done, and wait until no connection is
// open on any reactor (at most shutdown_timeout_ms). The scheduler then joins the workers.
void Reactor::shutdown() {
  acceptors_.clear();  // the last reactor to let go of a socket closes it
  if (shared_.drain.load(std::memory_order_relaxed))
    serve_until_closed(now_ms() + shared_.config.shutdown_timeout_ms);
  shutting_down_ = true;
  for (std::uint32_t i = 0; i < table_.used(); ++i) {
    ConnectionSlot& c = table_.at(i);
    if (!(c.state.load(std::memory_order_relaxed) & ev::kClosed)) notify(c, ev::kClose);
  }
  admit_waiting(true);  // those waiting for room got their kClose bit too
  const std::int64_t deadline = now_ms() + shared_.config.shutdown_timeout_ms;
  epoll_event events[kMaxEvents];
  for (;;) {
    flush_jobs();
    if (shared_.counters.open.load(std::memory_order_relaxed) == 0) break;
    const std::int64_t left = deadline - now_ms();
    if (left <= 0) break;
    const int n =
        epoll_.wait(events, kMaxEvents, static_cast<int>(std::min<std::int64_t>(left, 1000)));
    for (int i = 0; i < n; ++i) dispatch(events[i]);
  }
  room_watch_.reset();  // before the scheduler ends the pool, and its eventfd with it
}

// A drain's first part: nothing is accepted any more (the sockets are closed), but the open
// connections and every watcher (signals, timers, posted tasks) are served as usual, until each
// connection has closed by itself (the last one rings the stop eventfd), `deadline` passes, or
// stop() turns the drain into a plain stop.
void Reactor::serve_until_closed(std::int64_t deadline) {
  epoll_event events[kMaxEvents];
  while (shared_.drain.load(std::memory_order_relaxed)) {
    flush_jobs();
    if (shared_.counters.open.load(std::memory_order_relaxed) == 0) break;
    const std::int64_t left = deadline - now_ms();
    if (left <= 0) break;
    const int wait_ms =
        inline_ready_.empty() ? static_cast<int>(std::min<std::int64_t>(left, 1000)) : 0;
    const int n = epoll_.wait(events, kMaxEvents, wait_ms);
    serve_round(events, std::max(n, 0));
  }
}

// Only identities are compared, never the owner's pointers.
void Reactor::log_busy(const ListenerSet::Listeners& serving, std::size_t& budget) const {
  for (std::uint32_t i = 0; i < table_.used() && budget > 0; ++i) {
    const ConnectionSlot& c = table_.at(i);
    if (c.state.load(std::memory_order_relaxed) & ev::kClosed) continue;
    std::string listener = "(a listener replaced by a reload)", plugin = "?";
    for (const auto& l : serving) {
      if (l.get() != c.listener_id) continue;
      listener = l->config.name;
      plugin = l->plugin.get() == c.plugin_id ? l->config.plugin : plugin;
    }
    shared_.log.warn("stop: still busy: listener {}, plugin {}, connection {:#x}", listener, plugin,
                     c.handle());
    --budget;
  }
}

// After the workers are joined: what is still open is the reactor's to close.
void Reactor::close_remaining() {
  for (std::uint32_t i = 0; i < table_.used(); ++i) {
    ConnectionSlot& c = table_.at(i);
    if (!(c.state.load(std::memory_order_relaxed) & ev::kClosed)) shared_.io.close(c, true);
  }
}

}  // namespace chronos
