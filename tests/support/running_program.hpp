// RunningProgram: the real `chronos` program started by a test, an RAII child process whose
// stderr (the log) and stdout are captured to files in a ScratchDir the test can search; and
// run_chronos, which runs it to completion (-t, --version, -s reload).
//
//   chronos::test::RunningProgram server(dir, {"-c", file});
//   REQUIRE(server.wait_listening());
//   ...  // at scope exit: SIGTERM, reap with a deadline, SIGKILL as the fallback
//
// Nothing here sleeps for a fixed time: every wait polls a condition against a deadline.
// program_fixture.hpp writes the configuration and starts it in one step.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "scratch_dir.hpp"
#include "wait.hpp"

namespace chronos::test {

// Sanitizer builds start and stop more slowly; every deadline below is generous anyway.
inline constexpr std::chrono::milliseconds kStartTimeout{20000};
inline constexpr std::chrono::milliseconds kExitTimeout{15000};

// How a finished child ended: its exit status, or 128 + the signal that killed it.
inline int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// One `chronos` child process. stdout and stderr go to files in the scratch folder; the
// destructor sends SIGTERM, waits with a deadline, then SIGKILLs, and always reaps.
class RunningProgram {
 public:
  // `env`: NAME=VALUE entries added to (or replacing) the test's environment for this child.
  RunningProgram(const ScratchDir& dir, std::vector<std::string> args, std::string cwd = {},
                 std::vector<std::string> env = {})
      : args_(std::move(args)), extra_env_(std::move(env)) {
    static int serial = 0;
    const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(++serial);
    out_path_ = dir / ("stdout-" + tag + ".txt");
    err_path_ = dir / ("stderr-" + tag + ".txt");
    // The loader's private plugin copies go into a folder of ours, found again by maps_count.
    tmp_dir_ = dir.mkdir("tmp-" + tag);
    start(cwd.empty() ? dir.path() : cwd);
  }
  // Stops the child if it still runs. A child that was still serving must stop cleanly on that
  // SIGTERM (exit 0: no hang, no crash, no leak report in sanitizer builds); no child may have
  // died of a signal or printed a sanitizer report. Each is a failed check of the running test.
  ~RunningProgram() {
    const bool was_serving = running();
    const bool clean = kill_and_reap();
    if (std::uncaught_exceptions() > 0) return;  // a REQUIRE already failed the test
    if (exit_code_ > 128 && !death_expected_ &&
        !(was_serving && !clean)) {  // tests only send SIGTERM/SIGINT/SIGHUP
      FAIL_CHECK("chronos (pid " << pid_ << ") was killed by signal " << exit_code_ - 128 << "\n"
                                 << tail());
    }
    if (was_serving && !clean) {
      FAIL_CHECK("chronos (pid " << pid_ << ") did not stop cleanly on SIGTERM: exit code "
                                 << exit_code_ << "\n"
                                 << tail());
    }
    if (const std::string report = sanitizer_report(); !report.empty())
      FAIL_CHECK("chronos (pid " << pid_ << ") reported:\n" << report);
  }
  RunningProgram(const RunningProgram&) = delete;
  RunningProgram& operator=(const RunningProgram&) = delete;

  // The process started: with a supervisor (plain `chronos -c FILE`), the supervisor's.
  pid_t pid() const { return pid_; }
  // The test makes it die of a signal (a crashing plugin without a supervisor): not a failure.
  void expect_death() { death_expected_ = true; }
  // The process that serves: the supervisor's child running the server (the newest, if an
  // upgrade runs two), or pid() itself when it has no child (--no-supervisor, -t). 0 while a
  // supervisor has no server (between a crash and the restart).
  pid_t server_pid() const {
    const std::vector<pid_t> children = child_pids();
    if (children.empty()) return supervised() ? 0 : pid_;
    return children.back();
  }
  // The children of pid() (the supervisor's servers), oldest first.
  std::vector<pid_t> child_pids() const {
    const std::string p = std::to_string(pid_);
    std::ifstream in("/proc/" + p + "/task/" + p + "/children");
    std::vector<pid_t> out;
    for (pid_t child; in >> child;) out.push_back(child);
    std::sort(out.begin(), out.end());
    return out;
  }
  // Whether pid() runs as a supervisor (not --no-supervisor, -t, -s, --version).
  bool supervised() const {
    for (const std::string& a : args_)
      if (a == "--no-supervisor" || a == "-t" || a == "-s" || a == "--version") return false;
    return true;
  }
  const std::string& tmp_dir() const { return tmp_dir_; }

  std::string log() const { return read_whole_file(err_path_); }
  std::string out() const { return read_whole_file(out_path_); }
  bool log_has(std::string_view text) const { return log().find(text) != std::string::npos; }

  bool wait_log(std::string_view text, std::chrono::milliseconds timeout = kStartTimeout) {
    return wait_until([&] { return log_has(text) || !running(); }, timeout) && log_has(text);
  }

  // Serving: the reactor has logged its listeners, after which signals are handled too.
  bool wait_listening(std::chrono::milliseconds timeout = kStartTimeout) {
    return wait_log("listening on ", timeout);
  }

  void signal(int sig) const {
    if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
  }

