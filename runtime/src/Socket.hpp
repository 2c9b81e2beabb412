// Listening sockets and addresses: "a.b.c.d:port" and "[v6]:port".
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chronos/Fd.hpp"

namespace chronos {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

// Parses "a.b.c.d:port" or "[v6]:port"; nullopt if it is neither.
std::optional<SocketAddress> parse_address(std::string_view text);

// A non-blocking, close-on-exec listening socket with SO_REUSEADDR, bound to `address`.
// Throws std::system_error naming the address (e.g. "127.0.0.1:80: Address already in use").
Fd listen_on(const std::string& address, int backlog = 4096);

// The port a socket is bound to.
std::uint16_t local_port(int fd);

}  // namespace chronos
