#include "reactor/Timers.hpp"

#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace chronos {

namespace {
Fd make_timerfd() {
  const int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "timerfd");
  return Fd(fd);
}
}  // namespace

Timers::Timers() : fd_(make_timerfd()) {}

// Monotonic milliseconds stay far below 2^61 (millions of years of uptime): the shift is exact.
void Timers::add(const Deadline& deadline) {
  heap_.push(
      Entry{deadline.at_ms << 2 | static_cast<std::int64_t>(deadline.kind), deadline.subject});
  if (armed_ms_ == 0 || deadline.at_ms < armed_ms_) arm(deadline.at_ms);
}

void Timers::expire(const std::function<void(const Deadline&)>& on_due) {
  std::uint64_t expirations;
  [[maybe_unused]] const auto ignored = ::read(fd_.get(), &expirations, sizeof(expirations));
  armed_ms_ = 0;
  const std::int64_t now = now_ms();
  while (!heap_.empty() && (heap_.top().key >> 2) <= now) {
    const Entry top = heap_.top();
    heap_.pop();
    on_due(Deadline{top.key >> 2, static_cast<Kind>(top.key & 3), top.subject});
  }
  arm(heap_.empty() ? 0 : heap_.top().key >> 2);
}

void Timers::arm(std::int64_t at_ms) noexcept {
  itimerspec spec{};
  if (at_ms > 0) {
    // Relative arming; +1 ms so the coarse clock has surely passed the deadline when it fires.
    const std::int64_t in_ms = std::max<std::int64_t>(at_ms - now_ms(), 0) + 1;
    spec.it_value.tv_sec = in_ms / 1000;
    spec.it_value.tv_nsec = (in_ms % 1000) * 1000000;
  }
  timerfd_settime(fd_.get(), 0, &spec, nullptr);
  armed_ms_ = at_ms;
}

}  // namespace chronos
