#include "reactor/ConnectionIo.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "Assert.hpp"
#include "PluginInstance.hpp"
#include "chronos/Config.hpp"
#include "chronos/WorkerPool.hpp"
#include "reactor/ActiveJobs.hpp"
#include "reactor/ListenerSet.hpp"
#include "reactor/Timers.hpp"

namespace chronos {
namespace ev = conn_event;
namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kReadBudget = 1024 * 1024;  // bytes one serve round reads before yielding
static_assert(kMaxBufferBytes <= UINT32_MAX, "ConnectionSlot::max_buffer is 32 bits");

// The serving thread's buffers (each worker's, each reactor's): every read lands in `in`, and
// the output of the callbacks being served collects in `out`, so a connection needs storage of
// its own (ConnectionSpill) only for what is left over: a partial message, or output the socket
// did not take. An idle connection then holds no buffer at all, whatever it carried before.
//
// `out` holds the output of the one connection this thread is serving, and only during the
// serve: every path out of it (flush, close) empties it.
//
// constinit and trivially destructible, so that the hot path reads it with a plain
// %fs-relative load: no guard for a first-use constructor or an exit-time destructor. The
// storage it points into belongs to `scratch_storage`, touched only to allocate.
struct Scratch {
  std::uint8_t* in = nullptr;  // kReadChunk bytes, allocated on the thread's first read
  std::uint8_t* out = nullptr;
  std::size_t out_size = 0;
  std::size_t out_capacity = 0;
};
constinit thread_local Scratch scratch;
// Freed when the thread ends.
struct ScratchStorage {
  std::unique_ptr<std::uint8_t[]> in, out;
};
thread_local ScratchStorage scratch_storage;
// Output storage kept between serves at most; a larger burst's is given back.
constexpr std::size_t kScratchKeep = 64 * 1024;

[[gnu::noinline]] std::uint8_t* allocate_input() {
  scratch_storage.in = std::make_unique_for_overwrite<std::uint8_t[]>(kReadChunk);
  return scratch.in = scratch_storage.in.get();
}

std::uint8_t* scratch_input() {
  if (!scratch.in) [[unlikely]]
    return allocate_input();
  return scratch.in;
}

[[gnu::noinline]] void grow_output(std::size_t n) {
  std::size_t cap = std::max<std::size_t>(scratch.out_capacity, 4096);
  while (cap - scratch.out_size < n) cap *= 2;
  auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(cap);
  if (scratch.out_size) std::memcpy(bigger.get(), scratch.out, scratch.out_size);
  scratch_storage.out = std::move(bigger);
  scratch.out = scratch_storage.out.get();
  scratch.out_capacity = cap;
}

// Empties the output scratch; gives its storage back after a burst.
void clear_output() noexcept {
  scratch.out_size = 0;
  if (scratch.out_capacity > kScratchKeep) [[unlikely]] {
    scratch_storage.out.reset();
    scratch.out = nullptr;
    scratch.out_capacity = 0;
  }
}

std::size_t pending_output(const ConnectionSlot& c) noexcept {
  return scratch.out_size + (c.spill ? c.spill->out.size() : 0);
}

ConnectionSpill& spill_of(ConnectionSlot& c) {
  if (!c.spill) c.spill = std::make_unique<ConnectionSpill>();
  return *c.spill;
}

// Frees the spill once nothing is left in it.
void drop_spill_if_empty(ConnectionSlot& c) noexcept {
  if (c.spill->in.empty() && c.spill->out.empty()) c.spill.reset();
}
}  // namespace

int ConnectionSlot::queue_output(const void* data, std::size_t len) {
  if (fd < 0) return -1;
  // Behind output still waiting from an earlier serve, to keep the order; else into this
  // thread's scratch, written by the flush after the callback.
  if (spill && !spill->out.empty()) [[unlikely]] {
    spill->out.append(data, len);
    return 0;
  }
  if (scratch.out_capacity - scratch.out_size < len) [[unlikely]]
    grow_output(len);
  std::memcpy(scratch.out + scratch.out_size, data, len);
  scratch.out_size += len;
  return 0;
}

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
    // After a flush, what is pending is the spill's (the scratch is empty).
    const std::size_t unsent = c.spill ? c.spill->out.size() : 0;
    const bool can_read = c.read_pending && !c.close_requested && unsent <= c.max_buffer;
    if (!can_read) break;  // nothing to read, or a slow reader: wait for EPOLLOUT to drain us
    if (!read_and_deliver(c, budget)) return Outcome::closed;
    if (budget == 0 && c.read_pending) return flush(c) ? Outcome::yielded : Outcome::closed;
    if (pending_output(c) == 0) break;
  }
  const bool done = (c.close_requested || c.peer_closed) && pending_output(c) == 0;
  return done ? Outcome::closed : Outcome::idle;
}

