// SocketBroker: the supervisor's listening sockets. The server process asks for each listener's
// socket; the broker binds it on the first request and keeps its own copy, so a server started
// after a crash (or an upgrade) gets the very same socket: the port never closes, and connection
// attempts wait in its accept queue meanwhile.
//
// Each server process (an owner) holds a set of sockets: those it asked for and those it said it
// keeps. A socket no live owner holds is closed (a listener removed by a reload, a new one of a
// reload that failed). A crashed server's set passes to the one restarted in its place.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "chronos/Fd.hpp"

namespace chronos {

class SocketBroker {
 public:
  using Listener = std::pair<std::string, std::string>;  // name, address

  // The socket of `listener` for `owner` (still owned by the broker: send a copy). Throws
  // std::system_error naming the address when it cannot be bound, as the runtime's bind does.
  int acquire(int owner, const Listener& listener);
  // `owner` serves exactly `listeners` now.
  void keep(int owner, const std::vector<Listener>& listeners);
  // `to` (a restarted server) takes over what `from` (the crashed one) held.
  void inherit(int from, int to);
  // `owner` is gone and no one takes over its sockets.
  void forget(int owner);

  std::size_t size() const noexcept { return sockets_.size(); }

 private:
  // A fixed port is one socket whatever the listener's name (a rename keeps it, as a reload
  // does); port 0 is the kernel's pick for that one listener, so its name is part of the key.
  static std::string key(const Listener& listener);
  void close_unheld();

  std::map<std::string, Fd> sockets_;
  std::map<int, std::set<std::string>> held_;
};

}  // namespace chronos
