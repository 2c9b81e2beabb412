// ConnectionSlot: one accepted socket and what it left unfinished, plus the word that schedules it:
// the host's record of a connection (the SDK's chronos::Connection is a plugin's view of one; the
// two names differ so that an embedder can link both into one program).
//
// The scheduling word (`state`) makes a connection single-owner without a re-arm syscall per
// request. The reactor ORs event bits in together with kOwned; whoever turned kOwned on queues
// exactly one job. The job's owner takes the bits (exchange), serves them, and gives ownership
// back with a CAS that fails if new bits arrived meanwhile, in which case it serves again. So
// at most one thread serves a connection, and no edge-triggered event is ever lost.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "Assert.hpp"
#include "Buffer.hpp"
#include "chronos/MPMCQueue.hpp"
#include "chronos/plugin.h"

namespace chronos {

class ActiveJobs;
class JobsFinished;
class PluginInstance;
struct HandlerNames;
struct ListenerState;

namespace conn_event {
inline constexpr std::uint32_t kRead = 1u << 0;      // input (or EOF) may be waiting
inline constexpr std::uint32_t kWrite = 1u << 1;     // the socket can take output again
inline constexpr std::uint32_t kHangup = 1u << 2;    // peer closed or error: read to the end
inline constexpr std::uint32_t kOpen = 1u << 3;      // new connection: call on_open first
inline constexpr std::uint32_t kClose = 1u << 4;     // close it (idle timeout, shutdown, drain)
inline constexpr std::uint32_t kContinue = 1u << 5;  // the owner yielded with input left
inline constexpr std::uint32_t kMask = 0xffff;
inline constexpr std::uint32_t kOwned = 1u << 30;   // a job is queued or running
inline constexpr std::uint32_t kClosed = 1u << 31;  // the slot holds no connection
}  // namespace conn_event

// A connection handle: slot index in the low half, generation in the high half. Generation 0
// is never used, so handles never collide with the reactor's own epoll tokens.
inline std::uint64_t make_handle(std::uint32_t index, std::uint32_t generation) {
  return std::uint64_t{generation} << 32 | index;
}
inline std::uint32_t handle_index(std::uint64_t h) { return static_cast<std::uint32_t>(h); }
inline std::uint32_t handle_generation(std::uint64_t h) {
  return static_cast<std::uint32_t>(h >> 32);
}

// What a connection keeps between serves when it could not finish at once: the partial
// message the plugin has not consumed, and the output the socket did not take. Allocated only
// then and freed as soon as both are empty, so an idle connection holds none of it.
struct ConnectionSpill {
  Buffer in, out;
};

// Two cache lines, a slot to itself: neighbouring slots (other connections, served by other
// threads) never share a line. The first line is what the reactor touches per event (the
// scheduling word, the handle, the dispatch decision) together with the owner's flags: the owner
// writes that line anyway (its exchange and CAS of `state`), and the reactor reads nothing of the
// second, which the owner writes per message (`last_active_ms`, `spill`). 128 bytes with nothing
// else per idle connection but the plugin's own state and the idle timer's entry.
struct alignas(kCacheLine) ConnectionSlot {
  // --- line 1 -------------------------------------------------------------------------------
  std::atomic<std::uint32_t> state{conn_event::kClosed};
  // Written by the reactor at (re)use only; read by jobs to recognise stale handles.
  std::atomic<std::uint32_t> generation{0};
  // Set by the reactor before the connection's first job is queued; constant while open. The
  // reactor itself reads only the plain values (never through the shared pointers below: the
  // owner may be releasing them while it looks).
  int fd = -1;
  std::uint32_t index = 0;
  std::uint32_t idle_timeout_ms = 0;
  std::uint32_t max_buffer = 0;  // at most kMaxBufferBytes (1 GiB)
  // The listener's max_active count (never freed): its reactor side, read by the reactor only
  // while it owns the connection, and the side the owner counts a finished job into.
  ActiveJobs* active = nullptr;
  JobsFinished* finished = nullptr;
  const ListenerState* listener_id = nullptr;  // identity only, for the reactor
  const PluginInstance* plugin_id = nullptr;   // identity only, for the reactor
  bool inline_mode = false;
  // The current owner's (the thread that holds kOwned), like everything in the second line.
  bool opened = false;           // on_open accepted it: on_close is owed
  bool close_requested = false;  // the plugin called close(): close once output is out
  bool read_pending = false;     // input may be waiting in the kernel
  bool peer_closed = false;      // read returned 0
  bool hangup = false;           // EPOLLHUP/RDHUP/ERR seen: read until EAGAIN or EOF

