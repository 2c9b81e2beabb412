// ListenerSet: the listeners as configured now, and the two-phase change a reload makes to them.
//
// A reload that changes a listener builds a new ListenerState, sharing the socket of the old one
// when the address is unchanged (see match_sockets), so no connection attempt is lost;
// connections keep the state they were accepted under alive until they close.
//
// A ListenerState is immutable once committed, so every reactor reads it without a lock (each
// gets the new set through its mailbox, which orders it). Each reactor registers the socket in
// its own epoll set (its Acceptor, Reactor.hpp) and holds it open while registered: a socket a
// reload removed closes when the last reactor has let go of it, so a descriptor number is never
// reused under a reactor that still has the old socket registered.
//
// The set itself is the scheduler's: changed by reconfigure() only (before run(), or on reactor
// 0's thread).
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

namespace chronos {

class PluginInstance;
struct HandlerNames;

struct ListenerState : std::enable_shared_from_this<ListenerState> {
  ListenerConfig config;
  // The listening socket, owned by the set while the listener is live (and shared with the next
  // generation when its address is kept) and by the reactors' registrations; weak here, because
  // connections keep their listener's state alive and must not keep a removed socket open.
  std::weak_ptr<const Fd> socket;
  std::uint16_t port = 0;
  std::shared_ptr<PluginInstance> plugin;
  const HandlerNames* names = nullptr;  // set by the scheduler; outlives every generation
  // Connections open now, on every reactor; shared by every generation of the same-named
  // listener. max_connections is checked against it: a limit of the listener, not of a reactor.
  std::shared_ptr<std::atomic<std::size_t>> open = std::make_shared<std::atomic<std::size_t>>(0);
};

class ListenerSet {
 public:
  using PluginLookup = std::function<std::shared_ptr<PluginInstance>(const std::string&)>;
  using Listeners = std::vector<std::shared_ptr<ListenerState>>;
  // RuntimeConfig::listen_socket: empty binds here.
  using ListenSocket = std::function<Fd(const ListenerConfig&)>;

  // A reload's first phase: every plugin resolved, every new address bound.
  struct Plan {
    Listeners next;
    std::vector<ListenerState*> reused;  // parallel to next: the old state whose socket it takes
    std::vector<std::shared_ptr<const Fd>> sockets;  // parallel to next: those bound afresh
  };

  // Phase 1, may throw RuntimeError (missing plugin, bind failure); nothing live changes.
  Plan prepare(const std::vector<ListenerConfig>& configs, const PluginLookup& lookup,
               const ListenSocket& listen_socket) const;
  // Phase 2, cannot fail: kept sockets are shared with their new states, and the listeners that
  // are gone are returned, the set no longer holding their sockets (connections accepted under
  // them still refer to them).
  Listeners commit(Plan plan);

  std::uint16_t port(std::string_view name) const;  // throws std::out_of_range
  const Listeners& all() const noexcept { return listeners_; }
  void close_all() noexcept;  // drops the set's hold on every socket

 private:
  // Which old socket each new listener takes over (null: it binds its own). The same name and
  // address first; then, for a fixed port, the same address under another name: a renamed
  // listener, whose address could not be bound afresh while the old socket holds it. A port-0
  // socket never goes to another name: its port was the kernel's pick for that listener.
  std::vector<ListenerState*> match_sockets(const std::vector<ListenerConfig>& configs) const;

  Listeners listeners_;
  std::vector<std::shared_ptr<const Fd>> sockets_;  // parallel to listeners_
};

}  // namespace chronos
