// Reloader: SIGHUP's work, done off the reactor thread so that serving never pauses for it.
//
// Each reload is an Attempt on a thread of its own: read and validate the configuration, load
// the plugin files that changed (hash, private copy, ELF check, dlopen), start the new plugin
// instances (their init). Only then does the reactor take over, through Runtime::post: it binds
// the new addresses and swaps the prepared set in (Runtime::commit_reconfigure), which takes
// microseconds.
//
// One attempt at a time: SIGHUPs during an attempt fold into one more attempt after it. An
// attempt still running after the served configuration's reload_timeout_ms is abandoned: it is
// logged, whatever it prepares is discarded when it comes, and the next SIGHUP starts afresh.
//
// Reactor thread only (and the constructor before run()), but for what an attempt's thread
// touches: its own Attempt, the Runtime's thread-safe calls and the log.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "LoadedPlugins.hpp"
#include "SupervisorLink.hpp"
#include "chronos/Fd.hpp"

namespace chronos {

// What serves now: the configuration of the last successful start or reload, and its files.
struct Served {
  Config config;
  LoadedPlugins plugins;
};

class Reloader {
 public:
  // Watches its timerfd on `runtime`: call before run(). Throws std::system_error. `link`: the
  // supervisor's (null without one), told of each attempt and of what serves after it.
  Reloader(Runtime& runtime, std::string config_path, Served& served, SupervisorLink* link);
  ~Reloader();

  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;

  void request();  // a SIGHUP

  // After run() returned: waits up to `timeout` for attempts still running. False if one is
  // still running then (stuck in a plugin's init, say): the Runtime it may still call must not
  // be destroyed, so the process has to exit without unloading anything.
  bool wait_for_attempts(std::chrono::milliseconds timeout);

 private:
  struct Attempt;
  struct Prepared;

  void start_attempt();
  void run_attempt(const std::shared_ptr<Attempt>& attempt);  // the attempt's thread
  bool prepare(Attempt& attempt, Prepared& out);              // the attempt's thread
  void commit(Attempt& attempt, Prepared& prepared);
  void finish();
  void on_timeout();
  void arm_timer(std::uint32_t ms);
  void reap_finished();

  Runtime& runtime_;
  const std::string config_path_;
  Served& served_;
  SupervisorLink* const link_;
  Fd timer_;
  std::uint64_t reloads_ = 0;
  std::shared_ptr<Attempt> current_;  // the attempt in progress, if any
  bool again_ = false;                // a SIGHUP came during current_

  // Every attempt whose thread has not been joined; attempts mark themselves done under the
  // mutex, so that wait_for_attempts can wait for them.
  std::vector<std::shared_ptr<Attempt>> threads_;
  std::mutex done_mutex_;
  std::condition_variable done_;
};

}  // namespace chronos
