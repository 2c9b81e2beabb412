// The configuration parser: the document's shape (one map, lists of plugins and listeners, each
// a map of known keys) and what needs more than one value (unique names and addresses, listeners
// naming defined plugins). Each value is read by its key's row in ConfigKeys.cpp.
#include "config/ConfigParser.hpp"

#include <yaml-cpp/depthguard.h>

#include <algorithm>

#include "config/Address.hpp"
#include "config/Expansion.hpp"
#include "config/Scalars.hpp"
#include "config/Suggest.hpp"
#include "config/Wording.hpp"

namespace chronos::config {

ConfigParser::ConfigParser(std::string file) : reader_(file) {
  config_.file = file;
  std::error_code ignored;
  base_dir_ = std::filesystem::absolute(file, ignored).parent_path();
}

ConfigResult ConfigParser::run(const std::string& text) {
  apply_defaults(kTopKeys, config_);  // also for a file with no document at all
  try {
    // Counted first: what aliases expand to could take a walk forever.
    const std::vector<YAML::Node> documents =
        expansion_within_limits(reader_, text) ? YAML::LoadAll(text) : std::vector<YAML::Node>();
    if (documents.size() > 1) {
      reader_.error(reader_.mark(documents[1]),
                    "a configuration is one YAML document; found a second one here");
    }
    if (!documents.empty()) parse_document(documents[0]);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for this is "bad file", which helps nobody.
    reader_.error(reader_.exception_mark(e), "YAML nests too deeply here");
  } catch (const YAML::Exception& e) {
    reader_.error(reader_.exception_mark(e), "YAML syntax error: " + e.msg);
  }
  ConfigResult result;
  result.errors = reader_.take_sorted_errors();
  if (result.errors.empty()) result.config = std::move(config_);
  return result;
}

// Every key's default first, as if the file said it; then what the file says instead.
template <class Target>
void ConfigParser::apply_defaults(KeyTable<Target> table, Target& target) {
  for (const auto& key : table) {
    if (key.default_yaml.empty()) continue;
    const Entry entry{std::string(key.name), YAML::Node(),
                      YAML::Load(std::string(key.default_yaml))};
    key.parse(*this, entry, target);
  }
}

// Reads each known key of `map` into `target` with its row; returns them, in the file's order.
template <class Target>
std::vector<Entry> ConfigParser::read_entries(const YAML::Node& map, KeyTable<Target> table,
                                              const std::string& context, Target& target) {
  std::vector<Entry> found = entries(map, names_of(table), context);
  for (const auto& entry : found) find_key(table, entry.key)->parse(*this, entry, target);
  return found;
}

// The known keys of `map`, in order. Unknown, duplicate and non-scalar keys are reported.
std::vector<Entry> ConfigParser::entries(const YAML::Node& map,
                                         const std::vector<std::string>& known,
                                         const std::string& context) {
  std::vector<Entry> found;
  std::map<std::string, int> first_line;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      reader_.error(reader_.mark(key), "a " + context + "key must be a name, got " + describe(key));
      continue;
    }
    const std::string name = key.Scalar();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      const std::string hint = suggestion(name, known);
      reader_.error(reader_.mark(key),
                    "unknown " + context + "key " + squote(name) +
                        (hint.empty() ? " (expected one of: " + join(known) + ")" : hint));
      continue;
    }
    const auto [previous, inserted] = first_line.emplace(name, reader_.mark(key).line);
    if (!inserted) {
      reader_.error(reader_.mark(key), "duplicate key " + squote(name) + " (first given at line " +
                                           std::to_string(previous->second) + ")");
      continue;
    }
    found.push_back({name, key, it->second});
  }
  return found;
}

// Reports each required key of the table missing from `found`, at the item.
template <class Target>
void ConfigParser::require(const std::vector<Entry>& found, const YAML::Node& item,
                           KeyTable<Target> table, const std::string& what) {
  for (const auto& key : table) {
    if (!(key.flags & kRequired)) continue;
    const bool present = std::any_of(found.begin(), found.end(),
                                     [&](const Entry& entry) { return entry.key == key.name; });
    if (!present) {
      reader_.error(reader_.mark(item),
                    what + " is missing the required key " + squote(std::string(key.name)));
    }
  }
}

// The entry's list; nothing when absent-like (`plugins:` with nothing) or not a list (reported).
std::optional<YAML::Node> ConfigParser::sequence(const Entry& entry) {
  if (entry.value.IsSequence()) return entry.value;
  if (!entry.value.IsNull()) {
    reader_.error(reader_.value_mark(entry),
                  squote(entry.key) + " must be a list, got " + describe(entry.value));
  }
  return std::nullopt;
}

void ConfigParser::parse_document(const YAML::Node& root) {
  if (root.IsNull()) return;  // an empty file: every default, nothing to serve
  if (!root.IsMap()) {
    reader_.error(reader_.mark(root),
                  "the configuration must be a map of settings, got " + describe(root));
    return;
  }
  read_entries(root, kTopKeys, "", config_);
  for (const auto& item : *plugin_list_) parse_plugin(item);
  for (const auto& item : *listener_list_) parse_listener(item);
}

