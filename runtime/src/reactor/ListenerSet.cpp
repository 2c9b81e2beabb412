#include "reactor/ListenerSet.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <stdexcept>
#include <system_error>

#include "Socket.hpp"

namespace chronos {
namespace {

Watchers::Callback accept_callback(const ListenerSet::OnAcceptable& on_acceptable,
                                   ListenerState& listener) {
  // The state outlives its registration: it is unregistered when the state is closed or its
  // socket moves on to the next state (which re-points the callback).
  return [on_acceptable, &listener] { on_acceptable(listener); };
}

RuntimeError listener_error(const ListenerConfig& config, const std::string& what) {
  return RuntimeError(RuntimeError::Subject::listener, config.name,
                      "listener " + config.name + ": " + what);
}

// Port 0: the kernel picked the port for that one listener; no other asked for it.
bool any_port(const std::string& address) {
  const auto parsed = parse_address(address);
  if (!parsed) return false;
  const sockaddr_storage& ss = parsed->storage;
  return ss.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(ss).sin6_port == 0
                                  : reinterpret_cast<const sockaddr_in&>(ss).sin_port == 0;
}

}  // namespace

std::vector<ListenerState*> ListenerSet::match_sockets(
    const std::vector<ListenerConfig>& configs) const {
  std::vector<ListenerState*> reused(configs.size(), nullptr);
  const auto take = [&](std::size_t i, bool same_name) {
    for (const auto& old : listeners_) {
      const bool free = std::find(reused.begin(), reused.end(), old.get()) == reused.end();
      if (old->fd && free && old->config.address == configs[i].address &&
          (!same_name || old->config.name == configs[i].name)) {
        reused[i] = old.get();
        return;
      }
    }
  };
  for (std::size_t i = 0; i < configs.size(); ++i) take(i, true);
  for (std::size_t i = 0; i < configs.size(); ++i)
    if (!reused[i] && !any_port(configs[i].address)) take(i, false);
  return reused;
}

ListenerSet::Plan ListenerSet::prepare(const std::vector<ListenerConfig>& configs,
                                       const PluginLookup& lookup, Watchers& watchers,
                                       const OnAcceptable& on_acceptable,
                                       const ListenSocket& listen_socket) const {
  Plan plan;
  plan.reused = match_sockets(configs);
  for (std::size_t i = 0; i < configs.size(); ++i) {
    const ListenerConfig& config = configs[i];
    auto listener = std::make_shared<ListenerState>();
    listener->config = config;
    listener->plugin = lookup(config.plugin);
    if (!listener->plugin) throw listener_error(config, "no plugin named " + config.plugin);
    if (!plan.reused[i]) {
      try {
        listener->fd = listen_socket ? listen_socket(config) : listen_on(config.address);
        const auto id = watchers.add(listener->fd.get(), accept_callback(on_acceptable, *listener));
        listener->watch = Watchers::Registration(watchers, id);
      } catch (const std::system_error& e) {
        throw listener_error(config, e.what());  // `plan` unwinds: sockets closed, unregistered
      }
      listener->port = local_port(listener->fd.get());
    }
    plan.next.push_back(std::move(listener));
  }
  return plan;
}

ListenerSet::Listeners ListenerSet::commit(Plan plan, Watchers& watchers,
                                           const OnAcceptable& on_acceptable) {
  for (std::size_t i = 0; i < plan.next.size(); ++i) {
    ListenerState& listener = *plan.next[i];
    for (const auto& old : listeners_)
      if (old->config.name == listener.config.name) listener.open = old->open;
    ListenerState* old = plan.reused[i];
    if (!old) continue;
    listener.fd = std::move(old->fd);  // same socket, same epoll registration and id
    listener.watch = std::move(old->watch);
    listener.port = old->port;
    listener.accept_pending = old->accept_pending;
    listener.paused_until_ms = old->paused_until_ms;
    watchers.replace(listener.id(), accept_callback(on_acceptable, listener));
  }
  Listeners retired = std::exchange(listeners_, std::move(plan.next));
  for (auto& gone : retired) gone->close();  // a removed address (kept ones moved out)
  return retired;
}

ListenerState* ListenerSet::find(std::uint64_t id) noexcept {
  for (auto& l : listeners_)
    if (l->id() == id) return l.get();
  return nullptr;  // removed by a reload
}

std::uint16_t ListenerSet::port(std::string_view name) const {
  for (const auto& l : listeners_)
    if (l->config.name == name) return l->port;
  throw std::out_of_range("no listener named " + std::string(name));
}

void ListenerSet::close_all() noexcept {
  for (auto& l : listeners_) l->close();
}

}  // namespace chronos
