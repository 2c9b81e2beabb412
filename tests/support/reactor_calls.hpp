// ReactorCalls: runs a function on a Runtime's reactor thread and waits for its result, the way an
// embedder reaches what must run there (Runtime::reconfigure) from another thread: through
// Runtime::post, with a future for each call.
//
//   ReactorCalls calls;
//   calls.attach(runtime);
//   ...
//   const ReconfigureReport report = calls.call([&] { return runtime.reconfigure(l, p); });
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "chronos/Runtime.hpp"

namespace chronos::test {

class ReactorCalls {
 public:
  ReactorCalls() = default;
  ReactorCalls(const ReactorCalls&) = delete;
  ReactorCalls& operator=(const ReactorCalls&) = delete;

  void attach(Runtime& runtime) { runtime_ = &runtime; }

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
    if (!runtime_) throw std::logic_error("ReactorCalls: attach() it first");
    runtime_->post(std::move(fn));
  }

  Runtime* runtime_ = nullptr;
};

}  // namespace chronos::test
