#include "reactor/ListenerSet.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <stdexcept>
#include <system_error>

#include "Socket.hpp"

namespace chronos {
namespace {

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
      if (free && old->config.address == configs[i].address &&
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
                                       const PluginLookup& lookup,
                                       const ListenSocket& listen_socket) const {
  Plan plan;
  plan.reused = match_sockets(configs);
  plan.sockets.resize(configs.size());
  for (std::size_t i = 0; i < configs.size(); ++i) {
    const ListenerConfig& config = configs[i];
    auto listener = std::make_shared<ListenerState>();
    listener->config = config;
    listener->plugin = lookup(config.plugin);
    if (!listener->plugin) throw listener_error(config, "no plugin named " + config.plugin);
    if (!plan.reused[i]) {
      try {
        plan.sockets[i] = std::make_shared<const Fd>(listen_socket ? listen_socket(config)
                                                                   : listen_on(config.address));
      } catch (const std::system_error& e) {
        throw listener_error(config, e.what());  // `plan` unwinds: sockets closed
      }
      listener->socket = plan.sockets[i];
      listener->port = local_port(plan.sockets[i]->get());
    }
    plan.next.push_back(std::move(listener));
  }
  return plan;
}

ListenerSet::Listeners ListenerSet::commit(Plan plan) {
  for (std::size_t i = 0; i < plan.next.size(); ++i) {
    ListenerState& listener = *plan.next[i];
    for (const auto& old : listeners_)
      if (old->config.name == listener.config.name) listener.open = old->open;
    const ListenerState* old = plan.reused[i];
    if (!old) continue;
    for (std::size_t j = 0; j < listeners_.size(); ++j)
      if (listeners_[j].get() == old) plan.sockets[i] = sockets_[j];
    listener.socket = plan.sockets[i];  // the same socket, so the same registrations
    listener.port = old->port;
  }
  sockets_ = std::move(plan.sockets);  // lets go of the removed ones
  return std::exchange(listeners_, std::move(plan.next));
}

std::uint16_t ListenerSet::port(std::string_view name) const {
  for (const auto& l : listeners_)
    if (l->config.name == name) return l->port;
  throw std::out_of_range("no listener named " + std::string(name));
}

void ListenerSet::close_all() noexcept { sockets_.clear(); }

}  // namespace chronos
