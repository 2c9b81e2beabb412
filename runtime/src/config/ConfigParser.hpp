// The configuration parser: walks the YAML document (yaml-cpp) with the key tables, into a
// chronos::Config, collecting every error with its position instead of stopping at the first.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/ConfigKeys.hpp"
#include "config/Reader.hpp"

namespace chronos::config {

class ConfigParser {
 public:
  explicit ConfigParser(std::string file);

  ConfigResult run(const std::string& text);

  Reader& reader() { return reader_; }

  // The values the tables' rows hand over because they need more of the document than a value.
  void log(const Entry& entry, Config& config);
  void plugins(const Entry& entry);
  void listeners(const Entry& entry);
  void plugin_path(const Entry& entry, PluginConfig& plugin);
  void address(const Entry& entry, ListenerDraft& listener);
  void listener_plugin(const Entry& entry, ListenerDraft& listener);

 private:
  template <class Target>
  void apply_defaults(KeyTable<Target> table, Target& target);
  template <class Target>
  std::vector<Entry> read_entries(const YAML::Node& map, KeyTable<Target> table,
                                  const std::string& context, Target& target);
  std::vector<Entry> entries(const YAML::Node& map, const std::vector<std::string>& known,
                             const std::string& context);
  template <class Target>
  void require(const std::vector<Entry>& found, const YAML::Node& item, KeyTable<Target> table,
               const std::string& what);
  std::optional<YAML::Node> sequence(const Entry& entry);

  void parse_document(const YAML::Node& root);
  void parse_plugin(const YAML::Node& item);
  void parse_listener(const YAML::Node& item);

  Reader reader_;
  std::filesystem::path base_dir_;
  Config config_;
  // The `plugins:` and `listeners:` lists, read after the rest: plugins first, so that a
  // listener can name one whatever the file's order.
  std::optional<YAML::Node> plugin_list_;
  std::optional<YAML::Node> listener_list_;
  // Every named plugin, valid or not (so a listener naming a broken plugin gets no extra error).
  std::map<std::string, int> plugin_lines_;
  std::map<std::string, SourceMark> listener_names_;
  std::map<std::string, std::string> listener_addresses_;  // canonical address → listener
};

}  // namespace chronos::config
