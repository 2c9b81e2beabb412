// A plugin's `config:` map as the compact JSON text its init receives.
#pragma once

#include "config/Reader.hpp"

namespace chronos::config {

// The `config` key of a plugin: its mark, and its map as JSON (absent or empty: "{}").
void parse_plugin_config(Reader& reader, const Entry& entry, PluginConfig& plugin);

}  // namespace chronos::config
