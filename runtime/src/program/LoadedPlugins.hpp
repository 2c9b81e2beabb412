// The plugin files a configuration names, as the program loads them: an unchanged file reuses
// its loaded copy, any other is loaded afresh from a private copy. And where the program reports
// what went wrong: errors as FILE:LINE:COLUMN, to stderr at start and to the log on reload.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chronos/Config.hpp"
#include "chronos/PluginLoader.hpp"
#include "chronos/Runtime.hpp"

namespace chronos {

using LoadedPlugins = std::map<std::string, std::shared_ptr<LoadedPlugin>>;  // by plugin name

// The plugins of `config` as PluginSpec, reusing what `loaded` holds for unchanged files.
// Errors are appended with their FILE:LINE:COLUMN. Any thread.
std::vector<PluginSpec> load_plugins(const Config& config, const LoadedPlugins& loaded,
                                     std::vector<ConfigError>& errors);

// The loaded files behind `specs` (made by load_plugins), by plugin name.
LoadedPlugins loaded_by_name(const std::vector<PluginSpec>& specs);

// Turns a RuntimeError into a located ConfigError for `config`: a plugin's `config:`, a
// listener's `address:`.
ConfigError locate(const Config& config, const RuntimeError& error);

void print_errors(const std::vector<ConfigError>& errors);  // to stderr
void log_errors(const std::vector<ConfigError>& errors);    // to the log, as errors

}  // namespace chronos
