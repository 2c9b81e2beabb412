// ConnectionIo: what the owner of a connection runs — a worker, or the reactor for an `inline`
// listener. It takes the events the reactor handed over (the ownership word of
// ConnectionSlot.hpp), reads, delivers to the plugin, flushes, and closes.
//
// It reaches the connection table, the shared counters and the stop signal, and nothing of the
// reactor's own state (epoll, listeners, timers, the job batch): those are Scheduler's, which
// only the reactor thread may touch. A connection that used its read budget is handed back
// still owned (`yielded`), and its caller decides where the continuation goes: the worker pool
// queues a job, the reactor serves it again after the others had their turn.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ConnectionSlot.hpp"
#include "chronos/Job.hpp"
#include "reactor/Counters.hpp"
#include "reactor/Watchdog.hpp"

namespace spdlog {
class logger;
}

namespace chronos {

class WorkerPool;

class ConnectionIo {
 public:
  ConnectionIo(ConnectionTables& tables, Counters& counters, StopSignal& stop, spdlog::logger& log,
               Watchdog& watchdog) noexcept
      : tables_(tables), counters_(counters), stop_(stop), log_(log), watchdog_(watchdog) {}

  enum class Served {
    released,  // nothing left to do: ownership given back
    closed,    // the slot is released: the caller must not touch it
    yielded    // the read budget is used up: still owned, kContinue set
  };
  // The caller owns `c` (it turned kOwned on, or was handed the connection's job). `slot`, the
  // calling thread's watchdog slot, names the connection meanwhile. Inline: the reactor calls it
  // for every inline message (its slot is Watchdog::reactor_slot(reactor)).
  Served serve(ConnectionSlot& c, HandlerSlot& slot) {
    slot.begin(c.handle(), c.names);
    const Served served = serve_owned(c);
    slot.end();
    return served;
  }
  void close(ConnectionSlot& c, bool call_on_close);

  // The worker pool's job for connection `handle`; continuations go back to `pool`.
  Job job_for(std::uint64_t handle) noexcept {
    return Job{&ConnectionIo::run_job, this, handle, 0};
  }
  void use_pool(WorkerPool& pool) noexcept { pool_ = &pool; }  // before the first job

 private:
  enum class Outcome { idle, closed, yielded };
  static void run_job(void* self, std::uint64_t handle, std::uint64_t);
  bool serve_job(ConnectionSlot& c, HandlerSlot& slot);
  Served serve_owned(ConnectionSlot& c);
  // The steps of one serve, defined (and, being on every message's path, inlined) in
  // ConnectionIo.cpp only: a call per step measured +20 instructions per echo message.
  [[gnu::always_inline]] inline Outcome handle_events(ConnectionSlot& c, std::uint32_t events);
  bool open(ConnectionSlot& c);
  [[gnu::always_inline]] inline Outcome serve_io(ConnectionSlot& c);
  bool read_and_deliver(ConnectionSlot& c, std::size_t& budget);
  bool deliver(ConnectionSlot& c, const std::uint8_t* data, std::size_t n);
  [[gnu::always_inline]] inline bool flush(ConnectionSlot& c);
  bool flush_scratch(ConnectionSlot& c);
  bool flush_spill(ConnectionSlot& c);

  ConnectionTables& tables_;  // every reactor's
  Counters& counters_;
  StopSignal& stop_;
  spdlog::logger& log_;
  Watchdog& watchdog_;
  WorkerPool* pool_ = nullptr;
};

}  // namespace chronos
