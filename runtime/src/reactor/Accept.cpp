// Accepting: the reactor's accept loop, the balance between reactors, the EMFILE spare
// descriptor, pauses while the queue is full, back-off when no descriptor can be had, and the
// set-up of an accepted connection.
//
// Every reactor has every listening socket in its epoll set with EPOLLEXCLUSIVE: one socket per
// listener, so a reload that keeps it and a supervisor that holds it across a crash lose no
// queued connection (SO_REUSEPORT drops the backlog of a socket of the group that closes), and
// a new connection wakes one idle reactor, not all of them. A reactor that was already awake
// takes the connections that arrive meanwhile, though, so on its own the kernel leaves the
// reactors' loads uneven (a burst of connects lands mostly on one); a reactor that holds two or
// more connections more than the least loaded hands each new one to it (one mailbox post, at
// accept time only).
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
#include "reactor/Reactor.hpp"

namespace chronos {
namespace ev = conn_event;
namespace {
constexpr std::int64_t kAcceptBackoffMs = 100;
}  // namespace

bool Reactor::accept_paused(const Acceptor& acceptor) const {
  return paused_ || acceptor.paused_until_ms > now_ms() || shared_.stop.requested_relaxed();
}

void Reactor::accept_all(Acceptor& acceptor) {
  ListenerState& listener = *acceptor.listener;
  for (;;) {
    if (accept_paused(acceptor)) {
      acceptor.accept_pending = true;  // edge-triggered: remember, or the edge is lost
      return;
    }
    const int fd = accept4(acceptor.socket->get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (on_accept_error(acceptor, errno)) continue;
      return;
    }
    // Counted before it is opened, so reactors accepting at once never pass the limit together.
    if (listener.open->fetch_add(1, std::memory_order_relaxed) >= listener.config.max_connections) {
      listener.open->fetch_sub(1, std::memory_order_relaxed);
      ::close(fd);  // over the limit: the client sees a close, not a hang
      Counters::add(shared_.counters.refused);
      continue;
    }
    if (Reactor* target = balance_target())
      hand_off(*target, acceptor, fd);
    else
      open_connection(listener, *acceptor.active, fd);
  }
}

// The least loaded reactor, if we hold two connections more than it; null: keep it.
Reactor* Reactor::balance_target() const noexcept {
  if (shared_.all.size() == 1) return nullptr;
  Reactor* best = nullptr;
  std::uint32_t least = load();
  for (const auto& r : shared_.all)
    if (const std::uint32_t l = r->load(); l + 2 <= least) {
      least = l;
      best = r.get();
    }
  return best;
}

// A connection the kernel gave us and `target` should serve; counted in the listener already.
void Reactor::hand_off(Reactor& target, const Acceptor& acceptor, int fd) {
  // Closes the connection and gives its count back if the target's loop ended before it ran.
  struct Handed {
    Fd fd;
    std::shared_ptr<ListenerState> listener;
    Handed(int fd, std::shared_ptr<ListenerState> l) : fd(fd), listener(std::move(l)) {}
    ~Handed() {
      if (fd) listener->open->fetch_sub(1, std::memory_order_relaxed);
    }
  };
  // Relaxed: a hint for the next balance_target(); the mailbox orders the connection itself.
  target.incoming_.fetch_add(1, std::memory_order_relaxed);
  auto handed = std::make_shared<Handed>(fd, acceptor.listener);
  target.post([&target, handed] {
    target.incoming_.fetch_sub(1, std::memory_order_relaxed);
    ListenerState& listener = *handed->listener;
    if (ActiveJobs* active = target.active_for(listener); active && !target.shutting_down_) {
      target.open_connection(listener, *active, handed->fd.release());
    }  // else a reload removed the listener meanwhile, or we stop: ~Handed closes it
  });
}

// This reactor's max_active count for `listener`'s name, if it still serves that name.
ActiveJobs* Reactor::active_for(const ListenerState& listener) noexcept {
  for (const auto& a : acceptors_)
    if (a->listener->config.name == listener.config.name) return a->active;
  return nullptr;
}

// What accept4's `error` means for the loop: true to accept again, false to stop for now.
bool Reactor::on_accept_error(Acceptor& acceptor, int error) {
  const ListenerConfig& config = acceptor.listener->config;
  switch (error) {
    case EAGAIN:
      acceptor.accept_pending = false;
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
      Counters::add(shared_.counters.accept_errors);
      shared_.log.error("{}: accept: {}", config.name, std::strerror(error));
      return false;
  }
  Counters::add(shared_.counters.accept_errors);
  const Shed shed = shed_one(acceptor);
  if (shed == Shed::one) return true;
  if (shed == Shed::backlog_empty) {
    acceptor.accept_pending = false;  // the next client raises a new edge
    return false;
  }
  shared_.log.warn("{}: accept: {}; pausing accepts for {} ms", config.name, std::strerror(error),
                   kAcceptBackoffMs);
  acceptor.paused_until_ms = now_ms() + kAcceptBackoffMs;
  acceptor.accept_pending = true;
  timers_.add({acceptor.paused_until_ms, Timers::Kind::accept_backoff, acceptor.watch.id()});
  return false;
}

// Out of descriptors: give up the spare one to accept a waiting client and close it at once,
// so clients see a close instead of hanging in the backlog, and the edge is drained.
Reactor::Shed Reactor::shed_one(Acceptor& acceptor) {
  if (!spare_fd_) spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!spare_fd_) return Shed::failed;
  spare_fd_.reset();  // one descriptor free for a moment
  const int fd = accept4(acceptor.socket->get(), nullptr, nullptr, SOCK_CLOEXEC);
  const int accept_errno = errno;
  if (fd >= 0) {
    ::close(fd);
    Counters::add(shared_.counters.refused);
  }
  spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (fd >= 0) return Shed::one;
  // accept4 says EMFILE before it looks at the backlog, so EAGAIN here is the only sign that
  // the backlog is empty: stop, or we would spin on EMFILE.
  return accept_errno == EAGAIN ? Shed::backlog_empty : Shed::failed;
}

