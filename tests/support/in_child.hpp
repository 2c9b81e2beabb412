// run_in_child: a function run in a forked child with a deadline and a memory limit, for tests of
// code that, when broken, runs away (for minutes, or until it has taken gigabytes): the test then
// fails at the deadline or the limit instead of hanging the suite or starving the machine.
//
//   const ChildResult r = run_in_child([&] { return to_string(load_config(f).errors.at(0)); });
//   REQUIRE(r.finished());
//   CHECK(r.text == "...");
//
// Only for single-threaded test programs (the child of a fork has one thread).
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <exception>
#include <string>

namespace chronos::test {

// Sanitizers reserve terabytes of address space: no RLIMIT_AS under them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kLimitAddressSpace = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kLimitAddressSpace = false;
#else
inline constexpr bool kLimitAddressSpace = true;
#endif
#else
inline constexpr bool kLimitAddressSpace = true;
#endif

struct ChildResult {
  bool timed_out = false;  // killed at the deadline
  int exit_code = -1;      // 0: `text` is what the function returned; 2: it threw `text`
  std::string text;
  std::chrono::milliseconds took{};  // from fork to exit (or to the kill)

  bool finished() const { return !timed_out && exit_code == 0; }
  // For a failed check: how it ended, and its text.
  std::string summary() const {
    const std::string end =
        timed_out ? "killed at the deadline" : "exit code " + std::to_string(exit_code);
    return end + " after " + std::to_string(took.count()) + " ms: " + text;
  }
};

// Runs `fn` (returning std::string) in a child limited to `memory` bytes of address space,
// killed after `deadline`.
template <class Fn>
ChildResult run_in_child(Fn fn, std::chrono::milliseconds deadline = std::chrono::seconds(10),
                         std::size_t memory = std::size_t{1} << 30) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {};
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    const rlimit limit{memory, memory};
    if (kLimitAddressSpace) ::setrlimit(RLIMIT_AS, &limit);
    int code = 0;
    std::string text;
    try {
      text = fn();
    } catch (const std::exception& e) {
      code = 2, text = e.what();
    }
    for (std::size_t at = 0; at < text.size();) {
      const ssize_t n = ::write(pipe_fds[1], text.data() + at, text.size() - at);
      if (n <= 0) ::_exit(3);
      at += static_cast<std::size_t>(n);
    }
    ::_exit(code);
  }
  ::close(pipe_fds[1]);
  ChildResult result;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        start + deadline - std::chrono::steady_clock::now());
    pollfd p{pipe_fds[0], POLLIN, 0};
    const int ready = left.count() <= 0 ? 0 : ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;  // the child has exited (or closed its end)
    result.text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  if (!result.timed_out)
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace chronos::test
