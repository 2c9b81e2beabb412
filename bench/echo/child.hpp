// ServerProcess: one echo server in a child process (fork, pin, exec of /proc/self/exe with
// --serve=KIND), its port, its CPU time, and a stop that always reaps it: SIGTERM, then SIGKILL
// after a timeout. The destructor stops it too, so an exception never leaves a child behind.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace echo_bench {

struct SpawnOptions {
  std::string kind;
  int cpu = -1;             // pin the child to this CPU; -1 = no pinning
  std::size_t workers = 0;  // passed to --workers
  int lifetime_s = 600;     // the child kills itself (SIGALRM) after this long, whatever happens
};

class ServerProcess {
 public:
  explicit ServerProcess(const SpawnOptions& options);  // throws if it does not come up in 10 s
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  std::uint16_t port() const noexcept { return port_; }
  std::size_t threads() const noexcept { return threads_; }

  bool alive();

  // SIGTERM, wait up to `timeout_ms`, then SIGKILL. Returns a description of how it ended
  // ("exit 0", "signal 9 after timeout", ...). Idempotent.
  std::string stop(int timeout_ms = 5000) noexcept;

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::size_t threads_ = 0;
  std::string dir_;  // temporary directory of the port file
  std::string ended_;
};

// Called from the parent's SIGINT/SIGTERM handler: SIGKILL every live child (async-signal-safe).
void kill_all_children_from_signal() noexcept;

}  // namespace echo_bench
