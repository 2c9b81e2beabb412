// ListenerSet: the listeners as configured now, and the two-phase change a reload makes to them.
//
// A reload that changes a listener builds a new ListenerState, moving the socket (and its
// watcher registration) over when the address is unchanged (see match_sockets), so no
// connection attempt is lost; connections keep the state they were accepted under alive until
// they close.
//
// Reactor thread only (or before run()).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chronos/Fd.hpp"
#include "chronos/Runtime.hpp"
#include "reactor/Watchers.hpp"

namespace chronos {

class ActiveJobs;
class PluginInstance;
struct HandlerNames;

struct ListenerState : std::enable_shared_from_this<ListenerState> {
  ListenerConfig config;
  Fd fd;
  Watchers::Registration watch;  // declared after fd: unregistered before the socket closes
  std::uint16_t port = 0;
  std::shared_ptr<PluginInstance> plugin;
  // Set by the scheduler when the listener goes live; both outlive every generation.
  ActiveJobs* active = nullptr;
  const HandlerNames* names = nullptr;
  // Connections open now; shared by every generation of the same-named listener.
  std::shared_ptr<std::atomic<std::size_t>> open = std::make_shared<std::atomic<std::size_t>>(0);
  bool accept_pending = false;       // an accept edge is waiting (reactor paused or backing off)
  std::int64_t paused_until_ms = 0;  // accept back-off after EMFILE without a spare fd

  std::uint64_t id() const noexcept { return watch.id(); }  // names the socket; kept with it
  void close() noexcept {
    watch.reset();
    fd.reset();
  }
};

class ListenerSet {
 public:
  using PluginLookup = std::function<std::shared_ptr<PluginInstance>(const std::string&)>;
  using Listeners = std::vector<std::shared_ptr<ListenerState>>;
  // What a listener's readiness runs (the reactor's accept loop).
  using OnAcceptable = std::function<void(ListenerState&)>;
  // RuntimeConfig::listen_socket: empty binds here.
  using ListenSocket = std::function<Fd(const ListenerConfig&)>;

  // A reload's first phase: every plugin resolved, every new address bound and registered.
  struct Plan {
    Listeners next;
    std::vector<ListenerState*> reused;  // parallel to next: the old state whose socket it takes
  };

  // Phase 1, may throw RuntimeError (missing plugin, bind failure); nothing live changes.
  Plan prepare(const std::vector<ListenerConfig>& configs, const PluginLookup& lookup,
               Watchers& watchers, const OnAcceptable& on_acceptable,
               const ListenSocket& listen_socket) const;
  // Phase 2, cannot fail: kept sockets move over, and the listeners that are gone are returned
  // with their sockets closed (connections accepted under them still refer to them).
  Listeners commit(Plan plan, Watchers& watchers, const OnAcceptable& on_acceptable);

  ListenerState* find(std::uint64_t id) noexcept;
  std::uint16_t port(std::string_view name) const;  // throws std::out_of_range
  const Listeners& all() const noexcept { return listeners_; }
  void close_all() noexcept;

 private:
  // Which old socket each new listener takes over (null: it binds its own). The same name and
  // address first; then, for a fixed port, the same address under another name: a renamed
  // listener, whose address could not be bound afresh while the old socket holds it. A port-0
  // socket never goes to another name: its port was the kernel's pick for that listener.
  std::vector<ListenerState*> match_sockets(const std::vector<ListenerConfig>& configs) const;

  Listeners listeners_;
};

}  // namespace chronos
