#include "Scheduler.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <spdlog/spdlog.h>

#include "Handler.hpp"
#include "Socket.hpp"

namespace chronos {
namespace ev = conn_event;
namespace {

// epoll tokens of the reactor's own descriptors; connection handles never have generation 0.
constexpr std::uint64_t kStopToken = 0;
constexpr std::uint64_t kRoomToken = 1;
constexpr std::uint64_t kTimerToken = 2;
constexpr std::uint64_t kWatchTokenBase = 16;             // + index into watches_
constexpr std::uint64_t kListenerTokenBase = 1ull << 20;  // + ListenerState::id

constexpr int kMaxEvents = 256;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kReadBudget = 1024 * 1024;  // bytes one serve round reads before yielding
constexpr std::int64_t kAcceptBackoffMs = 100;
// The longest the reactor defers its epoll_wait while every worker is busy: bounds what a
// handler that blocks costs accepts, timers and inline listeners.
constexpr std::chrono::microseconds kCoalesceLimit{200};

std::int64_t now_ms() noexcept {
  timespec ts;
  // COARSE: a vDSO read of the tick clock; millisecond precision is all idle timeouts need.
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

void drain_eventfd(int fd) noexcept {
  std::uint64_t value;
  [[maybe_unused]] const auto ignored = ::read(fd, &value, sizeof(value));
}

void signal_eventfd(int fd) noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto ignored = ::write(fd, &one, sizeof(one));
}

Fd make_fd(int fd, const char* what) {
  if (fd < 0) throw std::system_error(errno, std::generic_category(), what);
  return Fd(fd);
}

}  // namespace

Scheduler::Scheduler(const RuntimeConfig& config, std::shared_ptr<spdlog::logger> log)
    : config_(config),
      log_(std::move(log)),
      queue_(config.queue_capacity),
      stop_fd_(make_fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd")),
      timer_fd_(make_fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "timerfd")),
      spare_fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {
  batch_.reserve(kMaxEvents);
}

Scheduler::~Scheduler() = default;

void Scheduler::bind(const HandlerLookup& lookup) { reconfigure(config_.listeners, lookup); }

void Scheduler::watch(int fd, std::function<void()> on_readable) {
  watches_.push_back({fd, std::move(on_readable)});
}

ListenerState* Scheduler::listener_by_id(std::uint64_t id) noexcept {
  for (auto& l : listeners_)
    if (l->id == id) return l.get();
  return nullptr;  // removed by a reload while its event was in flight
}

void Scheduler::reconfigure(const std::vector<ListenerConfig>& configs,
                            const HandlerLookup& lookup) {
  // Phase 1, may throw: resolve handlers and bind new addresses. Nothing live changes yet.
  std::vector<std::shared_ptr<ListenerState>> next;
  std::vector<ListenerState*> reused(configs.size(), nullptr);  // old socket to move over
  for (std::size_t i = 0; i < configs.size(); ++i) {
    const ListenerConfig& config = configs[i];
    auto listener = std::make_shared<ListenerState>();
    listener->config = config;
    listener->handler = lookup(config.handler);
    if (!listener->handler)
      throw RuntimeError(RuntimeError::Subject::listener, config.name,
                         "listener " + config.name + ": no handler named " + config.handler);
    for (auto& old : listeners_)
      if (old->config.address == config.address && old->fd &&
          std::find(reused.begin(), reused.end(), old.get()) == reused.end())
        reused[i] = old.get();
    if (!reused[i]) {
      try {
        listener->fd = listen_on(config.address);
      } catch (const std::system_error& e) {
        throw RuntimeError(RuntimeError::Subject::listener, config.name,
                           "listener " + config.name + ": " + e.what());
      }
      listener->port = local_port(listener->fd.get());
      listener->id = next_listener_id_++;
    }
    next.push_back(std::move(listener));
  }
  // Phase 2, cannot fail: move kept sockets over, register new ones, close removed ones.
  for (std::size_t i = 0; i < next.size(); ++i) {
    ListenerState& listener = *next[i];
    for (auto& old : listeners_)
      if (old->config.name == listener.config.name) listener.open = old->open;
    if (ListenerState* old = reused[i]) {
      listener.fd = std::move(old->fd);  // same socket, same epoll registration and token
      listener.id = old->id;
      listener.port = old->port;
      listener.accept_pending = old->accept_pending;
      listener.paused_until_ms = old->paused_until_ms;
    } else if (const int rc =
                   epoll_.add(listener.fd.get(), EPOLLIN, kListenerTokenBase + listener.id);
               rc < 0) {
      log_->error("{}: epoll_ctl(add listener): {}", listener.config.name, std::strerror(-rc));
    }
  }
  std::vector<std::shared_ptr<ListenerState>> retired;
  retired.swap(listeners_);
  listeners_ = std::move(next);
  bound_ = true;
  for (auto& old : retired) old->fd.reset();  // a removed address: closing unregisters it
  schedule_drains(retired);
  // A kept socket may have connections waiting from before; edge-triggered, so look now.
  for (auto& l : listeners_)
    if (running_ && l->accept_pending) accept_all(*l);
}

// Connections whose handler was replaced are closed after their listener's drain_timeout_ms.
void Scheduler::schedule_drains(const std::vector<std::shared_ptr<ListenerState>>& retired) {
  const std::int64_t now = now_ms();
  bool armed = false;
  for (std::uint32_t i = 0; i < table_.used(); ++i) {
    ConnectionSlot& c = table_.at(i);
    if (c.state.load(std::memory_order_relaxed) & ev::kClosed) continue;
    // Which listener was it accepted under? Compared by address only: `retired` keeps them alive.
    const ListenerState* was = nullptr;
    for (const auto& old : retired)
      if (old.get() == c.listener_id) was = old.get();
    if (!was) continue;
    std::uint32_t drain_ms = 0;
    bool replaced = true;
    for (const auto& l : listeners_)
      if (l->config.name == was->config.name) {
        drain_ms = l->config.drain_timeout_ms;
        replaced = l->handler.get() != c.handler_id;
      }
    if (drain_ms == 0 && replaced) drain_ms = was->config.drain_timeout_ms;  // listener removed
    if (drain_ms == 0 || !replaced) continue;
    timers_.push({now + drain_ms, c.handle(), true});
    armed = true;
  }
  if (armed) arm_timer();
}

std::uint16_t Scheduler::port(std::string_view name) const {
  for (const auto& l : listeners_)
    if (l->config.name == name) return l->port;
  throw std::out_of_range("no listener named " + std::string(name));
}

void Scheduler::stop() noexcept {
  // Release, paired with the loop's acquire: the reactor can also leave its loop by seeing this
  // flag without reading the eventfd, and what the stopping thread did before stop() must then
  // still happen before shutdown() (the eventfd write only wakes a reactor blocked in epoll_wait).
  stopping_.store(true, std::memory_order_release);
  signal_eventfd(stop_fd_.get());
}

RuntimeStats Scheduler::stats() const noexcept {
  auto get = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  RuntimeStats s;
  s.accepted = get(accepted_);
  s.refused = get(refused_);
  s.closed = get(closed_);
  s.open = get(open_);
  s.jobs_submitted = get(submitted_);
  s.queue_full = get(queue_full_);
  s.stale_jobs = get(stale_);
  s.idle_closed = get(idle_closed_);
  s.oversized_closed = get(oversized_);
  s.accept_errors = get(accept_errors_);
  s.drained = get(drained_);
  return s;
}

// ---------------------------------------------------------------------------------------------
// The reactor

void Scheduler::run() {
  if (running_) throw std::logic_error("Scheduler::run called twice");
  running_ = true;
  pool_.emplace(queue_, config_.workers, log_);
  // With a CPU of its own the reactor costs the workers nothing by waking for each event; when
  // it shares one, each wake-up preempts a worker, so it lets events pile up instead.
  coalesce_ = pool_->size() + 1 > WorkerPool::cpu_count();
  auto must = [](int rc, const char* what) {
    if (rc < 0) throw std::system_error(-rc, std::generic_category(), what);
  };
  must(epoll_.add(stop_fd_.get(), EPOLLIN, kStopToken), "epoll_ctl(stop)");
  must(epoll_.add(pool_->room_fd(), EPOLLIN, kRoomToken), "epoll_ctl(room)");
  must(epoll_.add(timer_fd_.get(), EPOLLIN, kTimerToken), "epoll_ctl(timer)");
  for (std::size_t i = 0; i < watches_.size(); ++i)
    must(epoll_.add(watches_[i].fd, EPOLLIN, kWatchTokenBase + i), "epoll_ctl(watch)");
  for (const auto& l : listeners_)
    log_->info("listening on {} ({}, {} mode)", l->config.address, l->config.name,
               l->config.execution == Execution::inline_ ? "inline" : "pool");

  epoll_event events[kMaxEvents];
  while (!stopping_.load(std::memory_order_acquire)) {  // acquire: pairs with stop()
    if (coalesce_ && pending_.empty() && inline_ready_.empty())
      pool_->wait_for_idle_worker(kCoalesceLimit);
    // Inline connections that yielded are waiting: poll, do not block.
    const int n = epoll_.wait(events, kMaxEvents, inline_ready_.empty() ? -1 : 0);
    if (n < 0) {
      log_->error("epoll_wait: {}", std::strerror(-n));
      break;
    }
    for (int i = 0; i < n; ++i) handle_event(events[i]);
    flush_jobs();
    // Inline connections that yielded are served again after everyone else had a turn.
    inline_serving_.swap(inline_ready_);
    for (std::uint64_t h : inline_serving_)
      if (ConnectionSlot* c = table_.find(h)) serve(*c);
    inline_serving_.clear();  // keeps its capacity: no allocation per round
  }
  shutdown();
}

void Scheduler::handle_event(const epoll_event& event) {
  const std::uint64_t token = event.data.u64;
  if (handle_generation(token) == 0) {
    if (token == kStopToken) {
      drain_eventfd(stop_fd_.get());
      stopping_.store(true, std::memory_order_relaxed);
    } else if (token == kRoomToken) {
      drain_eventfd(pool_->room_fd());  // flush_jobs() retries after this round
    } else if (token == kTimerToken) {
      handle_timers();
    } else if (token >= kListenerTokenBase) {
      if (ListenerState* l = listener_by_id(token - kListenerTokenBase)) accept_all(*l);
    } else if (token - kWatchTokenBase < watches_.size()) {
      watches_[token - kWatchTokenBase].on_readable();
    }
    return;
  }
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
    serve(c);
  } else {
    batch_.push_back(job_for(c.handle()));
  }
}

