#include "RunningInstances.hpp"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace chronos {
namespace {

std::string read_link(const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// A binary replaced on disk since the process started (an upgrade) reads "PATH (deleted)".
std::string exe_of(const std::string& pid) {
  std::string exe = read_link("/proc/" + pid + "/exe");
  const std::string deleted = " (deleted)";
  if (exe.size() > deleted.size() &&
      exe.compare(exe.size() - deleted.size(), deleted.size(), deleted) == 0)
    exe.resize(exe.size() - deleted.size());
  return exe;
}

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

std::vector<std::string> args_of(const std::string& pid) {
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
  return args;
}

bool has_arg(const std::vector<std::string>& args, const std::string& flag) {
  for (const std::string& a : args)
    if (a == flag) return true;
  return false;
}

// The configuration a chronos process was started with, as an absolute path ("" if unknown).
std::string config_of(const std::string& pid, const std::vector<std::string>& args) {
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

// A supervisor blocks its signals from the start; it serves once one of its servers does.
bool supervisor_serving(const std::string& pid, int signal) {
  std::ifstream children("/proc/" + pid + "/task/" + pid + "/children");
  for (std::string child; children >> child;)
    if (takes_signal_via_signalfd(child, signal)) return true;
  return false;
}

bool serving(const std::string& pid, const std::vector<std::string>& args, int signal) {
  if (has_arg(args, "--supervised-by")) return false;  // reached through its supervisor
  if (has_arg(args, "--no-supervisor")) return takes_signal_via_signalfd(pid, signal);
  return supervisor_serving(pid, signal);
}

}  // namespace

int signal_running_instances(const std::string& config_path, int signal, std::string& error) {
  const std::string wanted = real_path(config_path);
  if (wanted.empty()) {
    error = config_path + ": " + std::strerror(errno);
    return 0;
  }
  const std::string self_exe = exe_of("self");
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
    if (exe_of(pid) != self_exe) continue;
    const std::vector<std::string> args = args_of(pid);
    if (config_of(pid, args) != wanted) continue;
    if (!serving(pid, args, signal)) continue;  // not serving (yet): leave it be
    if (::kill(std::stoi(pid), signal) == 0) ++signalled;
  }
  ::closedir(proc);
  if (signalled == 0) error = "no running chronos serves " + wanted;
  return signalled;
}

}  // namespace chronos
