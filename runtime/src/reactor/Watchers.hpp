// Watchers: the reactor's own descriptors, each registered with the callback that serves it.
//
// An epoll event carries either a connection handle or a watcher id, and nothing else: a
// connection handle has a non-zero generation in its high half, a watcher id never has (ids
// count up from 1 and are never reused, so an event still in flight for a removed watcher finds
// nothing rather than its successor). The stop and room eventfds, the timerfd, listening
// sockets and the embedder's Runtime::watch descriptors all come through here, so the loop
// decodes no token ranges.
//
// Reactor thread only (or before run()).
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>

#include "EpollWrapper.hpp"

namespace chronos {

class Watchers {
 public:
  using Id = std::uint64_t;
  using Callback = std::function<void()>;
  // Whether a watcher is still served while the reactor shuts down (the stop and room eventfds
  // are; a reload signal or a timer is not).
  enum class During { running, shutdown };
  // Whom a readiness wakes when other reactors watch the same descriptor: every one, or one
  // that is idle (EPOLLEXCLUSIVE: the listening sockets every reactor accepts on).
  enum class Wake { all, one };

  explicit Watchers(EpollWrapper& epoll) noexcept : epoll_(epoll) {}

  // Registers `fd` for readability (edge-triggered). Returns its id; throws std::system_error.
  Id add(int fd, Callback on_readable, During during = During::running, Wake wake = Wake::all);
  void replace(Id id, Callback on_readable);  // the same descriptor, served by a new callback
  void remove(Id id) noexcept;                // before its descriptor is closed

  static bool is_watcher(std::uint64_t token) noexcept { return token >> 32 == 0; }
  // Runs the callback of watcher `token`, if it is still registered (and, while shutting down,
  // only if it asked to be served then).
  void dispatch(std::uint64_t token, bool shutting_down);

  // A watcher descriptor that removes itself when destroyed (listening sockets hold one).
  class Registration {
   public:
    Registration() = default;
    Registration(Watchers& watchers, Id id) noexcept : watchers_(&watchers), id_(id) {}
    Registration(Registration&& other) noexcept { *this = std::move(other); }
    Registration& operator=(Registration&& other) noexcept;
    ~Registration() { reset(); }
    void reset() noexcept;
    Id id() const noexcept { return id_; }
    Watchers* watchers() const noexcept { return watchers_; }

   private:
    Watchers* watchers_ = nullptr;
    Id id_ = 0;
  };

 private:
  struct Entry {
    int fd;
    Callback on_readable;
    During during;
  };
  EpollWrapper& epoll_;
  // Node-based: a callback that reconfigures (adds and removes watchers) while it runs does not
  // move the entry it is running from.
  std::unordered_map<Id, Entry> entries_;
  Id next_id_ = 1;
};

}  // namespace chronos
