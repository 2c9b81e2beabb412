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
#include <optional>
#include <stdexcept>
#include <string>
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

  // Runs `fn` on the reactor thread; returns what it returned, or throws what it threw (a
  // RuntimeError as one, anything else as std::runtime_error). `fn` is moved into the queue, so
  // what it captures by value stays valid even past the deadline.
  template <class Fn>
  std::invoke_result_t<Fn&> call(Fn fn,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    using Result = std::invoke_result_t<Fn&>;
    auto promise = std::make_shared<std::promise<Outcome<Result>>>();
    std::future<Outcome<Result>> future = promise->get_future();
    post([promise, fn = std::move(fn)]() mutable { promise->set_value(run(fn)); });
    if (future.wait_for(timeout) != std::future_status::ready)
      throw std::runtime_error("the reactor did not run the call within its deadline");
    Outcome<Result> outcome = future.get();
    if (outcome.error) throw *outcome.error;
    if (!outcome.value) throw std::runtime_error(outcome.other_error);
    return std::move(*outcome.value);
  }

 private:
  // What a call did, in values made on the reactor thread. The exception itself stays there:
  // its refcount lives in the uninstrumented libstdc++, so ThreadSanitizer could not see a
  // hand-over of it between the threads.
  template <class Result>
  struct Outcome {
    std::optional<Result> value;
    std::optional<RuntimeError> error;  // a copy made afresh, sharing nothing with the thrown one
    std::string other_error;
  };

  template <class Fn>
  static Outcome<std::invoke_result_t<Fn&>> run(Fn& fn) {
    Outcome<std::invoke_result_t<Fn&>> outcome;
    try {
      outcome.value.emplace(fn());
    } catch (const RuntimeError& e) {
      outcome.error.emplace(e.subject, std::string(e.name), std::string(e.what()));
    } catch (const std::exception& e) {
      outcome.other_error = e.what();
    }
    return outcome;
  }

  void post(std::function<void()> fn) {
    {
      std::lock_guard lock(mutex_);
      pending_.push_back(std::move(fn));
    }
    const std::uint64_t one = 1;
    if (::write(wake_.get(), &one, sizeof one) != sizeof one)
      throw std::runtime_error("cannot wake the reactor");
  }

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