// Reads what the kernel has (up to the budget and the buffer limit) into the thread's scratch
// and hands it to on_data. Returns false when the connection must close.
bool ConnectionIo::read_and_deliver(ConnectionSlot& c, std::size_t& budget) {
  while (c.read_pending && budget > 0) {
    std::size_t room = c.max_buffer;
    if (c.spill) [[unlikely]] {  // a partial message counts against max_buffer_bytes
      room -= std::min<std::size_t>(c.spill->in.size(), c.max_buffer);
      if (room == 0) {
        Counters::add(counters_.oversized);
        log_.warn("{}: connection {:#x}: message over max_buffer_bytes ({}); closing",
                  c.listener->config.name, c.handle(), c.max_buffer);
        return false;
      }
    }
    const std::size_t want = std::min({room, kReadChunk, budget});
    std::uint8_t* const into = scratch_input();
    const ssize_t n = ::read(c.fd, into, want);
    if (n > 0) {
      budget -= static_cast<std::size_t>(n);
      c.last_active_ms.store(now_ms(), std::memory_order_relaxed);
      // A short read emptied the socket: the kernel raises a new edge for anything newer, so the
      // read that would only say EAGAIN is skipped. After a hangup, read on to EOF.
      if (static_cast<std::size_t>(n) < want && !c.hangup) c.read_pending = false;
      if (!deliver(c, into, static_cast<std::size_t>(n))) return false;
      if (pending_output(c) > c.max_buffer) return true;  // slow reader: stop reading for now
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

// Hands `n` bytes just read (in the scratch) to on_data, behind the partial message the
// connection kept, if any; keeps what the plugin did not consume.
bool ConnectionIo::deliver(ConnectionSlot& c, const std::uint8_t* data, std::size_t n) {
  if (c.close_requested) return true;  // nothing more is read for it: the bytes are moot
  const chronos_plugin& p = c.plugin->descriptor();
  if (!c.spill || c.spill->in.empty()) [[likely]] {
    // The common case: straight from the scratch; a partial message is copied out, at its size.
    const std::int64_t consumed =
        p.on_data(c.plugin->instance(), c.as_c(), c.plugin_state, data, n);
    if (consumed < 0) return false;
    const std::size_t used = std::min(static_cast<std::size_t>(consumed), n);
    if (used < n) spill_of(c).in.append(data + used, n - used);
    return true;
  }
  Buffer& in = c.spill->in;
  in.append(data, n);
  const std::int64_t consumed =
      p.on_data(c.plugin->instance(), c.as_c(), c.plugin_state, in.data(), in.size());
  if (consumed < 0) return false;
  in.consume(std::min(static_cast<std::size_t>(consumed), in.size()));
  if (in.empty()) {
    in.release();
    drop_spill_if_empty(c);
  } else {
    in.shrink_to_fit();  // a small tail of a large read: hold the tail, not the read
  }
  return true;
}

// Writes queued output until done or EAGAIN (the EPOLLOUT edge resumes us). False on error.
// Inline (twice per message): usually there is nothing, or only this serve's output.
bool ConnectionIo::flush(ConnectionSlot& c) {
  if (scratch.out_size != 0) return flush_scratch(c);
  if (c.spill && !c.spill->out.empty()) [[unlikely]]
    return flush_spill(c);
  return true;
}

namespace {
// Sends `data` until all of it is out or the socket is full: how many bytes went, or -1 on an
// error.
std::ptrdiff_t send_some(int fd, const std::uint8_t* data, std::size_t len) noexcept {
  std::size_t sent = 0;
  while (sent < len) {
    // MSG_NOSIGNAL: a peer that went away is an error code here, never a SIGPIPE.
    const ssize_t n = ::send(fd, data + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      break;
    } else if (n < 0 && errno != EINTR) {
      return -1;
    }
  }
  return static_cast<std::ptrdiff_t>(sent);
}
}  // namespace

// This serve's output, straight from the thread's scratch; what the socket does not take is
// copied into the connection's spill, which any later output queues behind.
bool ConnectionIo::flush_scratch(ConnectionSlot& c) {
  // Output of this serve and output left from an earlier one are never both pending: a send
  // goes behind the spill's output while there is some.
  CHRONOS_ASSERT(!c.spill || c.spill->out.empty());
  const std::ptrdiff_t sent = send_some(c.fd, scratch.out, scratch.out_size);
  if (sent < 0) {
    clear_output();
    return false;
  }
  const auto left = scratch.out_size - static_cast<std::size_t>(sent);
  if (left != 0) [[unlikely]]
    spill_of(c).out.append(scratch.out + sent, left);
  clear_output();
  return true;
}

// Output an earlier serve left; the spill goes once it is all out (and no input waits).
bool ConnectionIo::flush_spill(ConnectionSlot& c) {
  Buffer& out = c.spill->out;
  const std::ptrdiff_t sent = send_some(c.fd, out.data(), out.size());
  if (sent < 0) return false;
  out.consume(static_cast<std::size_t>(sent));
  if (out.empty()) {
    out.release();
    drop_spill_if_empty(c);
  }
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
  c.spill.reset();
  clear_output();  // what on_close (or this serve) sent: nobody is left to take it
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
