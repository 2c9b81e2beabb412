#include "LoadedPlugins.hpp"

#include <cstdio>

#include <spdlog/spdlog.h>

namespace chronos {

std::vector<PluginSpec> load_plugins(const Config& config, const LoadedPlugins& loaded,
                                     std::vector<ConfigError>& errors) {
  std::vector<PluginSpec> specs;
  for (const PluginConfig& p : config.plugins) {
    std::shared_ptr<LoadedPlugin> plugin;
    const auto it = loaded.find(p.name);
    if (it != loaded.end() && it->second->path() == p.path && !it->second->file_changed()) {
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

LoadedPlugins loaded_by_name(const std::vector<PluginSpec>& specs) {
  LoadedPlugins out;
  for (const PluginSpec& spec : specs)
    out[spec.name] = std::static_pointer_cast<LoadedPlugin>(spec.keep_alive);
  return out;
}

ConfigError locate(const Config& config, const RuntimeError& error) {
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

void print_errors(const std::vector<ConfigError>& errors) {
  for (const ConfigError& e : errors) std::fprintf(stderr, "%s\n", to_string(e).c_str());
}

void log_errors(const std::vector<ConfigError>& errors) {
  for (const ConfigError& e : errors) spdlog::error("{}", to_string(e));
}

}  // namespace chronos
