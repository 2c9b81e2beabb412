#include "child.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace echo_bench {
namespace {

// Live children, for the parent's signal handler. Slots hold a pid or 0.
constexpr int kMaxChildren = 16;
std::atomic<pid_t> g_children[kMaxChildren];

void remember(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = 0;
    if (slot.compare_exchange_strong(expected, pid)) return;
  }
}

void forget(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

std::string describe(int status, bool killed_after_timeout) {
  char text[64];
  if (WIFEXITED(status))
    std::snprintf(text, sizeof(text), "exit %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    std::snprintf(text, sizeof(text), "signal %d%s", WTERMSIG(status),
                  killed_after_timeout ? " after timeout" : "");
  else
    std::snprintf(text, sizeof(text), "status %d", status);
  return text;
}

}  // namespace

void kill_all_children_from_signal() noexcept {
  for (auto& slot : g_children)
    if (const pid_t pid = slot.load()) ::kill(pid, SIGKILL);
}

ServerProcess::ServerProcess(const SpawnOptions& options) {
  char dir_template[] = "/tmp/echo_bench.XXXXXX";
  if (!mkdtemp(dir_template)) throw std::system_error(errno, std::generic_category(), "mkdtemp");
  dir_ = dir_template;
  const std::string port_file = dir_ + "/port";

  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  const std::string serve_arg = "--serve=" + options.kind;
  const std::string workers_arg = std::to_string(options.workers);
  const std::string lifetime_arg = std::to_string(options.lifetime_s);
  std::vector<const char*> argv = {"echo_bench",      serve_arg.c_str(),    "--port-file",
                                   port_file.c_str(), "--workers",          workers_arg.c_str(),
                                   "--lifetime",      lifetime_arg.c_str(), nullptr};
  cpu_set_t set;
  CPU_ZERO(&set);
  if (options.cpu >= 0) CPU_SET(options.cpu, &set);
  const pid_t parent = getpid();

  pid_ = fork();
  if (pid_ < 0) {
    rmdir(dir_.c_str());
    throw std::system_error(errno, std::generic_category(), "fork");
  }
  if (pid_ == 0) {
    // The child: die with the parent, pin, become the server.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    if (options.cpu >= 0 && sched_setaffinity(0, sizeof(set), &set) != 0) _exit(126);
    execv("/proc/self/exe", const_cast<char* const*>(argv.data()));
    _exit(125);
  }
  remember(pid_);

  // Wait for the port file (the server writes it once bound).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    std::ifstream in(port_file);
    unsigned port = 0;
    std::size_t threads = 0;
    if (in >> port >> threads && port > 0) {
      port_ = static_cast<std::uint16_t>(port);
      threads_ = threads;
      break;
    }
    if (!alive()) {
      const std::string how = ended_;
      stop();
      throw std::runtime_error("server " + options.kind + " died before listening (" + how + ")");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      stop();
      throw std::runtime_error("server " + options.kind + " did not listen within 10 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

ServerProcess::~ServerProcess() { stop(); }

bool ServerProcess::alive() {
  if (!ended_.empty()) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    ended_ = describe(status, false);
    forget(pid_);
    return false;
  }
  return true;
}

std::string ServerProcess::stop(int timeout_ms) noexcept {
  if (pid_ > 0 && ended_.empty()) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      ended_ = describe(status, false);
    } else {
      ::kill(pid_, SIGTERM);
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
      for (;;) {
        const pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
          ended_ = describe(status, false);
          break;
        }
        if (r < 0 && errno != EINTR) {
          ended_ = "lost";
          break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
          ::kill(pid_, SIGKILL);
          while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
          }
          ended_ = describe(status, true);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
    forget(pid_);
  }
  if (!dir_.empty()) {
    const std::string port_file = dir_ + "/port";
    unlink(port_file.c_str());
    unlink((port_file + ".tmp").c_str());
    rmdir(dir_.c_str());
    dir_.clear();
  }
  return ended_;
}

}  // namespace echo_bench
