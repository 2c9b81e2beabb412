// The configuration's keys: the top level, `log:`, each plugin and each listener. These four
// tables are the only place a key is declared; adding one is a row here plus its validation.
#pragma once

#include "chronos/Config.hpp"
#include "config/KeyTable.hpp"

namespace chronos::config {

// A listener as it is read: its settings, and its `address:` value's mark (bind failures go
// there; the entry's own mark until the address is read).
struct ListenerDraft {
  ListenerConfig config;
  SourceMark address;
};

extern const KeyTable<Config> kTopKeys;
extern const KeyTable<Config> kLogKeys;
extern const KeyTable<PluginConfig> kPluginKeys;
extern const KeyTable<ListenerDraft> kListenerKeys;

}  // namespace chronos::config
