// Accepting: the reactor's accept loop, the EMFILE spare descriptor, pauses while the queue is
// full, back-off when no descriptor can be had, and the set-up of an accepted connection.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "Assert.hpp"
#include "reactor/Scheduler.hpp"

namespace chronos {
namespace ev = conn_event;
namespace {
constexpr std::int64_t kAcceptBackoffMs = 100;
}  // namespace

bool Scheduler::accept_paused(const ListenerState& listener) const {
  return paused_ || listener.paused_until_ms > now_ms() || stop_.requested_relaxed();
}

void Scheduler::accept_all(ListenerState& listener) {
  for (;;) {
    if (accept_paused(listener)) {
      listener.accept_pending = true;  // edge-triggered: remember, or the edge is lost
      return;
    }
    const int fd = accept4(listener.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (on_accept_error(listener, errno)) continue;
      return;
    }
    if (listener.open->load(std::memory_order_relaxed) >= listener.config.max_connections) {
      ::close(fd);  // over the limit: the client sees a close, not a hang
      Counters::add(counters_.refused);
      continue;
    }
    open_connection(listener, fd);
  }
}

// What accept4's `error` means for the loop: true to accept again, false to stop for now.
bool Scheduler::on_accept_error(ListenerState& listener, int error) {
  switch (error) {
    case EAGAIN:
      listener.accept_pending = false;
      return false;
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
      return true;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      break;
    default:
      Counters::add(counters_.accept_errors);
      log_->error("{}: accept: {}", listener.config.name, std::strerror(error));
      return false;
  }
  Counters::add(counters_.accept_errors);
  const Shed shed = shed_one(listener);
  if (shed == Shed::one) return true;
  if (shed == Shed::backlog_empty) {
    listener.accept_pending = false;  // the next client raises a new edge
    return false;
  }
  log_->warn("{}: accept: {}; pausing accepts for {} ms", listener.config.name,
             std::strerror(error), kAcceptBackoffMs);
  listener.paused_until_ms = now_ms() + kAcceptBackoffMs;
  listener.accept_pending = true;
  timers_.add({listener.paused_until_ms, Timers::Kind::accept_backoff, listener.id()});
  return false;
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
    Counters::add(counters_.refused);
  }
  spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (fd >= 0) return Shed::one;
  // accept4 says EMFILE before it looks at the backlog, so EAGAIN here is the only sign that
  // the backlog is empty: stop, or we would spin on EMFILE.
  return accept_errno == EAGAIN ? Shed::backlog_empty : Shed::failed;
}

void Scheduler::resume_accepting() {
  const std::int64_t now = now_ms();
  for (const auto& l : listeners_.all())
    if (l->accept_pending && l->paused_until_ms <= now && l->fd) accept_all(*l);
}

void Scheduler::open_connection(ListenerState& listener, int fd) {
  ConnectionSlot* c = table_.allocate();
  if (!c) {
    ::close(fd);
    Counters::add(counters_.refused);
    return;
  }
  // A free slot holds no connection, and no job can be in flight for it.
  CHRONOS_ASSERT((c->state.load(std::memory_order_relaxed) & ev::kClosed) && c->fd < 0);
  const int one = 1;
  // Replies are written whole; Nagle would only delay the last segment of each.
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::uint32_t generation = c->generation.load(std::memory_order_relaxed) + 1;
  if (generation == 0) generation = 1;
  c->fd = fd;
  c->listener = listener.shared_from_this();
  c->plugin = listener.plugin;
  c->listener_id = &listener;
  c->plugin_id = listener.plugin.get();
  CHRONOS_ASSERT(listener.active && listener.names);  // set by apply_caps before any accept
  c->active = listener.active;
  c->finished = &listener.active->finished();
  c->names = listener.names;
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
  Counters::add(counters_.open);
  Counters::add(counters_.accepted);
  if (register_connection(*c, listener)) notify(*c, ev::kOpen);
}

// Adds the connection to epoll and its idle deadline to the timers; false (after closing it)
// if epoll refused it.
bool Scheduler::register_connection(ConnectionSlot& c, const ListenerState& listener) {
  const std::uint64_t handle = c.handle();
  if (const int rc = epoll_.add(c.fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, handle); rc < 0) {
    log_->error("{}: epoll_ctl(add): {}", listener.config.name, std::strerror(-rc));
    c.state.store(ev::kOwned, std::memory_order_relaxed);  // the reactor owns it to close it
    io_.close(c, false);
    return false;
  }
  if (listener.config.idle_timeout_ms > 0)
    timers_.add({now_ms() + listener.config.idle_timeout_ms, Timers::Kind::idle, handle});
  return true;
}

}  // namespace chronos
