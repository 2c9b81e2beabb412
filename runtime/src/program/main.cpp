// chronos [-c FILE] [-t] [-s reload|stop] [--version] [-h]
#include <signal.h>

#include <cstdio>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "ServerProgram.hpp"
#include "chronos/plugin.h"

namespace {
constexpr int kExitUsage = 2;
constexpr const char* kVersion = CHRONOS_VERSION;  // the CMake project's version
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
  return check ? host.check() : host.serve();
}
