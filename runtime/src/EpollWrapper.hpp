// EpollWrapper: RAII over one epoll instance. Every registration is edge-triggered (EPOLLET):
// readiness is reported once per change, so the owner must drain a descriptor (read or accept
// until EAGAIN) before it can expect another event for it.
//
// Construction throws std::system_error; the hot-path calls return 0 or -errno instead.
#pragma once

#include <sys/epoll.h>

#include <cstdint>

#include "chronos/Fd.hpp"

namespace chronos {

class EpollWrapper {
 public:
  EpollWrapper();  // epoll_create1(EPOLL_CLOEXEC); throws std::system_error

  // Registers `fd` for `events` (EPOLLET is added) with `data` returned in its events.
  int add(int fd, std::uint32_t events, std::uint64_t data) noexcept;
  int modify(int fd, std::uint32_t events, std::uint64_t data) noexcept;
  int remove(int fd) noexcept;

  // Waits up to `timeout_ms` (-1 = forever) and fills `events`; returns the count (0 on timeout
  // or EINTR), or -errno.
  int wait(epoll_event* events, int max_events, int timeout_ms) noexcept;

  int fd() const noexcept { return fd_.get(); }

 private:
  Fd fd_;
};

}  // namespace chronos
