#include "reactor/ListenerSet.hpp"

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

}  // namespace

ListenerSet::Plan ListenerSet::prepare(const std::vector<ListenerConfig>& configs,
                                       const PluginLookup& lookup, Watchers& watchers,
                                       const OnAcceptable& on_acceptable) const {
  Plan plan;
  plan.reused.assign(configs.size(), nullptr);
  for (std::size_t i = 0; i < configs.size(); ++i) {
    const ListenerConfig& config = configs[i];
    auto listener = std::make_shared<ListenerState>();
    listener->config = config;
    listener->plugin = lookup(config.plugin);
    if (!listener->plugin) throw listener_error(config, "no plugin named " + config.plugin);
    for (const auto& old : listeners_)
      if (old->config.address == config.address && old->fd &&
          std::find(plan.reused.begin(), plan.reused.end(), old.get()) == plan.reused.end())
        plan.reused[i] = old.get();
    if (!plan.reused[i]) {
      try {
        listener->fd = listen_on(config.address);
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
