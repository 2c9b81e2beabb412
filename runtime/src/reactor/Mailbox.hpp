// Mailbox: tasks handed to the reactor thread from any thread (Runtime::post), e.g. the
// program's reload thread committing what it prepared.
//
// Posting locks a mutex and writes the eventfd only when the mailbox was empty, so a burst of
// posts wakes the reactor once; the reactor takes the whole batch under the lock and runs it
// outside it, so a task may post again.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "chronos/Fd.hpp"

namespace chronos {

class Mailbox {
 public:
  using Task = std::function<void()>;

  Mailbox();  // throws std::system_error

  int fd() const noexcept { return fd_.get(); }

  void post(Task task);  // any thread
  void run_posted();     // reactor thread: on the eventfd's readiness; tasks run in posting order

 private:
  Fd fd_;
  std::mutex mutex_;
  std::vector<Task> tasks_;  // guarded by mutex_; dropped unrun when the reactor is gone
};

}  // namespace chronos
