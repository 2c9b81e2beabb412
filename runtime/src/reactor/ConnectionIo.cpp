#include "reactor/ConnectionIo.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <spdlog/spdlog.h>

#include "Assert.hpp"
#include "PluginInstance.hpp"
#include "chronos/WorkerPool.hpp"
#include "reactor/ActiveJobs.hpp"
#include "reactor/ListenerSet.hpp"
#include "reactor/Timers.hpp"

namespace chronos {
namespace ev = conn_event;
namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kReadBudget = 1024 * 1024;  // bytes one serve round reads before yielding
}  // namespace

void ConnectionIo::run_job(void* self, std::uint64_t handle, std::uint64_t) {
  auto& io = *static_cast<ConnectionIo*>(self);
  ConnectionSlot* c = io.tables_.find(handle);
  if (!c) {
    Counters::add(io.counters_.stale);
    // The connection closed and its slot was reused: not ours to touch. Only a replayed job
    // (the tests' test_submit_job) gets here: a job the reactor counted owns its connection,
    // which cannot close before the job runs, so no max_active count is lost.
    return;
  }
  // Read while we own the connection: serving may release it, and the count outlives it.
  JobsFinished* finished = c->finished;
  // This worker's index, looked up once per job: its watchdog slot and its max_active line.
  const std::size_t thread = io.watchdog_.thread_index();
  if (io.serve_job(*c, io.watchdog_.slot(thread))) finished->finish(thread);
}

// True when the connection's job is over (released or closed), false when it goes on in a
// continuation job.
bool ConnectionIo::serve_job(ConnectionSlot& c, HandlerSlot& slot) {
  while (serve(c, slot) == Served::yielded) {
    // Gives others a turn while keeping ownership: the continuation goes to the back of the
    // line. If the queue is full, carry on ourselves (kContinue is set).
    if (pool_->submit(job_for(c.handle()))) {
      Counters::add(counters_.submitted);
      return false;
    }
  }
  return true;
}

ConnectionIo::Served ConnectionIo::serve_owned(ConnectionSlot& c) {
  for (;;) {
    // The caller owns an open connection: only the owner may take its bits.
    CHRONOS_ASSERT((c.state.load(std::memory_order_relaxed) & (ev::kOwned | ev::kClosed)) ==
                   ev::kOwned);
    // Acquire: see the bits' senders' writes; we keep kOwned while we work.
    const std::uint32_t events =
        c.state.exchange(ev::kOwned, std::memory_order_acquire) & ev::kMask;
    switch (handle_events(c, events)) {
      case Outcome::closed:
        return Served::closed;  // the slot is released: `c` may already be someone else's
      case Outcome::yielded:
        c.state.fetch_or(ev::kContinue, std::memory_order_relaxed);  // ours: no ordering needed
        return Served::yielded;
      case Outcome::idle:
        break;
    }
    std::uint32_t expected = ev::kOwned;
    // Release: the next owner (after the reactor's acq_rel fetch_or) sees our buffer writes.
    if (c.state.compare_exchange_strong(expected, 0, std::memory_order_release,
                                        std::memory_order_relaxed))
      return Served::released;
    // New bits arrived while we worked: serve them too.
  }
}

ConnectionIo::Outcome ConnectionIo::handle_events(ConnectionSlot& c, std::uint32_t events) {
  CHRONOS_ASSERT(c.fd >= 0);
  if ((events & ev::kOpen) && !open(c)) return Outcome::closed;
  if (events & ev::kClose) {
    flush(c);  // best effort: what the kernel takes now
    close(c, true);
    return Outcome::closed;
  }
  // kOpen is the first event of a connection, and only it: on_open is called exactly once.
  CHRONOS_ASSERT(c.opened);
  if (events & (ev::kRead | ev::kContinue)) c.read_pending = true;
  if (events & ev::kHangup) c.hangup = true;
  const Outcome outcome = serve_io(c);
  if (outcome == Outcome::closed) close(c, true);
  return outcome;
}

