#include "reactor/Watchers.hpp"

#include <system_error>
#include <utility>

#include "Assert.hpp"

namespace chronos {

Watchers::Id Watchers::add(int fd, Callback on_readable, During during, Wake wake) {
  const Id id = next_id_++;
  CHRONOS_ASSERT(is_watcher(id));
  const std::uint32_t events = wake == Wake::one ? EPOLLIN | EPOLLEXCLUSIVE : EPOLLIN;
  if (const int rc = epoll_.add(fd, events, id); rc < 0)
    throw std::system_error(-rc, std::generic_category(), "epoll_ctl(add)");
  entries_.emplace(id, Entry{fd, std::move(on_readable), during});
  return id;
}

void Watchers::replace(Id id, Callback on_readable) {
  const auto it = entries_.find(id);
  CHRONOS_ASSERT(it != entries_.end());
  it->second.on_readable = std::move(on_readable);
}

void Watchers::remove(Id id) noexcept {
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;
  epoll_.remove(it->second.fd);
  entries_.erase(it);
}

void Watchers::dispatch(std::uint64_t token, bool shutting_down) {
  const auto it = entries_.find(token);
  if (it == entries_.end()) return;  // removed while its event was in flight
  if (shutting_down && it->second.during != During::shutdown) return;
  it->second.on_readable();
}

Watchers::Registration& Watchers::Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    reset();
    watchers_ = std::exchange(other.watchers_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void Watchers::Registration::reset() noexcept {
  if (watchers_) watchers_->remove(id_);
  watchers_ = nullptr;
  id_ = 0;
}

}  // namespace chronos