  // Sends SIGHUP and waits until the log tells how that reload ended; returns its line
  // ("" if it never said). Reloads are counted so each call waits for its own.
  std::string reload(std::chrono::milliseconds timeout = kStartTimeout) {
    const std::string tag = "reload #" + std::to_string(++reloads_) + ": ";
    signal(SIGHUP);
    return wait_reload_result(tag, timeout);
  }
  // For a reload triggered some other way (e.g. `chronos -s reload`).
  std::string expect_reload(std::chrono::milliseconds timeout = kStartTimeout) {
    return wait_reload_result("reload #" + std::to_string(++reloads_) + ": ", timeout);
  }

  // Non-blocking: true while the child has not exited.
  bool running() {
    if (reaped_) return false;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      exit_code_ = decode_status(status);
      return false;
    }
    return r == 0;
  }

  // Waits for the child to exit; its exit code (see decode_status), or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = kExitTimeout) {
    if (!wait_until([&] { return !running(); }, timeout)) return std::nullopt;
    return exit_code_;
  }

  // SIGTERM, wait, SIGKILL: used at scope exit, also when a check failed midway. True if the
  // child had already exited, or exited with 0 on the SIGTERM.
  bool kill_and_reap() {
    if (pid_ <= 0 || reaped_) return true;
    ::kill(pid_, SIGTERM);
    if (const auto code = wait_exit(kExitTimeout)) return *code == 0;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    exit_code_ = decode_status(status);
    return false;
  }

  // The last `bytes` of the log, for failure messages.
  std::string tail(std::size_t bytes = 3000) const {
    const std::string text = log();
    return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
  }

  // A sanitizer's report in the log, if any (from "==PID==ERROR" / "runtime error:" on).
  std::string sanitizer_report() const {
    const std::string text = log();
    for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                               "WARNING: ThreadSanitizer", "runtime error:"}) {
      const std::size_t at = text.find(marker);
      if (at != std::string::npos) {
        const std::size_t line = text.rfind('\n', at);
        return text.substr(line == std::string::npos ? 0 : line + 1, 6000);
      }
    }
    return "";
  }

  // /proc views of the serving process (server_pid()).
  std::size_t fd_count() const {
    return dir_entries("/proc/" + std::to_string(server_pid()) + "/fd");
  }
  std::size_t thread_count() const {
    return dir_entries("/proc/" + std::to_string(server_pid()) + "/task");
  }
  // Distinct files mapped from the loader's private copies (all deleted right after dlopen, so
  // each is a plugin version still loaded).
  std::size_t plugin_copies_mapped() const {
    std::ifstream maps("/proc/" + std::to_string(server_pid()) + "/maps");
    std::set<std::string> files;
    for (std::string line; std::getline(maps, line);) {
      const auto at = line.find(tmp_dir_ + "/chronos-plugin-");
      if (at != std::string::npos) files.insert(line.substr(at));
    }
    return files.size();
  }

 private:
  static std::size_t dir_entries(const std::string& dir) {
    std::error_code ec;
    std::size_t n = 0;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      ++n;
    return n;
  }

  std::string wait_reload_result(const std::string& tag, std::chrono::milliseconds timeout) {
    std::string line;
    wait_until(
        [&] {
          const std::string text = log();
          for (std::size_t at = text.find(tag); at != std::string::npos;
               at = text.find(tag, at + 1)) {
            const std::size_t end = text.find('\n', at);
            std::string candidate = text.substr(at, end == std::string::npos ? end : end - at);
            if (candidate.find(": done in ") != std::string::npos ||
                candidate.find("still serving") != std::string::npos) {
              line = std::move(candidate);
              return true;
            }
          }
          return !running();
        },
        timeout);
    return line;
  }

  void start(const std::string& cwd) {
    std::vector<char*> argv;
    std::string program = CHRONOS_BINARY;
    argv.push_back(program.data());
    for (auto& a : args_) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0 || err < 0) throw std::runtime_error("cannot create the child's log files");
    // The environment, with TMPDIR pointing into the scratch folder; built before fork.
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::strncmp(*e, "TMPDIR=", 7) != 0) env.emplace_back(*e);
    env.push_back("TMPDIR=" + tmp_dir_);
    for (const std::string& extra : extra_env_) {
      const std::string name = extra.substr(0, extra.find('=') + 1);
      std::erase_if(env, [&](const std::string& e) { return e.rfind(name, 0) == 0; });
      env.push_back(extra);
    }
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      // The child: only async-signal-safe calls until exec.
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::signal(SIGPIPE, SIG_DFL);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
      const int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
      if (::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::execve(program.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(out);
    ::close(err);
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }

  std::vector<std::string> args_;
  std::vector<std::string> extra_env_;
  std::string out_path_, err_path_, tmp_dir_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  bool death_expected_ = false;
  int exit_code_ = -1;
  int reloads_ = 0;
};

// Runs `chronos ARGS` to completion (e.g. -t, --version, -s reload).
struct RunResult {
  std::optional<int> exit_code;  // nullopt: it did not exit within the deadline (then killed)
  std::string out, err;
};

inline RunResult run_chronos(const ScratchDir& dir, std::vector<std::string> args,
                             std::string cwd = {},
                             std::chrono::milliseconds timeout = kExitTimeout) {
  RunningProgram p(dir, std::move(args), std::move(cwd));
  RunResult r;
  r.exit_code = p.wait_exit(timeout);
  p.kill_and_reap();
  r.out = p.out();
  r.err = p.log();
  return r;
}

}  // namespace chronos::test
