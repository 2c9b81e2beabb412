#include "reactor/Mailbox.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace chronos {

Mailbox::Mailbox() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
}

void Mailbox::post(Task task) {
  bool was_empty = false;
  {
    std::lock_guard lock(mutex_);
    was_empty = tasks_.empty();
    tasks_.push_back(std::move(task));
  }
  // A non-empty mailbox has a wake-up pending already: the reactor has not taken the batch yet.
  if (was_empty) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto ignored = ::write(fd_.get(), &one, sizeof(one));
  }
}

void Mailbox::run_posted() {
  std::uint64_t count = 0;
  [[maybe_unused]] const auto ignored = ::read(fd_.get(), &count, sizeof(count));
  std::vector<Task> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(tasks_);
  }
  for (Task& task : batch) task();
}

}  // namespace chronos
