// ConnectionSlot: one accepted socket and its buffers, plus the word that schedules it: the
// host's record of a connection (the SDK's chronos::Connection is a plugin's view of one; the
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

struct ConnectionSlot {
  // Set by the reactor before the connection's first job is queued; constant while open. The
  // reactor itself reads only the plain values (never through the pointers: the owner may be
  // releasing them while it looks).
  int fd = -1;
  std::uint32_t index = 0;
  std::shared_ptr<ListenerState> listener;     // released by the owner at close
  std::shared_ptr<PluginInstance> plugin;      // released by the owner at close
  const ListenerState* listener_id = nullptr;  // identity only, for the reactor
  const PluginInstance* plugin_id = nullptr;   // identity only, for the reactor
  // The listener's max_active count (never freed): its reactor side, read by the reactor only
  // while it owns the connection, and the side the owner counts a finished job into.
  ActiveJobs* active = nullptr;
  JobsFinished* finished = nullptr;
  const HandlerNames* names = nullptr;  // for the watchdog; never freed
  std::size_t max_buffer = 0;
  std::uint32_t idle_timeout_ms = 0;
  bool inline_mode = false;
  // Written by the reactor at (re)use only; read by jobs to recognise stale handles.
  std::atomic<std::uint32_t> generation{0};

  alignas(kCacheLine) std::atomic<std::uint32_t> state{conn_event::kClosed};
  // Monotonic milliseconds of the last input; written by the owner, read by the idle timer.
  std::atomic<std::int64_t> last_active_ms{0};

  // Everything below belongs to the current owner (the thread that holds kOwned).
  Buffer in, out;
  void* plugin_state = nullptr;
  bool opened = false;           // on_open accepted it: on_close is owed
  bool close_requested = false;  // the plugin called close(): close once output is out
  bool read_pending = false;     // input may be waiting in the kernel
  bool peer_closed = false;      // read returned 0
  bool hangup = false;           // EPOLLHUP/RDHUP/ERR seen: read until EAGAIN or EOF

  std::uint64_t handle() const noexcept {
    return make_handle(index, generation.load(std::memory_order_relaxed));
  }
  static ConnectionSlot& from(chronos_conn* c) noexcept {
    return *reinterpret_cast<ConnectionSlot*>(c);
  }
  chronos_conn* as_c() noexcept { return reinterpret_cast<chronos_conn*>(this); }

  int queue_output(const void* data, std::size_t len) {
    if (fd < 0) return -1;
    out.append(data, len);
    return 0;
  }
};

// Connection slots in chunks that never move, so a worker can hold a ConnectionSlot& while the
// reactor adds chunks. Slots are allocated by the reactor and released by whichever thread
// closes the connection.
class ConnectionTable {
 public:
  static constexpr std::uint32_t kChunk = 1024;
  static constexpr std::uint32_t kMaxChunks = 4096;  // about four million connections

  ConnectionTable() : chunks_(std::make_unique<std::atomic<Chunk*>[]>(kMaxChunks)) {}

  // A free slot (reactor thread only); nullptr when the table is full.
  ConnectionSlot* allocate() {
    {
      std::lock_guard lock(free_mutex_);
      if (!free_.empty()) {
        const std::uint32_t index = free_.back();
        free_.pop_back();
        return &at(index);
      }
    }
    if (used_ == kChunk * kMaxChunks) return nullptr;
    if (used_ % kChunk == 0) {
      owned_.push_back(std::make_unique<Chunk>());
      // Release: a worker that reaches this chunk through a queued job sees it constructed.
      chunks_[used_ / kChunk].store(owned_.back().get(), std::memory_order_release);
    }
    ConnectionSlot& c = at(used_);
    c.index = used_++;
    return &c;
  }

  // Gives a closed connection's slot back (any thread).
  void release(std::uint32_t index) {
    std::lock_guard lock(free_mutex_);
    free_.push_back(index);
  }

  // The connection `handle` names, or nullptr if it has closed or its slot was reused.
  ConnectionSlot* find(std::uint64_t handle) noexcept {
    const std::uint32_t index = handle_index(handle);
    if (index >= kChunk * kMaxChunks) return nullptr;
    // Acquire: pairs with the chunk's release store in allocate().
    Chunk* chunk = chunks_[index / kChunk].load(std::memory_order_acquire);
    if (!chunk) return nullptr;
    ConnectionSlot& c = chunk->slots[index % kChunk];
    // Relaxed: generation changes only on the reactor, before it publishes the new handle.
    if (c.generation.load(std::memory_order_relaxed) != handle_generation(handle)) return nullptr;
    return &c;
  }

  ConnectionSlot& at(std::uint32_t index) noexcept {
    return chunks_[index / kChunk].load(std::memory_order_acquire)->slots[index % kChunk];
  }
  const ConnectionSlot& at(std::uint32_t index) const noexcept {
    return chunks_[index / kChunk].load(std::memory_order_acquire)->slots[index % kChunk];
  }
  std::uint32_t used() const noexcept { return used_; }  // reactor thread only

 private:
  struct Chunk {
    ConnectionSlot slots[kChunk];
  };
  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
  std::vector<std::unique_ptr<Chunk>> owned_;  // reactor thread only
  std::uint32_t used_ = 0;                     // slots ever handed out; reactor thread only
  std::mutex free_mutex_;
  std::vector<std::uint32_t> free_;
};

}  // namespace chronos