  // --- line 2 -------------------------------------------------------------------------------
  std::shared_ptr<ListenerState> listener;  // released by the owner at close
  std::shared_ptr<PluginInstance> plugin;   // released by the owner at close
  const HandlerNames* names = nullptr;      // for the watchdog; never freed
  void* plugin_state = nullptr;
  // Monotonic milliseconds of the last input; written by the owner, read by the idle timer.
  std::atomic<std::int64_t> last_active_ms{0};
  // Input and output left over between serves; null while there is none (ConnectionIo.cpp).
  std::unique_ptr<ConnectionSpill> spill;

  std::uint64_t handle() const noexcept {
    return make_handle(index, generation.load(std::memory_order_relaxed));
  }
  static ConnectionSlot& from(chronos_conn* c) noexcept {
    return *reinterpret_cast<ConnectionSlot*>(c);
  }
  chronos_conn* as_c() noexcept { return reinterpret_cast<chronos_conn*>(this); }

  // The plugin's send (inside one of its callbacks, on the owner's thread): the bytes go to
  // the thread's output scratch, or behind the output still waiting here. ConnectionIo.cpp.
  int queue_output(const void* data, std::size_t len);
};

// The memory an idle connection costs is the slot, the plugin's state and an idle timer entry:
// keep the slot at two lines (a regression here multiplies by every open connection).
static_assert(sizeof(ConnectionSlot) == 2 * kCacheLine, "ConnectionSlot grew past two lines");
static_assert(alignof(ConnectionSlot) == kCacheLine);
static_assert(sizeof(std::unique_ptr<ConnectionSpill>) == sizeof(void*));

// One reactor's connection slots, in chunks that never move, so a worker can hold a
// ConnectionSlot& while the reactor adds chunks. Slots are allocated by their reactor and
// released by whichever thread closes the connection. A slot's index carries its reactor in the
// high bits, so any thread can tell from a handle alone which reactor (and table) it belongs to.
class ConnectionTable {
 public:
  static constexpr std::uint32_t kChunk = 1024;
  static constexpr std::uint32_t kMaxChunks = 4096;  // about four million connections a reactor
  static constexpr unsigned kLocalBits = 22;
  static_assert(std::uint64_t{kChunk} * kMaxChunks == std::uint64_t{1} << kLocalBits);
  static constexpr std::uint32_t kMaxReactors = std::uint32_t{1} << (32 - kLocalBits);

  explicit ConnectionTable(std::uint32_t reactor = 0)
      : chunks_(std::make_unique<std::atomic<Chunk*>[]>(kMaxChunks)), base_(reactor << kLocalBits) {
    CHRONOS_ASSERT(reactor < kMaxReactors);
  }

  static std::uint32_t reactor_of(std::uint32_t index) noexcept { return index >> kLocalBits; }

  // A free slot (its reactor's thread only); nullptr when the table is full.
  ConnectionSlot* allocate() {
    live_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(free_mutex_);
      if (!free_.empty()) {
        const std::uint32_t index = free_.back();
        free_.pop_back();
        return &at(index);
      }
    }
    if (used_ == kChunk * kMaxChunks) {
      live_.fetch_sub(1, std::memory_order_relaxed);
      return nullptr;
    }
    if (used_ % kChunk == 0) {
      owned_.push_back(std::make_unique<Chunk>());
      // Release: a worker that reaches this chunk through a queued job sees it constructed.
      chunks_[used_ / kChunk].store(owned_.back().get(), std::memory_order_release);
    }
    ConnectionSlot& c = slot(used_);
    c.index = base_ | used_++;
    return &c;
  }

