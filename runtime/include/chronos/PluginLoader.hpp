// chronos::load_plugin — opens a plugin shared object and checks it against the host's ABI.
//
//   chronos::LoadedPlugin plugin = chronos::load_plugin("/opt/chronos/echo.so");
//   runtime.add_plugin("echo", plugin.descriptor(), config_json);
//   // keep `plugin` alive until the runtime has shut the plugin down: its destructor dlcloses
//
// What is checked, in order (each failure throws PluginError naming the file):
//   - the file and its folder are not writable by group or others (the code would run as us),
//     and the file is a regular file (opened without blocking, so a FIFO is refused, not waited
//     on);
//   - it is an ELF shared object for this machine whose headers and loadable segments all lie
//     within the file: a truncated or corrupt object (a half-copied deploy) is refused here,
//     because dlopen would map it and the process would die of SIGBUS on first touch;
//   - dlopen(RTLD_NOW | RTLD_LOCAL) succeeds (a text file or a foreign binary fails here cleanly);
//   - it exports chronos_plugin_entry, and that returns a descriptor for the host's ABI;
//   - the descriptor's abi_major equals the host's, its abi_minor is not newer than the host's,
//     and its size covers every member up to on_close;
//   - name, init, shutdown and on_data are set (on_open and on_close may be NULL, as plugin.h
//   says).
//
// LoadMode::private_copy, for reload: dlopen returns the already-loaded object when asked for the
// same path (or the same inode) again, so a rebuilt plugin would never be seen. This mode copies
// the file into a fresh private folder (mkdtemp under $TMPDIR or /tmp, mode 0700), dlopens the
// copy and removes copy and folder at once: the mapping keeps the code alive, and nothing is left
// on disk even if the process is killed later. Only a process killed between the copy and the
// dlopen leaves a folder behind; its name carries the pid (chronos-plugin-PID-XXXXXX), so
// remove_stale_private_copies() can clean it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "chronos/Config.hpp"
#include "chronos/plugin.h"

namespace chronos {

class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class LoadMode {
  shared,       // dlopen the path itself (a second load of the same file yields the same object)
  private_copy  // dlopen a private copy, so every load yields fresh code and fresh globals
};

// What identifies a version of a file on disk: it changes when the file is rewritten or replaced.
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec mtime{};
  std::uint64_t content_hash = 0;  // FNV-1a of the bytes, for rewrites that keep size and mtime

  bool operator==(const FileIdentity& other) const noexcept;
};

// The identity of `path` now (follows symlinks). Throws PluginError if it cannot be read.
FileIdentity identify_file(const std::string& path);

class LoadedPlugin {
 public:
  LoadedPlugin(LoadedPlugin&& other) noexcept;
  LoadedPlugin& operator=(LoadedPlugin&& other) noexcept;
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;
  ~LoadedPlugin();  // dlclose; the caller must have shut every instance of the plugin down

  const chronos_plugin* descriptor() const noexcept { return descriptor_; }
  const std::string& path() const noexcept { return path_; }  // as given to load_plugin
  // The name dlopen was given: the path, or the (already removed) private copy.
  const std::string& loaded_path() const noexcept { return loaded_path_; }
  // The file as it was when loaded; compare with identify_file(path()) to see if it changed.
  const FileIdentity& identity() const noexcept { return identity_; }
  // Whether the file at path() is no longer the one loaded (also true if it is gone).
  bool file_changed() const;
  void* handle() const noexcept { return handle_; }

 private:
  friend LoadedPlugin load_plugin(const std::string& path, LoadMode mode);
  LoadedPlugin() = default;
  void reset() noexcept;

  void* handle_ = nullptr;
  const chronos_plugin* descriptor_ = nullptr;
  std::string path_;
  std::string loaded_path_;
  FileIdentity identity_;
};

// Loads and checks the plugin at `path`. Throws PluginError with a message naming the file.
LoadedPlugin load_plugin(const std::string& path, LoadMode mode = LoadMode::shared);

// Removes private-copy folders under $TMPDIR (or /tmp) whose process no longer exists; returns how
// many. The `chronos` program calls it at start.
std::size_t remove_stale_private_copies();

// Opens every plugin of `config` (shared mode) to check it, then closes it again: what
// `chronos -t` needs. Each failure is reported at the plugin's `path:` value.
std::vector<ConfigError> check_plugins(const Config& config);

// The descriptor checks alone (ABI version, size, required members), for in-process plugins.
// Returns "" when `plugin` is usable, else why not; `file` names it in the message.
std::string check_descriptor(const chronos_plugin* plugin, const std::string& file);

}  // namespace chronos
