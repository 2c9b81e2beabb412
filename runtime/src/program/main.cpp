// chronos [-c FILE] [-t] [-s reload|stop] [--no-supervisor] [--version] [-h]
#include <signal.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "RunningInstances.hpp"
#include "ServerProgram.hpp"
#include "Supervisor.hpp"
#include "SupervisorLink.hpp"
#include "chronos/plugin.h"

namespace {
constexpr int kExitUsage = 2;
constexpr int kExitFailure = 3;
constexpr const char* kVersion = CHRONOS_VERSION;  // the CMake project's version
// Plain `chronos -c FILE`: a supervisor that runs the server from this very binary's path (the
// path, not the open file: SIGUSR2 starts whatever binary is at that path then).
int supervise(const std::string& config) {
  char exe[PATH_MAX];
  if (!::realpath("/proc/self/exe", exe)) {
    std::fprintf(stderr, "chronos: /proc/self/exe: %s\n", std::strerror(errno));
    return kExitFailure;
  }
  try {
    return chronos::Supervisor(exe, config).run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chronos: supervisor: %s\n", e.what());
    return kExitFailure;
  }
}

// Internal flags: how the supervisor starts its server (Supervisor.hpp). Hidden from --help.
struct ServerFlags {
  int supervised_by = -1, resume_config = -1;
  std::vector<std::string> resume_plugins;  // NAME=FD each
  std::uint64_t reloads_before = 0;

  void add_to(CLI::App& app) {
    app.add_option("--supervised-by", supervised_by)->group("");
    app.add_option("--resume-config", resume_config)->group("");
    app.add_option("--resume-plugin", resume_plugins)->group("");
    app.add_option("--reloads-before", reloads_before)->group("");
  }
  // Serves as the supervisor's server; the exit status.
  int serve(chronos::ServerProgram& host) const {
    std::map<std::string, int> plugins;
    for (const std::string& a : resume_plugins)
      if (const std::size_t eq = a.rfind('='); eq != std::string::npos)
        plugins[a.substr(0, eq)] = std::atoi(a.c_str() + eq + 1);
    chronos::SupervisorLink link(supervised_by, resume_config, plugins);
    link.reloads_before = reloads_before;
    host.supervised_by(&link);
    return host.serve();
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chronos: an edge-triggered epoll server runtime with hot-reloadable plugins",
               "chronos"};
  std::string config = "configs/chronos.yaml";
  bool check = false;
  std::string signal_name;
  app.add_option("-c,--config", config, "the configuration file")->capture_default_str();
  app.add_flag("-t,--check", check,
               "validate the configuration and open every plugin; bind nothing");
  app.add_option("-s,--signal", signal_name,
                 "send a signal to the chronos serving this configuration: reload | stop")
      ->check(CLI::IsMember({"reload", "stop"}));
  bool no_supervisor = false;
  app.add_flag("--no-supervisor", no_supervisor,
               "serve in this process, without a supervisor that restarts a crashed server "
               "(for debuggers and process managers that supervise themselves)");
  ServerFlags server;
  server.add_to(app);
  app.set_version_flag("--version", std::string("chronos ") + kVersion + " (plugin ABI " +
                                        std::to_string(CHRONOS_ABI_MAJOR) + "." +
                                        std::to_string(CHRONOS_ABI_MINOR) + ")");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and the usage
    return kExitUsage;
  }

  // Logs go to stderr; stdout is for answers (`-t`).
  auto log = spdlog::stderr_color_mt("chronos");
  spdlog::set_default_logger(log);

  if (!signal_name.empty()) {
    std::string error;
    const int sig = signal_name == "reload" ? SIGHUP : SIGTERM;
    if (chronos::signal_running_instances(config, sig, error) == 0) {
      std::fprintf(stderr, "chronos: %s\n", error.c_str());
      return 1;
    }
    return 0;
  }
  chronos::ServerProgram host(config);
  if (check) return host.check();
  if (server.supervised_by >= 0) return server.serve(host);
  if (no_supervisor) return host.serve();
  return supervise(config);
}
