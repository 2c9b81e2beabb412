// SupervisorLink: the supervised server's end of its control socket (ControlChannel.hpp). It is
// how the server gets its listening sockets (RuntimeConfig::listen_socket), tells the supervisor
// which ones it still serves, which configuration text it serves (the one a restart after a
// crash resumes with) and when it is ready. Thread-safe: the runtime may bind from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "LoadedPlugins.hpp"
#include "chronos/Config.hpp"
#include "chronos/Fd.hpp"

namespace chronos {

class SupervisorLink {
 public:
  // Adopts the inherited control socket and, for a restart, the memory files holding the
  // configuration text to resume with (-1: none) and the plugin files it served with (by name).
  SupervisorLink(int control_fd, int resume_fd, const std::map<std::string, int>& plugins = {});

  // How many reloads earlier servers of this supervisor began: this one numbers on from there.
  std::uint64_t reloads_before = 0;

  // Where a resumed configuration's plugin `name` is loaded from: its file as it served
  // ("/proc/self/fd/N"), or "" to load it from its path.
  std::string resumed_plugin(const std::string& name) const;
  // Once started: the resumed plugin files are loaded (from private copies) and can go.
  void release_resumed() { resumed_plugins_.clear(); }

  // The configuration to serve, its text in `text`: the resumed text the first time if there
  // is one (its file named `path`), else the file. Any thread.
  ConfigResult load(const std::string& path, std::string& text);
  // Reload number `n` begins: should the server die before the next keep(), the supervisor
  // logs that reload as failed and restarts on the last configuration that served.
  void reloading(std::uint64_t n);
  // A listener's socket from the supervisor; throws std::system_error as listen_on does.
  Fd listen_socket(const ListenerConfig& listener);
  // `text` (as load() gave it) is served now with `plugins`, after the start or a successful
  // reload: what a restart after a crash resumes with. Each plugin file still as it was loaded
  // goes along (an fd), so that a restart loads it even if a deploy replaced it since.
  void serving(const std::string& text, const LoadedPlugins& plugins);
  // `running` is what is served after a start or a reload, successful or not: every other
  // socket may be closed, and a reload is over.
  void keep(const Config& running);
  void ready();
  // After the start: serving(), keep(), release_resumed() and ready() in one (ready last: the
  // server holds nothing of the supervisor's any more).
  void started(const Config& running, const std::string& text, const LoadedPlugins& plugins) {
    serving(text, plugins);
    keep(running);
    release_resumed();
    ready();
  }

 private:
  bool send(const std::vector<std::string>& fields, int fd = -1);

  std::mutex mutex_;
  Fd control_;
  Fd resume_;                                  // until the first load()
  std::map<std::string, Fd> resumed_plugins_;  // until release_resumed()
};

}  // namespace chronos
