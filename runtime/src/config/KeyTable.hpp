// A table of the keys a configuration map may hold: the one place a key is declared. Its row
// drives the parser (which keys exist, which are required, how a value is read), the
// unknown-key message (the names to suggest from), the defaults (a key left out reads as its
// default text would) and the restart diff (the keys a reload cannot apply, and how they show).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chronos::config {

class ConfigParser;
struct Entry;

enum KeyFlags : unsigned {
  kOptional = 0,
  kRequired = 1u << 0,  // an entry without it is an error
  kRestart = 1u << 1,   // a change takes effect only after a restart: reload warns
};

template <class Target>
struct Key {
  std::string_view name;
  unsigned flags = kOptional;
  // The value a key left out has, as YAML text read by `parse`; empty for "none" (required keys,
  // or a setting whose absence means something of its own).
  std::string_view default_yaml;
  // Reads the entry's value into the target, reporting what is wrong through the parser.
  void (*parse)(ConfigParser& parser, const Entry& entry, Target& target) = nullptr;
  // For kRestart keys: the value as the user would write it, to compare and to show.
  std::string (*show)(const Target& target) = nullptr;
};

template <class Target>
using KeyTable = std::span<const Key<Target>>;

template <class Target>
std::vector<std::string> names_of(KeyTable<Target> table) {
  std::vector<std::string> names;
  for (const auto& key : table) names.emplace_back(key.name);
  return names;
}

template <class Target>
const Key<Target>* find_key(KeyTable<Target> table, std::string_view name) {
  for (const auto& key : table) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

}  // namespace chronos::config
