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

#include "chronos/Fd.hpp"

namespace chronos {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitBadConfig = 1;
constexpr int kExitFailure = 3;

void print_errors(const std::vector<ConfigError>& errors) {
  for (const ConfigError& e : errors) std::fprintf(stderr, "%s\n", to_string(e).c_str());
}

void log_errors(const std::vector<ConfigError>& errors) {
  for (const ConfigError& e : errors) spdlog::error("{}", to_string(e));
}

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

std::map<std::string, std::shared_ptr<LoadedPlugin>> loaded_by_name(
    const std::vector<PluginSpec>& specs) {
  std::map<std::string, std::shared_ptr<LoadedPlugin>> out;
  for (const PluginSpec& spec : specs)
    out[spec.name] = std::static_pointer_cast<LoadedPlugin>(spec.keep_alive);
  return out;
}

// "added a, b; removed c; changed d" between two listener sets, by name.
std::string listener_changes(const std::vector<ListenerConfig>& from,
                             const std::vector<ListenerConfig>& to) {
  auto find = [](const std::vector<ListenerConfig>& in, const std::string& name) {
    for (const auto& l : in)
      if (l.name == name) return &l;
    return static_cast<const ListenerConfig*>(nullptr);
  };
  auto same = [](const ListenerConfig& a, const ListenerConfig& b) {
    return a.address == b.address && a.plugin == b.plugin &&
           a.max_connections == b.max_connections && a.idle_timeout_ms == b.idle_timeout_ms &&
           a.max_buffer_bytes == b.max_buffer_bytes && a.execution == b.execution &&
           a.drain_timeout_ms == b.drain_timeout_ms;
  };
  std::vector<std::string> added, removed, changed;
  for (const auto& l : to) {
    const ListenerConfig* old = find(from, l.name);
    if (!old)
      added.push_back(l.name);
    else if (!same(*old, l))
      changed.push_back(l.name);
  }
  for (const auto& l : from)
    if (!find(to, l.name)) removed.push_back(l.name);
  if (added.empty() && removed.empty() && changed.empty()) return "listeners unchanged";
  std::string out;
  auto part = [&](const char* what, const std::vector<std::string>& names) {
    if (names.empty()) return;
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    out += (out.empty() ? "" : "; ") + std::string(what) + " " + list;
  };
  part("listeners added:", added);
  part("removed:", removed);
  part("changed:", changed);
  return out;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
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

std::vector<PluginSpec> ServerProgram::load_plugins(const Config& config,
                                                    std::vector<ConfigError>& errors) {
  std::vector<PluginSpec> specs;
  for (const PluginConfig& p : config.plugins) {
    std::shared_ptr<LoadedPlugin> plugin;
    const auto it = loaded_.find(p.name);
    if (it != loaded_.end() && it->second->path() == p.path && !it->second->file_changed()) {
      plugin = it->second;
    } else {
      try {
        // A private copy: a file rewritten later cannot corrupt the running code, and a reload
        // of the same path really yields the new code (dlopen caches by path).
        plugin = std::make_shared<LoadedPlugin>(load_plugin(p.path, LoadMode::private_copy));
      } catch (const PluginError& e) {
        errors.push_back({p.path_mark, e.what()});
        continue;
      }
    }
    specs.push_back({p.name, plugin->descriptor(), p.config_json, plugin});
  }
  return specs;
}

ConfigError ServerProgram::locate(const Config& config, const RuntimeError& error) const {
  if (error.subject == RuntimeError::Subject::plugin) {
    if (const PluginConfig* p = config.find_plugin(error.name))
      return {p->config_mark, error.what()};
  } else {
    for (std::size_t i = 0; i < config.runtime.listeners.size(); ++i)
      if (config.runtime.listeners[i].name == error.name)
        return {config.listener_address_marks[i], error.what()};
  }
  return {{config.file, 1, 1}, error.what()};
}

int ServerProgram::serve() {
  ConfigResult result = load_config(config_path_);
  if (!result.ok()) {
    print_errors(result.errors);
    return kExitBadConfig;
  }
  Config& config = *result.config;
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  Fd signal_fd = open_signal_fd();
  if (!signal_fd) {
    std::fprintf(stderr, "chronos: signalfd: %s\n", std::strerror(errno));
    return kExitFailure;
  }

  // A process killed while copying a plugin leaves its private copy behind; clean up after it.
  if (const std::size_t stale = remove_stale_private_copies(); stale > 0)
    spdlog::info("removed {} private plugin cop{} left by processes that no longer run", stale,
                 stale == 1 ? "y" : "ies");
  std::vector<ConfigError> errors;
  std::vector<PluginSpec> plugins = load_plugins(config, errors);
  if (!errors.empty()) {
    print_errors(errors);
    return kExitBadConfig;
  }
  std::map<std::string, std::shared_ptr<LoadedPlugin>> loaded = loaded_by_name(plugins);
  config.runtime.on_stuck_stop = exit_when_stuck;
  try {
    runtime_ = std::make_unique<Runtime>(config.runtime);
    runtime_->reconfigure(config.runtime.listeners, std::move(plugins));
  } catch (const RuntimeError& e) {
    print_errors({locate(config, e)});
    return e.subject == RuntimeError::Subject::plugin ? kExitBadConfig : kExitFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chronos: %s\n", e.what());
    return kExitFailure;
  }
  loaded_ = std::move(loaded);
  running_ = std::move(config);
  runtime_->watch(signal_fd.get(), [this, fd = signal_fd.get()] { on_signals(fd); });
  spdlog::info("chronos started: {} (pid {})", config_path_, getpid());
  try {
    runtime_->run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chronos: %s\n", e.what());
    return kExitFailure;
  }
  runtime_.reset();  // shuts every plugin instance down and unloads every plugin file
  return kExitOk;
}

void ServerProgram::on_signals(int signal_fd) {
  signalfd_siginfo info;
  while (::read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
    if (info.ssi_signo == SIGHUP) {
      reload();
    } else {
      spdlog::info("{}: stopping", strsignal(static_cast<int>(info.ssi_signo)));
      runtime_->stop();
    }
  }
}

void ServerProgram::reload() {
  const auto start = std::chrono::steady_clock::now();
  ++reloads_;
  spdlog::info("reload #{}: reading {}", reloads_, config_path_);
  ConfigResult result = load_config(config_path_);
  if (!result.ok()) {
    log_errors(result.errors);
    spdlog::error("reload #{}: configuration invalid; still serving the previous one", reloads_);
    return;
  }
  Config& next = *result.config;
  for (const RestartChange& change : restart_required_changes(*running_, next))
    spdlog::warn("reload #{}: {} changed ({} -> {}); it takes effect after a restart", reloads_,
                 change.field, change.from, change.to);
  std::vector<ConfigError> errors;
  std::vector<PluginSpec> plugins = load_plugins(next, errors);
  if (!errors.empty()) {
    log_errors(errors);
    spdlog::error("reload #{}: a plugin could not be loaded; still serving the previous one",
                  reloads_);
    return;
  }
  std::map<std::string, std::shared_ptr<LoadedPlugin>> next_loaded = loaded_by_name(plugins);
  ReconfigureReport report;
  try {
    // Restart-only settings stay as they run; listeners and plugins change now.
    report = runtime_->reconfigure(next.runtime.listeners, std::move(plugins));
  } catch (const RuntimeError& e) {
    log_errors({locate(next, e)});
    spdlog::error("reload #{}: failed; still serving the previous configuration", reloads_);
    return;
  }
  const std::string listeners =
      listener_changes(running_->runtime.listeners, next.runtime.listeners);
  loaded_ = std::move(next_loaded);
  spdlog::set_level(spdlog::level::from_str(next.log_level));
  next.runtime.workers = running_->runtime.workers;
  next.runtime.queue_capacity = running_->runtime.queue_capacity;
  running_ = std::move(next);
  const auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  spdlog::info("reload #{}: done in {:.1f} ms; {}; plugins started: {}; kept: {}; retiring: {}",
               reloads_, ms.count(), listeners, join(report.started), join(report.kept),
               join(report.retired));
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
