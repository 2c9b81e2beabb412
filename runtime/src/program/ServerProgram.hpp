// ServerProgram: the `chronos` program around a Runtime — configuration file, plugins, signals,
// reload (Reloader).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "Reloader.hpp"
#include "SupervisorLink.hpp"
#include "chronos/Config.hpp"
#include "chronos/PluginLoader.hpp"
#include "chronos/Runtime.hpp"

namespace chronos {

class ServerProgram {
 public:
  explicit ServerProgram(std::string config_path) : config_path_(std::move(config_path)) {}

  // Run as a supervisor's server (Supervisor.hpp): sockets, configuration and readiness go
  // through `link`, which must outlive serve().
  void supervised_by(SupervisorLink* link) noexcept { link_ = link; }

  // `chronos -t`: validate the file and open every plugin; prints the verdict. Exit status.
  int check();

  // Starts serving and returns the exit status once a SIGTERM or SIGINT has stopped it.
  int serve();

 private:
  int start(Config config);  // plugins loaded, the runtime bound; an exit status
  int unload();              // after run(); an exit status
  void on_signals(int signal_fd);

  std::string config_path_;
  Served served_;  // the reactor thread's once serving
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<Reloader> reloader_;  // declared after runtime_: destroyed before it
  SupervisorLink* link_ = nullptr;
  bool draining_ = false;  // SIGQUIT came: no reload any more
};

}  // namespace chronos
