// A small blocking loopback client for integration tests. Every call has a deadline, so a
// server bug shows up as a failed check, never as a hung test.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "chronos/Fd.hpp"

namespace chronos::test {

using namespace std::chrono_literals;

class Client {
 public:
  // Connects to 127.0.0.1:port (or [::1]:port with `ipv6`); check connected().
  explicit Client(std::uint16_t port, bool ipv6 = false) {
    fd_.reset(::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int rc;
    if (ipv6) {
      sockaddr_in6 addr{};
      addr.sin6_family = AF_INET6;
      addr.sin6_port = htons(port);
      addr.sin6_addr = in6addr_loopback;
      rc = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    } else {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      rc = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    }
    if (rc != 0) fd_.reset();
    const int one = 1;
    if (fd_) setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }

  bool connected() const { return static_cast<bool>(fd_); }
  int fd() const { return fd_.get(); }

  bool send_all(std::string_view data, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!data.empty()) {
      if (!wait_for(POLLOUT, deadline)) return false;
      const ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0)
        data.remove_prefix(static_cast<std::size_t>(n));
      else if (n < 0 && errno != EAGAIN && errno != EINTR)
        return false;
    }
    return true;
  }

  // Reads exactly `n` bytes; returns fewer if the peer closed or the deadline passed.
  std::string recv_exact(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::string out;
    out.reserve(n);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[65536];
    while (out.size() < n) {
      if (!wait_for(POLLIN, deadline)) break;
      const ssize_t got =
          ::recv(fd_.get(), buf, std::min(sizeof(buf), n - out.size()), MSG_DONTWAIT);
      if (got > 0)
        out.append(buf, static_cast<std::size_t>(got));
      else if (got == 0 || (errno != EAGAIN && errno != EINTR))
        break;
    }
    return out;
  }

  // Reads whatever arrives within `timeout` (at most `max` bytes, stops early at that many).
  std::string recv_some(std::size_t max, std::chrono::milliseconds timeout = 10s) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[65536];
    if (!wait_for(POLLIN, deadline)) return out;
    const ssize_t got = ::recv(fd_.get(), buf, std::min(sizeof(buf), max), MSG_DONTWAIT);
    if (got > 0) out.append(buf, static_cast<std::size_t>(got));
    return out;
  }

  // True once the server has closed the connection (EOF or reset) within `timeout`. Any data
  // still arriving is discarded.
  bool wait_closed(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
      if (!wait_for(POLLIN, deadline)) return false;
      const ssize_t got = ::recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (got == 0) return true;
      if (got < 0 && errno != EAGAIN && errno != EINTR) return true;  // ECONNRESET
    }
  }

  void close() { fd_.reset(); }

  // Closes with an RST instead of a FIN.
  void reset() {
    const linger l{1, 0};
    setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    fd_.reset();
  }

 private:
  bool wait_for(short events, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_.get(), events, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
      if (rc > 0) return true;
      if (rc < 0 && errno != EINTR) return false;
    }
  }

  Fd fd_;
};

// A deterministic byte pattern, so every byte can be checked.
inline std::string pattern(std::size_t n, std::uint32_t seed) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& ch : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    ch = static_cast<char>(x);
  }
  return s;
}

}  // namespace chronos::test
