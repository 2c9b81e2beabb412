// The configuration's public entry points (chronos/Config.hpp); the parser is ConfigParser.
#include "chronos/Config.hpp"

#include "config/ConfigParser.hpp"

namespace chronos {

std::string to_string(const SourceMark& mark) {
  return mark.file + ':' + std::to_string(mark.line) + ':' + std::to_string(mark.column);
}

std::string to_string(const ConfigError& error) {
  return to_string(error.mark) + ": " + error.message;
}

const PluginConfig* Config::find_plugin(const std::string& name) const {
  for (const auto& plugin : plugins) {
    if (plugin.name == name) return &plugin;
  }
  return nullptr;
}

ConfigResult parse_config(const std::string& text, const std::string& file) {
  return config::ConfigParser(file).run(text);
}

ConfigResult load_config(const std::string& path) {
  std::string text, problem;
  if (!config::read_file(path, text, problem)) {
    ConfigResult result;
    ConfigError error;
    error.mark = SourceMark{path, 1, 1};
    error.message = "cannot read the configuration: " + problem;
    result.errors.push_back(std::move(error));
    return result;
  }
  return parse_config(text, path);
}

}  // namespace chronos
