// ReactorCalls: runs a function on a Runtime's reactor thread and waits for its result, the way an
// embedder reaches what must run there (Runtime::reconfigure) from another thread: an eventfd the
// runtime watches, a queue of calls, a future for each.
//
//   ReactorCalls calls;            // declared before the Runtime: the watch refers to it
//   calls.attach(runtime);         // before run()
//   ...
//   const ReconfigureReport report = calls.call([&] { return runtime.reconfigure(l, p); });
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "chronos/Fd.hpp"
#include "chronos/Runtime.hpp"

namespace chronos::test {

class ReactorCalls {
 public:
  ReactorCalls() : wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!wake_) throw std::runtime_error("eventfd failed");
  }
  ReactorCalls(const ReactorCalls&) = delete;
  ReactorCalls& operator=(const ReactorCalls&) = delete;

  // Runtime::watch registrations last as long as the runtime: attach only to one this outlives.
  void attach(Runtime& runtime) {
    runtime.watch(wake_.get(), [this] { run_pending(); });
  }

  // Runs `fn` on the reactor thread; returns what it returned or rethrows what it threw. `fn` is
  // moved into the queue, so what it captures by value stays valid even past the deadline.
  template <class Fn>
  std::invoke_result_t<Fn&> call(Fn fn,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    using Result = std::invoke_result_t<Fn&>;
    auto task = std::make_shared<std::packaged_task<Result()>>(std::move(fn));
    std::future<Result> result = task->get_future();
    {
      std::lock_guard lock(mutex_);
      pending_.emplace_back([task] { (*task)(); });
    }
    const std::uint64_t one = 1;
    if (::write(wake_.get(), &one, sizeof one) != sizeof one)
      throw std::runtime_error("cannot wake the reactor");
    if (result.wait_for(timeout) != std::future_status::ready)
      throw std::runtime_error("the reactor did not run the call within its deadline");
    return result.get();
  }

 private:
  // Edge-triggered: drain the counter first, then take every call queued by then.
  void run_pending() {
    std::uint64_t count = 0;
    while (::read(wake_.get(), &count, sizeof count) > 0) {
    }
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard lock(mutex_);
      batch.swap(pending_);
    }
    for (auto& fn : batch) fn();
  }

  Fd wake_;
  std::mutex mutex_;
  std::vector<std::function<void()>> pending_;
};

}  // namespace chronos::test
