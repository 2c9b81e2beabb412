// Loopback ports for tests: one that was free a moment ago, one held as another server would
// hold it, and the addresses a configuration names them by.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "chronos/Fd.hpp"
#include "client.hpp"

namespace chronos::test {

// A loopback port held by a listening socket of ours (bound to port 0, so the kernel picks it).
class HeldPort {
 public:
  explicit HeldPort(bool ipv6 = false)
      : fd_(::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_storage ss{};
    socklen_t len = loopback_any_port(ss, ipv6);
    auto* addr = reinterpret_cast<sockaddr*>(&ss);
    if (!fd_ || ::bind(fd_.get(), addr, len) != 0 || ::listen(fd_.get(), 1) != 0 ||
        ::getsockname(fd_.get(), addr, &len) != 0)
      throw std::runtime_error(std::string("cannot hold a port: ") + std::strerror(errno));
    port_ = ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                       : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  std::uint16_t port() const { return port_; }

 private:
  static socklen_t loopback_any_port(sockaddr_storage& ss, bool ipv6) {
    if (ipv6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      return sizeof(sockaddr_in6);
    }
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof(sockaddr_in);
  }

  Fd fd_;
  std::uint16_t port_ = 0;
};

// A loopback TCP port that was free a moment ago: held, read back, released. Throws where there
// is no such loopback (e.g. no IPv6).
inline std::uint16_t free_port(bool ipv6 = false) { return HeldPort(ipv6).port(); }

inline std::string loopback(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }
inline std::string loopback6(std::uint16_t port) { return "[::1]:" + std::to_string(port); }

// True if a connection to `port` is refused (or otherwise fails) right away.
inline bool connect_fails(std::uint16_t port) { return !Client(port).connected(); }

}  // namespace chronos::test
