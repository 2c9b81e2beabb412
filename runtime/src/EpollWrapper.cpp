#include "EpollWrapper.hpp"

#include <cerrno>
#include <system_error>

namespace chronos {

EpollWrapper::EpollWrapper() : fd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (!fd_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

namespace {
int control(int epfd, int op, int fd, std::uint32_t events, std::uint64_t data) noexcept {
  epoll_event ev{};
  ev.events = events | EPOLLET;
  ev.data.u64 = data;
  return epoll_ctl(epfd, op, fd, &ev) == 0 ? 0 : -errno;
}
}  // namespace

int EpollWrapper::add(int fd, std::uint32_t events, std::uint64_t data) noexcept {
  return control(fd_.get(), EPOLL_CTL_ADD, fd, events, data);
}

int EpollWrapper::modify(int fd, std::uint32_t events, std::uint64_t data) noexcept {
  return control(fd_.get(), EPOLL_CTL_MOD, fd, events, data);
}

int EpollWrapper::remove(int fd) noexcept {
  return epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr) == 0 ? 0 : -errno;
}

int EpollWrapper::wait(epoll_event* events, int max_events, int timeout_ms) noexcept {
  const int n = epoll_wait(fd_.get(), events, max_events, timeout_ms);
  if (n >= 0) return n;
  return errno == EINTR ? 0 : -errno;
}

}  // namespace chronos