void ConfigParser::log(const Entry& entry, Config& config) {
  if (!entry.value.IsMap()) {
    reader_.error(
        reader_.value_mark(entry),
        squote(entry.key) + " must be a map such as { level: info }, got " + describe(entry.value));
    return;
  }
  apply_defaults(kLogKeys, config);
  read_entries(entry.value, kLogKeys, "log ", config);
}

void ConfigParser::plugins(const Entry& entry) {
  if (auto list = sequence(entry)) plugin_list_ = std::move(list);
}

void ConfigParser::listeners(const Entry& entry) {
  if (auto list = sequence(entry)) listener_list_ = std::move(list);
}

void ConfigParser::parse_plugin(const YAML::Node& item) {
  if (!item.IsMap()) {
    reader_.error(reader_.mark(item),
                  "a plugin must be a map with name, path and config, got " + describe(item));
    return;
  }
  PluginConfig plugin;
  apply_defaults(kPluginKeys, plugin);
  plugin.mark = plugin.config_mark = plugin.path_mark = reader_.mark(item);
  const std::size_t errors_before = reader_.error_count();
  const std::vector<Entry> found = read_entries(item, kPluginKeys, "plugin ", plugin);
  const std::string what = plugin.name.empty() ? "a plugin" : "plugin " + squote(plugin.name);
  require(found, item, kPluginKeys, what);
  if (!plugin.name.empty()) {
    const auto [first, inserted] = plugin_lines_.emplace(plugin.name, plugin.mark.line);
    if (!inserted) {
      reader_.error(plugin.mark, "duplicate plugin name " + squote(plugin.name) +
                                     " (first at line " + std::to_string(first->second) + ")");
    }
  }
  if (reader_.error_count() == errors_before) config_.plugins.push_back(std::move(plugin));
}

void ConfigParser::plugin_path(const Entry& entry, PluginConfig& plugin) {
  const auto path = text(reader_, entry);
  if (!path) return;
  plugin.path_mark = reader_.value_mark(entry);
  std::filesystem::path resolved(*path);
  if (resolved.is_relative()) resolved = base_dir_ / resolved;
  plugin.path = resolved.lexically_normal().string();
}

void ConfigParser::parse_listener(const YAML::Node& item) {
  if (!item.IsMap()) {
    reader_.error(reader_.mark(item),
                  "a listener must be a map with name, address and plugin, got " + describe(item));
    return;
  }
  ListenerDraft listener;
  apply_defaults(kListenerKeys, listener);
  listener.address = reader_.mark(item);
  const std::size_t errors_before = reader_.error_count();
  const std::vector<Entry> found = read_entries(item, kListenerKeys, "listener ", listener);
  const std::string& name = listener.config.name;
  require(found, item, kListenerKeys, name.empty() ? "a listener" : "listener " + squote(name));
  if (!name.empty()) {
    const auto [first, inserted] = listener_names_.emplace(name, reader_.mark(item));
    if (!inserted) {
      reader_.error(reader_.mark(item), "duplicate listener name " + squote(name) +
                                            " (first at line " +
                                            std::to_string(first->second.line) + ")");
    }
  }
  if (reader_.error_count() != errors_before) return;
  config_.runtime.listeners.push_back(std::move(listener.config));
  config_.listener_marks.push_back(reader_.mark(item));
  config_.listener_address_marks.push_back(listener.address);
}

void ConfigParser::address(const Entry& entry, ListenerDraft& listener) {
  const auto text_value = text(reader_, entry);
  if (!text_value) return;
  listener.address = reader_.value_mark(entry);
  std::string canonical, problem;
  if (!split_address(*text_value, canonical, problem)) {
    reader_.error(listener.address, "bad address " + squote(*text_value) + ": " + problem);
    return;
  }
  listener.config.address = *text_value;
  const bool any_port = canonical.ends_with(":0");
  const auto [first, inserted] = listener_addresses_.emplace(canonical, listener.config.name);
  if (!any_port && !inserted) {
    reader_.error(listener.address,
                  "address " + squote(*text_value) + " is already used by another listener");
  }
}

void ConfigParser::listener_plugin(const Entry& entry, ListenerDraft& listener) {
  const auto plugin = text(reader_, entry);
  if (!plugin) return;
  listener.config.plugin = *plugin;
  if (plugin_lines_.count(*plugin)) return;
  std::vector<std::string> names;
  for (const auto& [name, line] : plugin_lines_) names.push_back(name);
  reader_.error(
      reader_.value_mark(entry),
      "no plugin named " + squote(*plugin) +
          (names.empty() ? " (the configuration defines no plugins)" : suggestion(*plugin, names)));
}

}  // namespace chronos::config