void Scheduler::flush_jobs() {
  if (batch_.empty() && pending_.empty()) return;
  // Jobs left over from a full queue go first, so no connection is starved.
  pending_.insert(pending_.end(), batch_.begin(), batch_.end());
  batch_.clear();
  std::size_t done = pool_->submit_batch(pending_.data(), pending_.size());
  if (done < pending_.size()) {
    queue_full_.fetch_add(1, std::memory_order_relaxed);
    pool_->want_room();  // then one retry: a worker may have popped in between
    done += pool_->submit_batch(pending_.data() + done, pending_.size() - done);
  }
  submitted_.fetch_add(done, std::memory_order_relaxed);
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));
  const bool was_paused = paused_;
  paused_ = !pending_.empty();  // wait for the room eventfd; accept nothing meanwhile
  if (was_paused && !paused_) resume_accepting();
}

void Scheduler::resume_accepting() {
  const std::int64_t now = now_ms();
  for (auto& l : listeners_)
    if (l->accept_pending && l->paused_until_ms <= now && l->fd) accept_all(*l);
}

void Scheduler::accept_all(ListenerState& listener) {
  for (;;) {
    if (paused_ || listener.paused_until_ms > now_ms() ||
        stopping_.load(std::memory_order_relaxed)) {
      listener.accept_pending = true;  // edge-triggered: remember, or the edge is lost
      return;
    }
    const int fd = accept4(listener.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      if (listener.open->load(std::memory_order_relaxed) >= listener.config.max_connections) {
        ::close(fd);  // over the limit: the client sees a close, not a hang
        refused_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      open_connection(listener, fd);
      continue;
    }
    switch (errno) {
      case EAGAIN:
        listener.accept_pending = false;
        return;
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
        continue;
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM: {
        const int accept_errno = errno;
        accept_errors_.fetch_add(1, std::memory_order_relaxed);
        const Shed shed = shed_one(listener);
        if (shed == Shed::one) continue;
        if (shed == Shed::backlog_empty) {
          listener.accept_pending = false;  // the next client raises a new edge
          return;
        }
        log_->warn("{}: accept: {}; pausing accepts for {} ms", listener.config.name,
                   std::strerror(accept_errno), kAcceptBackoffMs);
        listener.paused_until_ms = now_ms() + kAcceptBackoffMs;
        listener.accept_pending = true;
        arm_timer();
        return;
      }
      default:
        accept_errors_.fetch_add(1, std::memory_order_relaxed);
        log_->error("{}: accept: {}", listener.config.name, std::strerror(errno));
        return;
    }
  }
}

// Out of descriptors: give up the spare one to accept a waiting client and close it at once,
// so clients see a close instead of hanging in the backlog, and the edge is drained.
Scheduler::Shed Scheduler::shed_one(ListenerState& listener) {
  if (!spare_fd_) spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!spare_fd_) return Shed::failed;
  spare_fd_.reset();  // one descriptor free for a moment
  const int fd = accept4(listener.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
  const int accept_errno = errno;
  if (fd >= 0) {
    ::close(fd);
    refused_.fetch_add(1, std::memory_order_relaxed);
  }
  spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (fd >= 0) return Shed::one;
  // accept4 says EMFILE before it looks at the backlog, so EAGAIN here is the only sign that
  // the backlog is empty: stop, or we would spin on EMFILE.
  return accept_errno == EAGAIN ? Shed::backlog_empty : Shed::failed;
}

void Scheduler::open_connection(ListenerState& listener, int fd) {
  ConnectionSlot* c = table_.allocate();
  if (!c) {
    ::close(fd);
    refused_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const int one = 1;
  // Replies are written whole; Nagle would only delay the last segment of each.
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::uint32_t generation = c->generation.load(std::memory_order_relaxed) + 1;
  if (generation == 0) generation = 1;
  c->fd = fd;
  c->listener = listener.shared_from_this();
  c->handler = listener.handler;
  c->listener_id = &listener;
  c->handler_id = listener.handler.get();
  c->idle_timeout_ms = listener.config.idle_timeout_ms;
  c->max_buffer = std::max<std::size_t>(listener.config.max_buffer_bytes, 1);
  c->inline_mode = listener.config.execution == Execution::inline_;
  c->plugin_state = nullptr;
  c->opened = c->close_requested = c->read_pending = c->peer_closed = c->hangup = false;
  c->last_active_ms.store(now_ms(), std::memory_order_relaxed);
  c->generation.store(generation, std::memory_order_relaxed);
  // Relaxed: the connection's first job publishes all of the above (queue release/acquire).
  c->state.store(0, std::memory_order_relaxed);
  listener.open->fetch_add(1, std::memory_order_relaxed);
  open_.fetch_add(1, std::memory_order_relaxed);
  accepted_.fetch_add(1, std::memory_order_relaxed);

  const std::uint64_t handle = c->handle();
  if (const int rc = epoll_.add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, handle); rc < 0) {
    log_->error("{}: epoll_ctl(add): {}", listener.config.name, std::strerror(-rc));
    c->state.store(ev::kOwned, std::memory_order_relaxed);
    close_connection(*c, false);
    return;
  }
  if (listener.config.idle_timeout_ms > 0) {
    const bool earliest = timers_.empty();
    timers_.push({now_ms() + listener.config.idle_timeout_ms, handle, false});
    if (earliest) arm_timer();
  }
  notify(*c, ev::kOpen);
}

void Scheduler::handle_timers() {
  std::uint64_t expirations;
  [[maybe_unused]] const auto ignored = ::read(timer_fd_.get(), &expirations, sizeof(expirations));
  const std::int64_t now = now_ms();
  while (!timers_.empty() && timers_.top().deadline_ms <= now) {
    const Timer timer = timers_.top();
    timers_.pop();
    ConnectionSlot* c = table_.find(timer.handle);
    if (!c || (c->state.load(std::memory_order_relaxed) & ev::kClosed)) continue;
    if (timer.drain) {
      drained_.fetch_add(1, std::memory_order_relaxed);
      notify(*c, ev::kClose);
      continue;
    }
    const std::int64_t timeout = c->idle_timeout_ms;
    const std::int64_t last = c->last_active_ms.load(std::memory_order_relaxed);
    if (now - last >= timeout) {
      idle_closed_.fetch_add(1, std::memory_order_relaxed);
      notify(*c, ev::kClose);
    } else {
      timers_.push({last + timeout, timer.handle, false});  // one check per timeout, never a scan
    }
  }
  resume_accepting();  // a back-off may have ended
  arm_timer();
}

void Scheduler::arm_timer() {
  std::int64_t next = timers_.empty() ? 0 : timers_.top().deadline_ms;
  const std::int64_t now = now_ms();
  for (const auto& l : listeners_)
    if (l->paused_until_ms > now && (next == 0 || l->paused_until_ms < next))
      next = l->paused_until_ms;
  itimerspec spec{};
  if (next > 0) {
    // Relative arming; +1 ms so the coarse clock has surely passed the deadline when it fires.
    const std::int64_t in_ms = std::max<std::int64_t>(next - now, 0) + 1;
    spec.it_value.tv_sec = in_ms / 1000;
    spec.it_value.tv_nsec = (in_ms % 1000) * 1000000;
  }
  timerfd_settime(timer_fd_.get(), 0, &spec, nullptr);
}

// Clean stop: stop accepting, ask every connection to close once its in-flight work is done,
// wait for that (at most shutdown_timeout_ms), then join the workers and close what is left.
void Scheduler::shutdown() {
  for (auto& l : listeners_) l->fd.reset();  // closing also removes it from epoll
  for (std::uint32_t i = 0; i < table_.used(); ++i) {
    ConnectionSlot& c = table_.at(i);
    if (!(c.state.load(std::memory_order_relaxed) & ev::kClosed)) notify(c, ev::kClose);
  }
  const std::int64_t deadline = now_ms() + config_.shutdown_timeout_ms;
  epoll_event events[kMaxEvents];
  for (;;) {
    flush_jobs();
    if (open_.load(std::memory_order_relaxed) == 0) break;
    const std::int64_t left = deadline - now_ms();
    if (left <= 0) break;
    const int n =
        epoll_.wait(events, kMaxEvents, static_cast<int>(std::min<std::int64_t>(left, 1000)));
    for (int i = 0; i < n; ++i) {
      const std::uint64_t token = events[i].data.u64;
      if (token == kStopToken)
        drain_eventfd(stop_fd_.get());
      else if (token == kRoomToken)
        drain_eventfd(pool_->room_fd());
      // Connection events are moot: every connection already has a close queued.
    }
  }
  if (const auto left = open_.load(std::memory_order_relaxed))
    log_->warn("stop: {} connection(s) still busy after {} ms; waiting for their handlers", left,
               config_.shutdown_timeout_ms);
  pool_.reset();  // runs what is queued (the close requests), then joins every worker
  for (std::uint32_t i = 0; i < table_.used(); ++i) {
    ConnectionSlot& c = table_.at(i);
    if (!(c.state.load(std::memory_order_relaxed) & ev::kClosed)) close_connection(c, true);
  }
  listeners_.clear();
  log_->info("stopped: {} connection(s) served", accepted_.load(std::memory_order_relaxed));
}

// ---------------------------------------------------------------------------------------------
// The connection's owner

void Scheduler::connection_job(void* self, std::uint64_t handle, std::uint64_t) {
  auto* scheduler = static_cast<Scheduler*>(self);
  ConnectionSlot* c = scheduler->table_.find(handle);
  if (!c) {
    scheduler->stale_.fetch_add(1, std::memory_order_relaxed);
    return;  // the connection closed and its slot was reused: not ours to touch
  }
  scheduler->serve(*c);
}

void Scheduler::serve(ConnectionSlot& c) {
  for (;;) {
    // Acquire: see the bits' senders' writes; we keep kOwned while we work.
    const std::uint32_t events =
        c.state.exchange(ev::kOwned, std::memory_order_acquire) & ev::kMask;
    switch (handle_events(c, events)) {
      case Outcome::closed:
        return;  // the slot is released: `c` may already be someone else's
      case Outcome::yielded:
        if (yield(c)) return;  // a continuation job owns it now
        continue;              // queue full: carry on ourselves (kContinue is set)
      case Outcome::idle:
        break;
    }
    std::uint32_t expected = ev::kOwned;
    // Release: the next owner (after the reactor's acq_rel fetch_or) sees our buffer writes.
    if (c.state.compare_exchange_strong(expected, 0, std::memory_order_release,
                                        std::memory_order_relaxed))
      return;
    // New bits arrived while we worked: serve them too.
  }
}

// Gives others a turn while keeping ownership: a continuation goes to the back of the line.
// False if it could not be queued (the caller keeps serving).
bool Scheduler::yield(ConnectionSlot& c) {
  c.state.fetch_or(ev::kContinue, std::memory_order_relaxed);  // we own it: no ordering needed
  const std::uint64_t handle = c.handle();
  if (c.inline_mode) {
    inline_ready_.push_back(handle);
    return true;
  }
  if (!pool_->submit(job_for(handle))) return false;
  submitted_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

Scheduler::Outcome Scheduler::handle_events(ConnectionSlot& c, std::uint32_t events) {
  if (events & ev::kOpen) {
    const chronos_plugin& p = c.handler->plugin();
    if (p.on_open && p.on_open(c.handler->instance(), c.as_c(), &c.plugin_state) != 0) {
      close_connection(c, false);
      return Outcome::closed;
    }
    c.opened = true;
    c.read_pending = true;  // data may have arrived with the connection
  }
  if (events & ev::kClose) {
    flush(c);  // best effort: what the kernel takes now
    close_connection(c, true);
    return Outcome::closed;
  }
  if (events & (ev::kRead | ev::kContinue)) c.read_pending = true;
  if (events & ev::kHangup) c.hangup = true;

  std::size_t budget = kReadBudget;
  for (;;) {
    if (!flush(c)) {
      close_connection(c, true);
      return Outcome::closed;
    }
    const bool can_read = c.read_pending && !c.close_requested && c.out.size() <= c.max_buffer;
    if (!can_read) break;  // nothing to read, or a slow reader: wait for EPOLLOUT to drain us
    if (!read_and_deliver(c, budget)) {
      close_connection(c, true);
      return Outcome::closed;
    }
    if (budget == 0 && c.read_pending) {
      if (!flush(c)) {
        close_connection(c, true);
        return Outcome::closed;
      }
      return Outcome::yielded;
    }
    if (c.out.empty()) break;
  }
  if ((c.close_requested || c.peer_closed) && c.out.empty()) {
    close_connection(c, true);
    return Outcome::closed;
  }
  return Outcome::idle;
}

// Reads what the kernel has (up to the budget and the buffer limit) and hands it to on_data.
// Returns false when the connection must close.
bool Scheduler::read_and_deliver(ConnectionSlot& c, std::size_t& budget) {
  while (c.read_pending && budget > 0) {
    const std::size_t room = c.max_buffer - std::min(c.in.size(), c.max_buffer);
    if (room == 0) {
      oversized_.fetch_add(1, std::memory_order_relaxed);
      log_->warn("{}: connection {:#x}: message over max_buffer_bytes ({}); closing",
                 c.listener->config.name, c.handle(), c.max_buffer);
      return false;
    }
    const std::size_t want = std::min({room, kReadChunk, budget});
    const ssize_t n = ::read(c.fd, c.in.prepare(want), want);
    if (n > 0) {
      c.in.commit(static_cast<std::size_t>(n));
      budget -= static_cast<std::size_t>(n);
      c.last_active_ms.store(now_ms(), std::memory_order_relaxed);
      // A short read emptied the socket: the kernel raises a new edge for anything newer, so the
      // read that would only say EAGAIN is skipped. After a hangup, read on to EOF.
      if (static_cast<std::size_t>(n) < want && !c.hangup) c.read_pending = false;
      if (!deliver(c)) return false;
      if (c.out.size() > c.max_buffer) return true;  // slow reader: stop reading for now
      continue;
    }
    if (n == 0) {
      c.peer_closed = true;
      c.read_pending = false;
    } else if (errno == EAGAIN) {
      c.read_pending = false;
    } else if (errno != EINTR) {
      return false;  // ECONNRESET and friends
    }
  }
  return true;
}

bool Scheduler::deliver(ConnectionSlot& c) {
  if (c.in.empty() || c.close_requested) return true;
  const chronos_plugin& p = c.handler->plugin();
  const std::int64_t consumed =
      p.on_data(c.handler->instance(), c.as_c(), c.plugin_state, c.in.data(), c.in.size());
  if (consumed < 0) return false;
  c.in.consume(std::min(static_cast<std::size_t>(consumed), c.in.size()));
  return true;
}

// Writes queued output until done or EAGAIN (the EPOLLOUT edge resumes us). False on error.
bool Scheduler::flush(ConnectionSlot& c) {
  while (!c.out.empty()) {
    // MSG_NOSIGNAL: a peer that went away is an error code here, never a SIGPIPE.
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out.consume(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EAGAIN) {
      return true;
    } else if (n < 0 && errno != EINTR) {
      return false;
    }
  }
  c.out.shrink_if_idle();
  return true;
}

void Scheduler::close_connection(ConnectionSlot& c, bool call_on_close) {
  if (c.opened && call_on_close) {
    const chronos_plugin& p = c.handler->plugin();
    if (p.on_close) p.on_close(c.handler->instance(), c.as_c(), c.plugin_state);
  }
  ::close(c.fd);  // also removes it from the epoll set
  c.fd = -1;
  c.in.clear();
  c.out.clear();
  c.plugin_state = nullptr;
  c.opened = false;
  c.handler.reset();
  const std::shared_ptr<ListenerState> listener = std::move(c.listener);
  const std::uint32_t index = c.index;
  // Release: the reactor's fetch_or that sees kClosed also sees the slot torn down.
  c.state.store(ev::kClosed | ev::kOwned, std::memory_order_release);
  listener->open->fetch_sub(1, std::memory_order_relaxed);
  closed_.fetch_add(1, std::memory_order_relaxed);
  table_.release(index);  // from here on the slot may be reused: do not touch `c`
  if (open_.fetch_sub(1, std::memory_order_relaxed) == 1 &&
      stopping_.load(std::memory_order_relaxed))
    signal_eventfd(stop_fd_.get());  // the stop is waiting for the last connection
}

}  // namespace chronos
