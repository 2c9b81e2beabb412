#include "ServerProgram.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

#include "LoadedPlugins.hpp"
#include "chronos/Fd.hpp"

namespace chronos {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitBadConfig = 1;
constexpr int kExitFailure = 3;

// Signals arrive through a signalfd on the reactor: nothing runs in a signal handler. They are
// blocked before any thread starts, so every thread inherits the mask.
Fd open_signal_fd() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // sockets use MSG_NOSIGNAL; this covers plugins' own writes
  return Fd(signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
}

// A handler that never returns must not keep a stopping server alive: after
// shutdown_timeout_ms the runtime has named the stuck handlers, and the process exits without
// joining the threads that run them (their plugins' shutdown is not called).
void exit_when_stuck(std::size_t busy) {
  spdlog::error("stop: exiting with {} handler(s) still running after shutdown_timeout_ms", busy);
  spdlog::default_logger()->flush();
  std::_Exit(kExitFailure);
}

}  // namespace

int ServerProgram::check() {
  ConfigResult result = load_config(config_path_);
  if (!result.ok()) {
    print_errors(result.errors);
    return kExitBadConfig;
  }
  const std::vector<ConfigError> errors = check_plugins(*result.config);
  if (!errors.empty()) {
    print_errors(errors);
    return kExitBadConfig;
  }
  std::printf("configuration OK\n");
  return kExitOk;
}

int ServerProgram::serve() {
  std::string text;  // what a supervisor resumes with after a crash
  ConfigResult result = link_ ? link_->load(config_path_, text) : load_config(config_path_);
  if (!result.ok()) {
    print_errors(result.errors);
    return kExitBadConfig;
  }
  spdlog::set_level(spdlog::level::from_str(result.config->log_level));
  Fd signal_fd = open_signal_fd();
  if (!signal_fd) {
    std::fprintf(stderr, "chronos: signalfd: %s\n", std::strerror(errno));
    return kExitFailure;
  }
  // A process killed while copying a plugin leaves its private copy behind; clean up after it.
  if (const std::size_t stale = remove_stale_private_copies(); stale > 0)
    spdlog::info("removed {} private plugin cop{} left by processes that no longer run", stale,
                 stale == 1 ? "y" : "ies");
  if (link_)  // a restart loads the plugin files that served, not what is on disk now
    for (PluginConfig& p : result.config->plugins)
      if (std::string file = link_->resumed_plugin(p.name); !file.empty()) p.path = std::move(file);
  if (const int failed = start(std::move(*result.config)); failed != kExitOk) return failed;
  if (link_) link_->started(served_.config, text, served_.plugins);
  runtime_->watch(signal_fd.get(), [this, fd = signal_fd.get()] { on_signals(fd); });
  spdlog::info("chronos started: {} (pid {})", config_path_, getpid());
  try {
    runtime_->run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chronos: %s\n", e.what());
    return kExitFailure;
  }
  return unload();
}

int ServerProgram::start(Config config) {
  std::vector<ConfigError> errors;
  std::vector<PluginSpec> plugins = load_plugins(config, {}, errors);
  if (!errors.empty()) {
    print_errors(errors);
    return kExitBadConfig;
  }
  LoadedPlugins loaded = loaded_by_name(plugins);
  config.runtime.on_stuck_stop = exit_when_stuck;
  if (link_)
    config.runtime.listen_socket = [link = link_](const ListenerConfig& l) {
      return link->listen_socket(l);
    };
  try {
    runtime_ = std::make_unique<Runtime>(config.runtime);
    runtime_->reconfigure(config.runtime.listeners, std::move(plugins));
    reloader_ = std::make_unique<Reloader>(*runtime_, config_path_, served_, link_);
  } catch (const RuntimeError& e) {
    print_errors({locate(config, e)});
    return e.subject == RuntimeError::Subject::plugin ? kExitBadConfig : kExitFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chronos: %s\n", e.what());
    return kExitFailure;
  }
  served_ = {std::move(config), std::move(loaded)};
  return kExitOk;
}

// After run(): a reload still being prepared may yet call the runtime, so it is waited for
// (at most shutdown_timeout_ms) before every plugin instance is shut down and unloaded.
int ServerProgram::unload() {
  const std::uint32_t wait_ms = served_.config.runtime.shutdown_timeout_ms;
  if (!reloader_->wait_for_attempts(std::chrono::milliseconds(wait_ms))) {
    spdlog::error(
        "stop: a reload is still running after {} ms; exiting without unloading "
        "plugins",
        wait_ms);
    spdlog::default_logger()->flush();
    std::_Exit(kExitFailure);
  }
  reloader_.reset();
  runtime_.reset();
  return kExitOk;
}

void ServerProgram::on_signals(int signal_fd) {
  signalfd_siginfo info;
  while (::read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
    if (info.ssi_signo == SIGHUP && draining_) {
      spdlog::warn("{}: ignored: draining to stop", strsignal(SIGHUP));
    } else if (info.ssi_signo == SIGHUP) {
      reloader_->request();
    } else if (info.ssi_signo == SIGQUIT) {
      // A graceful stop that lets open connections end first (how an upgrade retires a server).
      spdlog::info("{}: draining: no new connections; stopping once the open ones closed",
                   strsignal(SIGQUIT));
      draining_ = true;
      runtime_->drain();
    } else {
      spdlog::info("{}: stopping", strsignal(static_cast<int>(info.ssi_signo)));
      runtime_->stop();
    }
  }
}

}  // namespace chronos
