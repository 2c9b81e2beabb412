#include "SocketBroker.hpp"

#include <spdlog/spdlog.h>

#include "Socket.hpp"

namespace chronos {

std::string SocketBroker::key(const Listener& listener) {
  const std::string& address = listener.second;
  const bool any_port = address.size() >= 2 && address.compare(address.size() - 2, 2, ":0") == 0;
  return any_port ? listener.first + " " + address : address;
}

int SocketBroker::acquire(int owner, const Listener& listener) {
  const std::string k = key(listener);
  auto it = sockets_.find(k);
  if (it == sockets_.end()) it = sockets_.emplace(k, listen_on(listener.second)).first;
  held_[owner].insert(k);
  return it->second.get();
}

void SocketBroker::keep(int owner, const std::vector<Listener>& listeners) {
  std::set<std::string>& held = held_[owner];
  held.clear();
  for (const Listener& l : listeners) held.insert(key(l));
  close_unheld();
}

void SocketBroker::inherit(int from, int to) {
  auto it = held_.find(from);
  if (it == held_.end()) return;
  held_[to].insert(it->second.begin(), it->second.end());
  held_.erase(from);
}

void SocketBroker::forget(int owner) {
  held_.erase(owner);
  close_unheld();
}

void SocketBroker::close_unheld() {
  for (auto it = sockets_.begin(); it != sockets_.end();) {
    bool held = false;
    for (const auto& [owner, keys] : held_) held = held || keys.count(it->first) > 0;
    if (held) {
      ++it;
      continue;
    }
    spdlog::info("supervisor: closed the socket of {} (no server serves it any more)", it->first);
    it = sockets_.erase(it);
  }
}

}  // namespace chronos