  // Gives a closed connection's slot back (any thread).
  void release(std::uint32_t index) {
    CHRONOS_ASSERT(reactor_of(index) == reactor_of(base_));
    {
      std::lock_guard lock(free_mutex_);
      free_.push_back(index);
    }
    live_.fetch_sub(1, std::memory_order_relaxed);
  }

  // The connection `handle` names, or nullptr if it has closed, its slot was reused, or it is
  // another reactor's.
  ConnectionSlot* find(std::uint64_t handle) noexcept {
    const std::uint32_t index = handle_index(handle);
    if ((index & ~kLocalMask) != base_) return nullptr;
    // Acquire: pairs with the chunk's release store in allocate().
    Chunk* chunk = chunks_[(index & kLocalMask) / kChunk].load(std::memory_order_acquire);
    if (!chunk) return nullptr;
    ConnectionSlot& c = chunk->slots[index % kChunk];
    // Relaxed: generation changes only on the reactor, before it publishes the new handle.
    if (c.generation.load(std::memory_order_relaxed) != handle_generation(handle)) return nullptr;
    return &c;
  }

  // The i-th slot handed out (i < used()), for the reactor's walks over its connections.
  ConnectionSlot& at(std::uint32_t index) noexcept { return slot(index & kLocalMask); }
  const ConnectionSlot& at(std::uint32_t index) const noexcept {
    return const_cast<ConnectionTable*>(this)->slot(index & kLocalMask);
  }
  std::uint32_t used() const noexcept { return used_; }  // its reactor's thread only
  // Connections open now (any thread; relaxed: a balancing hint, never a decision of safety).
  std::uint32_t live() const noexcept { return live_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::uint32_t kLocalMask = (std::uint32_t{1} << kLocalBits) - 1;
  struct Chunk {
    ConnectionSlot slots[kChunk];
  };
  ConnectionSlot& slot(std::uint32_t local) noexcept {
    return chunks_[local / kChunk].load(std::memory_order_acquire)->slots[local % kChunk];
  }

  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
  const std::uint32_t base_;                   // the reactor's bits of every index
  std::vector<std::unique_ptr<Chunk>> owned_;  // its reactor's thread only
  std::uint32_t used_ = 0;                     // slots ever handed out; its reactor's only
  alignas(kCacheLine) std::atomic<std::uint32_t> live_{0};
  std::mutex free_mutex_;
  std::vector<std::uint32_t> free_;
};

// Every reactor's table, fixed when the scheduler is made: a handle finds its slot from any
// thread without knowing which reactor accepted it.
class ConnectionTables {
 public:
  explicit ConnectionTables(std::size_t reactors) {
    CHRONOS_ASSERT(reactors >= 1 && reactors <= ConnectionTable::kMaxReactors);
    for (std::uint32_t r = 0; r < reactors; ++r)
      tables_.push_back(std::make_unique<ConnectionTable>(r));
  }
  ConnectionTable& of(std::size_t reactor) noexcept { return *tables_[reactor]; }
  std::size_t size() const noexcept { return tables_.size(); }

  ConnectionSlot* find(std::uint64_t handle) noexcept {
    const std::uint32_t r = ConnectionTable::reactor_of(handle_index(handle));
    return r < tables_.size() ? tables_[r]->find(handle) : nullptr;
  }
  void release(std::uint32_t index) { tables_[ConnectionTable::reactor_of(index)]->release(index); }

 private:
  std::vector<std::unique_ptr<ConnectionTable>> tables_;
};

}  // namespace chronos