void Reactor::resume_accepting() {
  const std::int64_t now = now_ms();
  for (const auto& a : acceptors_)
    if (a->accept_pending && a->paused_until_ms <= now) accept_all(*a);
}

// Opens a connection already counted in `listener.open`.
void Reactor::open_connection(ListenerState& listener, ActiveJobs& active, int fd) {
  ConnectionSlot* c = table_.allocate();
  if (!c) {
    ::close(fd);
    listener.open->fetch_sub(1, std::memory_order_relaxed);
    Counters::add(shared_.counters.refused);
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
  CHRONOS_ASSERT(listener.names);  // set by the scheduler before any reactor takes the set
  c->active = &active;
  c->finished = &active.finished();
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
  Counters::add(shared_.counters.open);
  Counters::add(shared_.counters.accepted);
  if (register_connection(*c, listener)) notify(*c, ev::kOpen);
}

// Adds the connection to epoll and its idle deadline to the timers; false (after closing it)
// if epoll refused it.
bool Reactor::register_connection(ConnectionSlot& c, const ListenerState& listener) {
  const std::uint64_t handle = c.handle();
  if (const int rc = epoll_.add(c.fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, handle); rc < 0) {
    shared_.log.error("{}: epoll_ctl(add): {}", listener.config.name, std::strerror(-rc));
    c.state.store(ev::kOwned, std::memory_order_relaxed);  // the reactor owns it to close it
    shared_.io.close(c, false);
    return false;
  }
  if (listener.config.idle_timeout_ms > 0)
    timers_.add({now_ms() + listener.config.idle_timeout_ms, Timers::Kind::idle, handle});
  return true;
}

}  // namespace chronos
