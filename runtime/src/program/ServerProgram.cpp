#include "ServerProgram.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

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
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
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
  ConfigResult result = load_config(config_path_);
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
  if (const int failed = start(std::move(*result.config)); failed != kExitOk) return failed;
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
  try {
    runtime_ = std::make_unique<Runtime>(config.runtime);
    runtime_->reconfigure(config.runtime.listeners, std::move(plugins));
    reloader_ = std::make_unique<Reloader>(*runtime_, config_path_, served_);
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
    spdlog::error("stop: a reload is still running after {} ms; exiting without unloading "
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
    if (info.ssi_signo == SIGHUP) {
      reloader_->request();
    } else {
      spdlog::info("{}: stopping", strsignal(static_cast<int>(info.ssi_signo)));
      runtime_->stop();
    }
  }
}

}  // namespace chronos

namespace chronos {
namespace {

std::string read_link(const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

// The configuration a chronos process was started with, as an absolute path ("" if unknown).
std::string config_of(const std::string& pid) {
  std::ifstream cmdline("/proc/" + pid + "/cmdline", std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(cmdline)),
                        std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (std::size_t start = 0; start < raw.size();) {
    const std::size_t end = raw.find('\0', start);
    args.push_back(raw.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  std::string config = "configs/chronos.yaml";
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "-c" || a == "--config") && i + 1 < args.size())
      config = args[++i];
    else if (a.rfind("--config=", 0) == 0)
      config = a.substr(9);
    else if (a.rfind("-c", 0) == 0 && a.size() > 2)
      config = a.substr(2);
  }
  if (config.empty()) return {};
  if (config[0] != '/') config = read_link("/proc/" + pid + "/cwd") + "/" + config;
  return real_path(config);
}

// Whether process `pid` has `signal` blocked, i.e. it is serving and takes the signal through its
// signalfd. An instance still starting up (or a `chronos -t` run) has not blocked it yet, and
// the default action of SIGHUP or SIGTERM would kill it on the spot instead of reloading it.
bool takes_signal_via_signalfd(const std::string& pid, int signal) {
  std::ifstream status("/proc/" + pid + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("SigBlk:", 0) != 0) continue;
    const unsigned long long blocked = std::strtoull(line.c_str() + 7, nullptr, 16);
    return (blocked >> (signal - 1)) & 1U;
  }
  return false;
}

}  // namespace

int signal_running_instances(const std::string& config_path, int signal, std::string& error) {
  const std::string wanted = real_path(config_path);
  if (wanted.empty()) {
    error = config_path + ": " + std::strerror(errno);
    return 0;
  }
  const std::string self_exe = read_link("/proc/self/exe");
  const std::string self_pid = std::to_string(getpid());
  int signalled = 0;
  DIR* proc = ::opendir("/proc");
  if (!proc) {
    error = std::string("/proc: ") + std::strerror(errno);
    return 0;
  }
  while (const dirent* entry = ::readdir(proc)) {
    const std::string pid = entry->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid == self_pid) continue;
    if (read_link("/proc/" + pid + "/exe") != self_exe) continue;
    if (config_of(pid) != wanted) continue;
    if (!takes_signal_via_signalfd(pid, signal)) continue;  // not serving (yet): leave it be
    if (::kill(std::stoi(pid), signal) == 0) ++signalled;
  }
  ::closedir(proc);
  if (signalled == 0) error = "no running chronos serves " + wanted;
  return signalled;
}

}  // namespace chronos
