// ServerProgram: the `chronos` program around a Runtime — configuration file, plugins, signals,
// reload.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chronos/Config.hpp"
#include "chronos/PluginLoader.hpp"
#include "chronos/Runtime.hpp"

namespace chronos {

class ServerProgram {
 public:
  explicit ServerProgram(std::string config_path) : config_path_(std::move(config_path)) {}

  // `chronos -t`: validate the file and open every plugin; prints the verdict. Exit status.
  int check();

  // Starts serving and returns the exit status once a SIGTERM or SIGINT has stopped it.
  int serve();

 private:
  // Plugins of `config` as PluginSpec: unchanged files reuse their loaded copy, others are
  // loaded afresh from a private copy. Errors are appended with their FILE:LINE:COLUMN.
  std::vector<PluginSpec> load_plugins(const Config& config, std::vector<ConfigError>& errors);
  // Turns a RuntimeError into a located ConfigError for `config`.
  ConfigError locate(const Config& config, const RuntimeError& error) const;
  void on_signals(int signal_fd);
  void reload();

  std::string config_path_;
  std::optional<Config> running_;
  std::map<std::string, std::shared_ptr<LoadedPlugin>> loaded_;  // by plugin name
  std::unique_ptr<Runtime> runtime_;
  std::uint64_t reloads_ = 0;
};

// Finds running chronos processes serving `config_path` and sends them `signal`; returns how
// many were signalled (`chronos -s reload|stop`).
int signal_running_instances(const std::string& config_path, int signal, std::string& error);

}  // namespace chronos
