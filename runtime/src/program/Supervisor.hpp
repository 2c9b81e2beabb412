// Supervisor: what plain `chronos -c FILE` runs. It owns the listening sockets (SocketBroker) and
// runs the server as a child process (the same binary with --supervised-by), so that a plugin
// that crashes the server costs the connections that server had open, not the ports:
//
//   - a server that dies while serving is restarted at once on the same sockets (RestartBackoff
//     spaces out a crash loop), on the last configuration it had served — a reload that crashed
//     it is logged as failed, not retried;
//   - a server that fails while starting the first time ends the supervisor with its status;
//   - SIGTERM/SIGINT stop the server and then the supervisor (status 0, or the server's);
//     SIGQUIT too, letting open connections end first (a drain); SIGHUP is passed on;
//   - SIGUSR2 upgrades the binary: a server started from the binary now on disk serves next to
//     the old one, and once it reports ready the old one drains (SIGQUIT) and exits.
//
// Single-threaded: one poll loop over a signalfd and each server's control socket
// (ControlChannel.hpp).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ChildProcess.hpp"
#include "ControlChannel.hpp"
#include "RestartBackoff.hpp"
#include "SocketBroker.hpp"
#include "chronos/Fd.hpp"

namespace chronos {

class Supervisor {
 public:
  // `exe`: the absolute path of this binary, from which every server (also after an upgrade)
  // starts; `config_path` as the user gave it.
  Supervisor(std::string exe, std::string config_path)
      : exe_(std::move(exe)), config_path_(std::move(config_path)) {}

  // Serves until stopped; the exit status. Throws std::system_error at start-up only.
  int run();

 private:
  using Clock = std::chrono::steady_clock;
  // The plugin files a configuration was served with, by plugin name: sealed memory copies of
  // the bytes that were loaded, for a restart to load again whatever is on disk by then.
  using PluginFiles = std::map<std::string, std::shared_ptr<const Fd>>;
  struct Server {
    int id = 0;
    std::unique_ptr<ChildProcess> process;
    Fd control;
    bool ready = false;
    bool retiring = false;  // asked to stop: its end is no crash
    std::string reloading;  // the number of the reload under way ("reload N" to "keep")
    std::string config;     // the configuration text it last said it serves
    PluginFiles plugins;    // and its plugin files
    PluginFiles incoming;   // plugin files sent before the next "serving"
    Clock::time_point ready_at;
  };

  // Supervisor.cpp: the loop, signals, starting servers.
  void poll_once();
  Server* start_server(const std::string& resume_config, const PluginFiles& plugins);
  void restart();
  void on_signals();
  void stop_all(int sig);  // SIGTERM, SIGINT or SIGQUIT (a drain)
  void on_reload();
  void on_upgrade();
  // SupervisorEvents.cpp: what the servers say and how they end.
  void on_control(Server& server);
  void on_message(Server& server, ControlMessage& message);
  void on_listen(Server& server, const ControlMessage& message);
  void on_ready(Server& server);
  void on_plugin(Server& server, ControlMessage& message);
  void reap();
  void on_exit(Server& server);
  void on_crash(Server& server);

  std::string exe_, config_path_;
  Fd signal_fd_;
  SocketBroker broker_;
  RestartBackoff backoff_;
  std::vector<std::unique_ptr<Server>> servers_;
  Server* current_ = nullptr;  // the server serving (or starting to)
  Server* upgrade_ = nullptr;  // a new binary's server, until it is ready
  int next_id_ = 0;
  std::uint64_t reloads_ = 0;  // the highest reload number a server began
  bool served_once_ = false;   // a server has been ready: failures from now on restart
  bool stopping_ = false;
  bool reload_pending_ = false;  // a SIGHUP came while the server was starting
  int final_status_ = 0;
  std::optional<int> exit_status_;
  // A restart waiting for its back-off: when, whose sockets it takes, on what configuration.
  std::optional<Clock::time_point> restart_at_;
  int restart_heir_of_ = -1;
  std::string restart_config_;
  PluginFiles restart_plugins_;
  Clock::time_point crashed_at_;
};

}  // namespace chronos