// Calls on_open; false (after closing) when the plugin refused the connection.
bool ConnectionIo::open(ConnectionSlot& c) {
  CHRONOS_ASSERT(!c.opened);
  const chronos_plugin& p = c.plugin->descriptor();
  if (p.on_open && p.on_open(c.plugin->instance(), c.as_c(), &c.plugin_state) != 0) {
    close(c, false);
    return false;
  }
  c.opened = true;
  c.read_pending = true;  // data may have arrived with the connection
  return true;
}

// Flushes and reads until there is nothing to do, a slow reader must drain, or the budget is
// used. Returns `closed` when the connection must close (the caller closes it).
ConnectionIo::Outcome ConnectionIo::serve_io(ConnectionSlot& c) {
  std::size_t budget = kReadBudget;
  for (;;) {
    if (!flush(c)) return Outcome::closed;
    const bool can_read = c.read_pending && !c.close_requested && c.out.size() <= c.max_buffer;
    if (!can_read) break;  // nothing to read, or a slow reader: wait for EPOLLOUT to drain us
    if (!read_and_deliver(c, budget)) return Outcome::closed;
    if (budget == 0 && c.read_pending) return flush(c) ? Outcome::yielded : Outcome::closed;
    if (c.out.empty()) break;
  }
  const bool done = (c.close_requested || c.peer_closed) && c.out.empty();
  return done ? Outcome::closed : Outcome::idle;
}

// Reads what the kernel has (up to the budget and the buffer limit) and hands it to on_data.
// Returns false when the connection must close.
bool ConnectionIo::read_and_deliver(ConnectionSlot& c, std::size_t& budget) {
  while (c.read_pending && budget > 0) {
    const std::size_t room = c.max_buffer - std::min(c.in.size(), c.max_buffer);
    if (room == 0) {
      Counters::add(counters_.oversized);
      log_.warn("{}: connection {:#x}: message over max_buffer_bytes ({}); closing",
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

bool ConnectionIo::deliver(ConnectionSlot& c) {
  if (c.in.empty() || c.close_requested) return true;
  const chronos_plugin& p = c.plugin->descriptor();
  const std::int64_t consumed =
      p.on_data(c.plugin->instance(), c.as_c(), c.plugin_state, c.in.data(), c.in.size());
  if (consumed < 0) return false;
  c.in.consume(std::min(static_cast<std::size_t>(consumed), c.in.size()));
  return true;
}

// Writes queued output until done or EAGAIN (the EPOLLOUT edge resumes us). False on error.
bool ConnectionIo::flush(ConnectionSlot& c) {
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

void ConnectionIo::close(ConnectionSlot& c, bool call_on_close) {
  // Only the owner closes, and only once: the reactor never sees a half-torn-down slot.
  CHRONOS_ASSERT((c.state.load(std::memory_order_relaxed) & (ev::kOwned | ev::kClosed)) ==
                 ev::kOwned);
  CHRONOS_ASSERT(c.fd >= 0);
  if (c.opened && call_on_close) {
    const chronos_plugin& p = c.plugin->descriptor();
    if (p.on_close) p.on_close(c.plugin->instance(), c.as_c(), c.plugin_state);
  }
  ::close(c.fd);  // also removes it from the epoll set
  c.fd = -1;
  c.in.clear();
  c.out.clear();
  c.plugin_state = nullptr;
  c.opened = false;
  c.plugin.reset();
  const std::shared_ptr<ListenerState> listener = std::move(c.listener);
  const std::uint32_t index = c.index;
  // Release: the reactor's fetch_or that sees kClosed also sees the slot torn down.
  c.state.store(ev::kClosed | ev::kOwned, std::memory_order_release);
  listener->open->fetch_sub(1, std::memory_order_relaxed);
  Counters::add(counters_.closed);
  tables_.release(index);  // from here on the slot may be reused: do not touch `c`
  if (counters_.open.fetch_sub(1, std::memory_order_relaxed) == 1 && stop_.requested_relaxed())
    stop_.wake();  // the stop is waiting for the last connection
}

}  // namespace chronos
